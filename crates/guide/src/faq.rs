//! The FAQ store (よくある質問) and, in the same store, the staff's
//! internal know-how (ナレッジ): entries seen only by signed-in staff of
//! the tenant. Every save writes a new version and keeps the old ones, so
//! a staff edit can be undone; "was this helpful" votes are kept one per
//! entry per browser.

use kernel::audit::{self, AuditEntry};
use kernel::db::Db;
use kernel::i18n::{self, Lang, Text};
use kernel::{AppError, AppResult, FieldError};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// Categories of the FAQ, in the order the list shows them. Their names
/// are UI strings (`faq.category.<code>`), so every language has them.
pub const CATEGORIES: [&str; 10] = [
    "certificates",
    "moving",
    "mynumber",
    "tax",
    "waste",
    "children",
    "health",
    "counter",
    "online",
    "other",
];

pub const MAX_QUESTION: usize = 200;
pub const MAX_ANSWER: usize = 4000;
pub const MAX_PROCEDURES: usize = 10;

/// Who may read an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Residents, the public API and staff.
    Public,
    /// ナレッジ: signed-in staff of the tenant only.
    Staff,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "public" => Some(Audience::Public),
            "staff" => Some(Audience::Staff),
            _ => None,
        }
    }
}

fn published_default() -> bool {
    true
}

/// One entry as staff write it. Question and answer are plain text (no
/// HTML); paragraphs are separated by an empty line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    pub question: Text,
    pub answer: Text,
    /// One of [`CATEGORIES`].
    pub category: String,
    /// The department that answers for it (and may edit it).
    pub department: String,
    /// Ids of related procedures in the tenant's catalogue.
    #[serde(default)]
    pub procedures: Vec<String>,
    pub audience: Audience,
    #[serde(default = "published_default")]
    pub published: bool,
}

/// What [`FaqEntry::check`] compares against: the tenant's departments and
/// procedure ids.
pub struct Known<'a> {
    pub departments: &'a [String],
    pub procedures: &'a [String],
}

/// Characters staff text may not hold: controls other than line breaks and
/// tabs.
fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

/// Text that looks like an HTML tag (`<p>`, `</div>`, `<!--`): the FAQ is
/// plain text, so it is refused with a message rather than shown as markup.
fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
}

impl FaqEntry {
    /// Every problem, each naming its field, in `lang`.
    pub fn check(&self, known: &Known, lang: Lang) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut push = |field: String, key: &str, args: &[(&str, &str)]| {
            errors.push(FieldError {
                field,
                message: i18n::tf(lang, key, args),
            })
        };
        for (name, text, max) in [
            ("question", &self.question, MAX_QUESTION),
            ("answer", &self.answer, MAX_ANSWER),
        ] {
            let label = i18n::t(lang, &format!("faq.field.{name}"));
            for l in Lang::ALL {
                let Some(v) = text.get_exact(l.code()) else {
                    continue;
                };
                let field = format!("{name}_{}", l.code());
                let label = format!("{label}（{}）", l.native_name());
                let max = l.length_limit(max);
                let max_s = max.to_string();
                let len = v.chars().count().to_string();
                if l == Lang::Ja && v.trim().is_empty() {
                    push(field, "form.required", &[("field", &label)]);
                } else if v.chars().count() > max {
                    push(
                        field,
                        "form.too_long",
                        &[("field", &label), ("max", &max_s), ("actual", &len)],
                    );
                } else if has_control(v) {
                    push(field, "form.control_chars", &[("field", &label)]);
                } else if looks_like_html(v) {
                    push(field, "faq.error.html", &[("field", &label)]);
                }
            }
        }
        if !CATEGORIES.contains(&self.category.as_str()) {
            push("category".into(), "faq.error.category", &[]);
        }
        if !known.departments.contains(&self.department) {
            push("department".into(), "faq.error.department", &[]);
        }
        if self.procedures.len() > MAX_PROCEDURES {
            let max = MAX_PROCEDURES.to_string();
            push(
                "procedures".into(),
                "faq.error.too_many_procedures",
                &[("max", &max)],
            );
        }
        for (i, p) in self.procedures.iter().enumerate() {
            if !known.procedures.contains(p) {
                push("procedures".into(), "faq.error.procedure", &[("id", p)]);
            } else if self.procedures[..i].contains(p) {
                push(
                    "procedures".into(),
                    "faq.error.procedure_twice",
                    &[("id", p)],
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An entry as stored, with its votes.
#[derive(Clone, Debug, Serialize)]
pub struct StoredFaq {
    pub id: i64,
    pub entry: FaqEntry,
    pub version: i64,
    pub updated_at: i64,
    pub updated_by: String,
    pub helpful: i64,
    pub not_helpful: i64,
}

impl StoredFaq {
    /// Residents (and the API without staff sign-in) see it.
    pub fn is_public(&self) -> bool {
        self.entry.audience == Audience::Public && self.entry.published
    }
}

/// Which entries a list returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Published public entries: what residents see.
    Public,
    /// Published staff-only entries: the knowledge section.
    Knowledge,
    /// Everything, unpublished too: the back office.
    All,
}

fn parse_body(body: &str) -> AppResult<FaqEntry> {
    serde_json::from_str(body).map_err(|e| AppError::Internal(anyhow::anyhow!("stored FAQ: {e}")))
}

const SELECT: &str = "SELECT e.id, e.body, e.version, e.updated_at, e.updated_by,
    (SELECT COUNT(*) FROM faq_votes v WHERE v.tenant = e.tenant AND v.id = e.id AND v.helpful = 1),
    (SELECT COUNT(*) FROM faq_votes v WHERE v.tenant = e.tenant AND v.id = e.id AND v.helpful = 0)
  FROM faq_entries e";

fn stored(r: &sqlx::any::AnyRow) -> AppResult<StoredFaq> {
    Ok(StoredFaq {
        id: r.get(0),
        entry: parse_body(&r.get::<String, _>(1))?,
        version: r.get(2),
        updated_at: r.get(3),
        updated_by: r.get(4),
        helpful: r.get(5),
        not_helpful: r.get(6),
    })
}

fn category_rank(c: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|x| *x == c)
        .unwrap_or(CATEGORIES.len())
}

/// The tenant's entries in `scope`, by category then id.
pub async fn list(db: &Db, tenant: &str, scope: Scope) -> AppResult<Vec<StoredFaq>> {
    let sql = match scope {
        Scope::Public => {
            format!("{SELECT} WHERE e.tenant = $1 AND e.audience = 'public' AND e.published = 1")
        }
        Scope::Knowledge => {
            format!("{SELECT} WHERE e.tenant = $1 AND e.audience = 'staff' AND e.published = 1")
        }
        Scope::All => format!("{SELECT} WHERE e.tenant = $1"),
    };
    let rows = sqlx::query(&sql).bind(tenant).fetch_all(db.read()).await?;
    let mut items = rows.iter().map(stored).collect::<AppResult<Vec<_>>>()?;
    items.sort_by_key(|s| (category_rank(&s.entry.category), s.id));
    Ok(items)
}

/// One entry whatever its audience; callers decide who may see it.
pub async fn get(db: &Db, tenant: &str, id: i64) -> AppResult<StoredFaq> {
    let sql = format!("{SELECT} WHERE e.tenant = $1 AND e.id = $2");
    let r = sqlx::query(&sql)
        .bind(tenant)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(AppError::NotFound("faq"))?;
    stored(&r)
}

/// A public, published entry (for residents and the public API): anything
/// else is "not found", so staff-only entries are not even confirmed to exist.
pub async fn get_public(db: &Db, tenant: &str, id: i64) -> AppResult<StoredFaq> {
    let s = get(db, tenant, id).await?;
    if s.is_public() {
        Ok(s)
    } else {
        Err(AppError::NotFound("faq"))
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    pub version: i64,
    pub saved_at: i64,
    pub saved_by: String,
}

pub async fn history(db: &Db, tenant: &str, id: i64) -> AppResult<Vec<VersionInfo>> {
    let rows = sqlx::query(
        "SELECT version, saved_at, saved_by FROM faq_versions WHERE tenant = $1 AND id = $2 ORDER BY version DESC",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| VersionInfo {
            version: r.get(0),
            saved_at: r.get(1),
            saved_by: r.get(2),
        })
        .collect())
}

pub async fn get_version(db: &Db, tenant: &str, id: i64, version: i64) -> AppResult<FaqEntry> {
    let r =
        sqlx::query("SELECT body FROM faq_versions WHERE tenant = $1 AND id = $2 AND version = $3")
            .bind(tenant)
            .bind(id)
            .bind(version)
            .fetch_optional(db.read())
            .await?
            .ok_or(AppError::NotFound("faq"))?;
    parse_body(&r.get::<String, _>(0))
}

/// What the checks compare against, read from the tenant's data.
pub struct KnownOwned {
    pub departments: Vec<String>,
    pub procedures: Vec<String>,
}

impl KnownOwned {
    pub async fn load(db: &Db, tenant: &str) -> AppResult<Self> {
        Ok(Self {
            departments: kernel::tenant::department_codes(db, tenant).await?,
            procedures: catalogue::store::list(db, tenant)
                .await?
                .into_iter()
                .map(|s| s.procedure.id)
                .collect(),
        })
    }

    pub fn known(&self) -> Known<'_> {
        Known {
            departments: &self.departments,
            procedures: &self.procedures,
        }
    }
}

async fn insert_version(
    tx: &mut kernel::db::Tx,
    tenant: &str,
    id: i64,
    version: i64,
    body: &str,
    now: i64,
    actor: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO faq_versions (tenant, id, version, body, saved_at, saved_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant)
    .bind(id)
    .bind(version)
    .bind(body)
    .bind(now)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Creates an entry (checked first), audited; returns its id.
pub async fn create(
    db: &Db,
    tenant: &str,
    e: &FaqEntry,
    actor: &str,
    lang: Lang,
) -> AppResult<i64> {
    let known = KnownOwned::load(db, tenant).await?;
    e.check(&known.known(), lang)
        .map_err(AppError::Validation)?;
    let body = serde_json::to_string(e).map_err(anyhow::Error::from)?;
    // Two editors creating at once may pick the same next id; the second
    // insert then fails on the key and tries the next one.
    for _ in 0..5 {
        let now = kernel::clock::now_ms();
        let mut tx = db.begin().await?;
        let id: i64 =
            sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM faq_entries WHERE tenant = $1")
                .bind(tenant)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
        let inserted = sqlx::query(
            "INSERT INTO faq_entries (tenant, id, audience, published, category, department, body, version, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
        )
        .bind(tenant)
        .bind(id)
        .bind(e.audience.as_str())
        .bind(i64::from(e.published))
        .bind(&e.category)
        .bind(&e.department)
        .bind(&body)
        .bind(now)
        .bind(actor)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(err) if kernel::db::is_unique_violation(&err) => {
                tx.rollback().await?;
                continue;
            }
            Err(err) => return Err(err.into()),
            Ok(_) => {}
        }
        insert_version(&mut tx, tenant, id, 1, &body, now, actor).await?;
        audit::append(
            &mut tx,
            tenant,
            now,
            &[AuditEntry::new(actor, "faq.create", format!("faq:{id}"))
                .detail(serde_json::json!({"version": 1, "audience": e.audience}))],
        )
        .await?;
        tx.commit().await?;
        return Ok(id);
    }
    Err(AppError::Conflict("version"))
}

/// Saves a new version of entry `id`. `expected_version` is the version the
/// editor started from: a stale one is a conflict, never an overwrite.
/// Returns the version now current (unchanged when nothing changed).
#[allow(clippy::too_many_arguments)]
pub async fn save(
    db: &Db,
    tenant: &str,
    id: i64,
    e: &FaqEntry,
    expected_version: i64,
    actor: &str,
    action: &'static str,
    lang: Lang,
) -> AppResult<i64> {
    let known = KnownOwned::load(db, tenant).await?;
    e.check(&known.known(), lang)
        .map_err(AppError::Validation)?;
    let body = serde_json::to_string(e).map_err(anyhow::Error::from)?;
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let row = sqlx::query("SELECT version, body FROM faq_entries WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound("faq"))?;
    let version: i64 = row.get(0);
    if version != expected_version {
        return Err(AppError::Conflict("version"));
    }
    if row.get::<String, _>(1) == body {
        return Ok(version);
    }
    let next = version + 1;
    let r = sqlx::query(
        "UPDATE faq_entries SET audience = $1, published = $2, category = $3, department = $4, body = $5,
           version = $6, updated_at = $7, updated_by = $8
         WHERE tenant = $9 AND id = $10 AND version = $11",
    )
    .bind(e.audience.as_str())
    .bind(i64::from(e.published))
    .bind(&e.category)
    .bind(&e.department)
    .bind(&body)
    .bind(next)
    .bind(now)
    .bind(actor)
    .bind(tenant)
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&r) != 1 {
        return Err(AppError::Conflict("version"));
    }
    insert_version(&mut tx, tenant, id, next, &body, now, actor).await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, action, format!("faq:{id}")).detail(serde_json::json!({
                "version": next,
                "audience": e.audience,
                "published": e.published,
            })),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Restores an earlier version as a new version (undo).
pub async fn restore(
    db: &Db,
    tenant: &str,
    id: i64,
    version: i64,
    expected_current: i64,
    actor: &str,
    lang: Lang,
) -> AppResult<i64> {
    let old = get_version(db, tenant, id, version).await?;
    save(
        db,
        tenant,
        id,
        &old,
        expected_current,
        actor,
        "faq.restore",
        lang,
    )
    .await
}

/// Records a browser's vote on a public entry; a second vote from the same
/// browser replaces its first. `voter` is already a keyed hash.
pub async fn vote(db: &Db, tenant: &str, id: i64, voter: &str, helpful: bool) -> AppResult<()> {
    get_public(db, tenant, id).await?;
    sqlx::query(
        "INSERT INTO faq_votes (tenant, id, voter, helpful, voted_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant, id, voter) DO UPDATE SET helpful = excluded.helpful, voted_at = excluded.voted_at",
    )
    .bind(tenant)
    .bind(id)
    .bind(voter)
    .bind(i64::from(helpful))
    .bind(kernel::clock::now_ms())
    .execute(db.write())
    .await?;
    Ok(())
}

/// Loads entries from a file (the demo's `faq.json`) when the tenant has
/// none yet; returns how many were created.
pub async fn import_if_empty(
    db: &Db,
    tenant: &str,
    items: &[FaqEntry],
    actor: &str,
) -> AppResult<usize> {
    let existing: i64 = sqlx::query("SELECT COUNT(*) FROM faq_entries WHERE tenant = $1")
        .bind(tenant)
        .fetch_one(db.read())
        .await?
        .get(0);
    if existing > 0 {
        return Ok(0);
    }
    for e in items {
        create(db, tenant, e, actor, Lang::Ja).await?;
    }
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> FaqEntry {
        FaqEntry {
            question: Text::new(
                "住民票はどこで取れますか",
                "Where can I get a residence certificate?",
            ),
            answer: Text::ja_only("市役所の窓口で請求できます。\n\nオンラインでも請求できます。"),
            category: "certificates".into(),
            department: "madoguchi".into(),
            procedures: vec!["juminhyo-copy".into()],
            audience: Audience::Public,
            published: true,
        }
    }

    #[test]
    fn checks_name_each_field() {
        let depts = vec!["madoguchi".to_string()];
        let procs = vec!["juminhyo-copy".to_string()];
        let known = Known {
            departments: &depts,
            procedures: &procs,
        };
        assert!(entry().check(&known, Lang::Ja).is_ok());
        let mut e = entry();
        e.answer.set("en", "<script>alert(1)</script>");
        e.procedures.push("no-such".into());
        e.procedures.push("juminhyo-copy".into());
        e.category = "nonsense".into();
        e.question.set("ja", "あ".repeat(201));
        let errs = e.check(&known, Lang::Ja).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "question_ja",
                "answer_en",
                "category",
                "procedures",
                "procedures"
            ]
        );
        assert!(errs[0].message.contains("200"), "{}", errs[0].message);
        assert!(errs[3].message.contains("no-such"));
    }

    #[test]
    fn html_is_recognised_but_comparisons_are_not() {
        assert!(looks_like_html("<p>こんにちは</p>"));
        assert!(looks_like_html("a </b"));
        assert!(!looks_like_html("3 < 5 かつ 5 > 3"));
        assert!(!looks_like_html("<1>"));
    }
}
