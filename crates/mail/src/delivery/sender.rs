//! 送信者の設定 (sender settings): each municipality's From address,
//! display name, optional Reply-To and its own limit of messages per
//! minute (`mail_sender_settings`). Whatever a municipality leaves blank
//! is the default: the deployment's `mail.from`, the municipality's name,
//! no Reply-To, the deployment's `mail.per_minute`. A municipality may
//! only lower the deployment's limit. Delivery reads the settings at the
//! start of every run ([`Sender`]), so a change reaches every server's
//! next run.

use kernel::audit::{self, AuditEntry};
use kernel::auth::SystemAdmin;
use kernel::web::FormErrors;
use kernel::{AppResult, Db};
use lettre::message::dkim::DkimConfig;
use lettre::message::{Mailbox, Mailboxes};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

/// The longest display name.
pub const NAME_MAX: usize = 100;
/// The highest limit a municipality may set when the deployment has none.
pub const PER_MINUTE_MAX: i64 = 1_000_000;

/// What the deployment's configuration gives every municipality.
#[derive(Clone, Debug)]
pub struct Defaults {
    /// `mail.from`.
    pub from: String,
    /// `mail.per_minute` (0: no limit).
    pub per_minute: u32,
    /// `mail.dkim_domain`, when DKIM signing is configured.
    pub dkim_domain: Option<String>,
}

impl Defaults {
    /// The highest limit a municipality may set.
    pub fn per_minute_max(&self) -> i64 {
        if self.per_minute == 0 {
            PER_MINUTE_MAX
        } else {
            i64::from(self.per_minute)
        }
    }
}

/// A municipality's own settings; `None` is the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub from_address: Option<String>,
    pub display_name: Option<String>,
    pub reply_to: Option<String>,
    pub per_minute: Option<i64>,
}

/// How one run sends for a municipality.
#[derive(Clone, Debug)]
pub struct Sender {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// The From address's domain: Message-IDs are made in it.
    pub domain: String,
    /// Messages per minute (0: no limit).
    pub per_minute: u32,
}

/// The stored settings of `tenant` (all defaults without a row).
pub async fn load(db: &Db, tenant: &str) -> AppResult<Settings> {
    let row = sqlx::query(
        "SELECT from_address, display_name, reply_to, per_minute \
         FROM mail_sender_settings WHERE tenant = $1",
    )
    .bind(tenant)
    .fetch_optional(db.read())
    .await?;
    Ok(row.map_or_else(Settings::default, |r| Settings {
        from_address: r.get(0),
        display_name: r.get(1),
        reply_to: r.get(2),
        per_minute: r.get(3),
    }))
}

/// The sender `settings` make of the defaults, with the municipality's
/// name `tenant_name` as the default display name.
pub fn effective(
    settings: &Settings,
    defaults: &Defaults,
    tenant_name: Option<String>,
) -> anyhow::Result<Sender> {
    let address = settings.from_address.as_deref().unwrap_or(&defaults.from);
    let from = Mailbox::new(
        settings.display_name.clone().or(tenant_name),
        address
            .parse()
            .map_err(|e| anyhow::anyhow!("From {address}: {e}"))?,
    );
    let reply_to = match &settings.reply_to {
        Some(r) => Some(Mailbox::new(
            None,
            r.parse()
                .map_err(|e| anyhow::anyhow!("Reply-To {r}: {e}"))?,
        )),
        None => None,
    };
    let per_minute = match (settings.per_minute, defaults.per_minute) {
        (Some(own), 0) => u32::try_from(own).unwrap_or(u32::MAX),
        (Some(own), deployment) => u32::try_from(own).unwrap_or(u32::MAX).min(deployment),
        (None, deployment) => deployment,
    };
    Ok(Sender {
        domain: super::transport::domain_of(address),
        from,
        reply_to,
        per_minute,
    })
}

/// The message `row` becomes from `sender`: From and Message-ID as
/// [`super::transport::message`] makes them, the Reply-To when the
/// municipality set one, then the DKIM signature over it all.
pub fn message(
    sender: &Sender,
    row: &super::store::Claimed,
    dkim: Option<&DkimConfig>,
) -> anyhow::Result<lettre::Message> {
    let mut msg = super::transport::message(&sender.from, row, None)?;
    if let Some(r) = &sender.reply_to {
        msg.headers_mut()
            .set(lettre::message::header::ReplyTo::from(Mailboxes::from(
                r.clone(),
            )));
    }
    if let Some(d) = dkim {
        msg.sign(d);
    }
    Ok(msg)
}

/// The settings form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub from_address: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub reply_to: String,
    #[serde(default)]
    pub per_minute: String,
}

impl SettingsForm {
    /// The form showing `s` (blank where the default applies).
    pub fn of(s: &Settings) -> Self {
        Self {
            from_address: s.from_address.clone().unwrap_or_default(),
            display_name: s.display_name.clone().unwrap_or_default(),
            reply_to: s.reply_to.clone().unwrap_or_default(),
            per_minute: s.per_minute.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

/// A mail address for a header: what residents' mail programs and the
/// SMTP server accept.
fn address(raw: &str) -> Option<String> {
    let e = jp::Email::parse(raw).ok()?;
    e.as_str()
        .parse::<lettre::Address>()
        .ok()
        .map(|_| e.as_str().to_string())
}

/// Whether `domain` is `dkim` or below it (DMARC's relaxed alignment).
fn aligned(domain: &str, dkim: &str) -> bool {
    let (d, k) = (domain.to_ascii_lowercase(), dkim.to_ascii_lowercase());
    d == k || d.ends_with(&format!(".{k}"))
}

fn whole_number(raw: &str) -> Option<i64> {
    let digits: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    digits.parse().ok()
}

/// Reads the form: every mistake named by its field, in Japanese.
pub fn parse(form: &SettingsForm, defaults: &Defaults) -> Result<Settings, FormErrors> {
    let mut errors = FormErrors::default();
    let blank = |s: &str| s.trim().is_empty();
    let from_address = if blank(&form.from_address) {
        None
    } else {
        match address(&form.from_address) {
            None => {
                errors.push(
                    "from_address",
                    format!(
                        "送信元のメールアドレス「{}」はメールアドレスとして正しくありません（例: info@city.example.lg.jp）。",
                        form.from_address.trim()
                    ),
                );
                None
            }
            Some(a) => {
                let domain = super::transport::domain_of(&a);
                match &defaults.dkim_domain {
                    Some(dkim) if !aligned(&domain, dkim) => {
                        errors.push(
                            "from_address",
                            format!(
                                "送信元のメールアドレスのドメイン（{domain}）が DKIM の署名ドメイン（{dkim}）と違います。このままでは DKIM の整合（アラインメント）が取れず、受信側で迷惑メールやなりすましと判定されます。{dkim} またはそのサブドメインのアドレスにしてください。"
                            ),
                        );
                        None
                    }
                    _ => Some(a),
                }
            }
        }
    };
    let name = form.display_name.trim();
    let display_name = if name.is_empty() {
        None
    } else if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        errors.push(
            "display_name",
            format!("差出人名は{NAME_MAX}文字以内で、改行を含めずに入力してください。"),
        );
        None
    } else {
        Some(name.to_string())
    };
    let reply_to = if blank(&form.reply_to) {
        None
    } else {
        let a = address(&form.reply_to);
        if a.is_none() {
            errors.push(
                "reply_to",
                format!(
                    "返信先のメールアドレス「{}」はメールアドレスとして正しくありません。",
                    form.reply_to.trim()
                ),
            );
        }
        a
    };
    let max = defaults.per_minute_max();
    let per_minute = if blank(&form.per_minute) {
        None
    } else {
        match whole_number(&form.per_minute) {
            Some(n) if (1..=max).contains(&n) => Some(n),
            _ => {
                let limit = if defaults.per_minute == 0 {
                    String::new()
                } else {
                    format!("この配置の上限（{max}通）を超える値は設定できません。")
                };
                errors.push(
                    "per_minute",
                    format!("1分あたりの送信数は1から{max}までの整数で入力してください。{limit}"),
                );
                None
            }
        }
    };
    if errors.is_empty() {
        Ok(Settings {
            from_address,
            display_name,
            reply_to,
            per_minute,
        })
    } else {
        Err(errors)
    }
}

/// Stores the settings (the system administrator), audited with what
/// they were and what they are.
pub async fn save(db: &Db, admin: &SystemAdmin, new: &Settings, now: i64) -> AppResult<()> {
    let before = load(db, &admin.tenant).await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO mail_sender_settings \
         (tenant, from_address, display_name, reply_to, per_minute, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant) DO UPDATE SET from_address = $2, display_name = $3, \
         reply_to = $4, per_minute = $5, updated_by = $6, updated_at = $7",
    )
    .bind(admin.tenant.as_str())
    .bind(new.from_address.as_deref())
    .bind(new.display_name.as_deref())
    .bind(new.reply_to.as_deref())
    .bind(new.per_minute)
    .bind(admin.id.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &admin.tenant,
        now,
        &[
            AuditEntry::new(admin.actor(), "mail.sender.settings", &admin.tenant)
                .detail(json!({"before": before, "after": new})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(per_minute: u32, dkim: Option<&str>) -> Defaults {
        Defaults {
            from: "noreply@madoguchi.example.jp".into(),
            per_minute,
            dkim_domain: dkim.map(String::from),
        }
    }

    fn form(from: &str, name: &str, reply: &str, n: &str) -> SettingsForm {
        SettingsForm {
            from_address: from.into(),
            display_name: name.into(),
            reply_to: reply.into(),
            per_minute: n.into(),
        }
    }

    #[test]
    fn blank_is_the_default() {
        let s = parse(&form(" ", "", "", ""), &defaults(60, None)).unwrap();
        assert_eq!(s, Settings::default());
        let sender = effective(&s, &defaults(60, None), Some("四街道市".into())).unwrap();
        assert_eq!(
            sender.from.to_string(),
            "四街道市 <noreply@madoguchi.example.jp>"
        );
        assert_eq!(sender.domain, "madoguchi.example.jp");
        assert_eq!(sender.per_minute, 60);
        assert!(sender.reply_to.is_none());
    }

    #[test]
    fn own_values_are_used() {
        let s = parse(
            &form(
                "info@city.yotsukaido.example.jp",
                "四街道市 広報",
                "kouhou@city.yotsukaido.example.jp",
                "３０",
            ),
            &defaults(60, None),
        )
        .unwrap();
        let sender = effective(&s, &defaults(60, None), Some("四街道市".into())).unwrap();
        assert_eq!(
            sender.from.email.to_string(),
            "info@city.yotsukaido.example.jp"
        );
        assert_eq!(sender.from.name.as_deref(), Some("四街道市 広報"));
        assert_eq!(sender.domain, "city.yotsukaido.example.jp");
        assert_eq!(sender.per_minute, 30);
        assert!(sender.reply_to.is_some());
    }

    #[test]
    fn the_limit_may_only_be_lowered() {
        let e = parse(&form("", "", "", "61"), &defaults(60, None)).unwrap_err();
        assert!(
            e.get("per_minute").contains("1から60まで"),
            "{}",
            e.get("per_minute")
        );
        assert!(parse(&form("", "", "", "0"), &defaults(60, None)).is_err());
        assert!(parse(&form("", "", "", "1.5"), &defaults(60, None)).is_err());
        assert_eq!(
            parse(&form("", "", "", "60"), &defaults(60, None))
                .unwrap()
                .per_minute,
            Some(60)
        );
        // No limit in the deployment: any limit up to the maximum.
        assert!(parse(&form("", "", "", "5000"), &defaults(0, None)).is_ok());
        // A deployment lowered after the city set its own: the lower wins.
        let s = Settings {
            per_minute: Some(100),
            ..Settings::default()
        };
        assert_eq!(
            effective(&s, &defaults(10, None), None).unwrap().per_minute,
            10
        );
        assert_eq!(
            effective(&s, &defaults(0, None), None).unwrap().per_minute,
            100
        );
    }

    #[test]
    fn addresses_are_checked() {
        let e = parse(&form("info@", "", "no address", ""), &defaults(60, None)).unwrap_err();
        assert!(e
            .get("from_address")
            .contains("送信元のメールアドレス「info@」"));
        assert!(e
            .get("reply_to")
            .contains("返信先のメールアドレス「no address」"));
        let e = parse(&form("", "名前\n改行", "", ""), &defaults(60, None)).unwrap_err();
        assert!(e.get("display_name").contains("差出人名"));
    }

    #[test]
    fn dkim_alignment() {
        let d = defaults(60, Some("city.example.jp"));
        assert!(parse(&form("info@city.example.jp", "", "", ""), &d).is_ok());
        assert!(parse(&form("info@mail.city.example.jp", "", "", ""), &d).is_ok());
        let e = parse(&form("info@other.example.jp", "", "", ""), &d).unwrap_err();
        assert!(
            e.get("from_address").contains("DKIM の整合"),
            "{}",
            e.get("from_address")
        );
        // A look-alike is no subdomain.
        assert!(parse(&form("info@badcity.example.jp", "", "", ""), &d).is_err());
    }
}
