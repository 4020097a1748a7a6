//! Online payments (オンライン決済): each attempt to pay a charge through a
//! provider, and the resident's access code.
//!
//! An attempt is `created` when the resident is sent to the provider and
//! becomes `succeeded` or `failed` only through a verified webhook
//! ([`crate::webhooks`]): the result page shows what this row says, never
//! what the browser's return suggests.
//!
//! The payment page of a charge is reached by its 納付番号 and an access
//! code (確認コード, [`access_code`]) printed beside it on the slip or in
//! the mail: the number alone (which runs in sequence) shows nothing.

use kernel::db::Tx;
use sqlx::Row;

use crate::charges::Charge;
use crate::provider::{CreatePayment, PaymentProvider, ProviderError};

/// Where an attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnlineState {
    /// Sent to the provider; nothing confirmed yet.
    Created,
    /// The provider's verified webhook said it was paid.
    Succeeded,
    /// The provider's verified webhook said it failed.
    Failed,
}

impl OnlineState {
    pub fn as_str(self) -> &'static str {
        match self {
            OnlineState::Created => "created",
            OnlineState::Succeeded => "succeeded",
            OnlineState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            OnlineState::Created,
            OnlineState::Succeeded,
            OnlineState::Failed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// An attempt as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlinePayment {
    pub tenant: String,
    pub id: String,
    pub charge_id: String,
    pub provider: String,
    pub provider_payment_id: String,
    pub amount: i64,
    pub state: OnlineState,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "tenant, id, charge_id, provider, provider_payment_id, amount, state, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> OnlinePayment {
    OnlinePayment {
        tenant: r.get("tenant"),
        id: r.get("id"),
        charge_id: r.get("charge_id"),
        provider: r.get("provider"),
        provider_payment_id: r.get("provider_payment_id"),
        amount: r.get("amount"),
        state: OnlineState::parse(&r.get::<String, _>("state")).unwrap_or(OnlineState::Created),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

/// Why an attempt could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("nothing is owed on this charge")]
    NotPayable,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Asks `provider` for a payment of what `charge` still owes and records
/// the attempt; the attempt and the provider's page to send the resident
/// to. `return_path` gets the attempt's id appended.
pub async fn start(
    db: &kernel::Db,
    provider: &dyn PaymentProvider,
    charge: &Charge,
    return_path: &str,
    now: i64,
) -> Result<(OnlinePayment, String), StartError> {
    let owed = charge.outstanding();
    if !charge.status.is_payable() || owed <= 0 {
        return Err(StartError::NotPayable);
    }
    let amount = jp::Yen::new(owed as u64).map_err(|_| StartError::NotPayable)?;
    let id = kernel::ids::short_id();
    let created = provider
        .create(&CreatePayment {
            tenant: charge.tenant.clone(),
            online_id: id.clone(),
            payment_number: charge.payment_number.clone(),
            amount,
            description: format!("{} {}", charge.subject_label, charge.period_label),
            return_path: format!("{return_path}/{id}"),
        })
        .await?;
    sqlx::query(
        "INSERT INTO payment_online (tenant, id, charge_id, provider, provider_payment_id, amount, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'created', $7, $7)",
    )
    .bind(&charge.tenant)
    .bind(&id)
    .bind(&charge.id)
    .bind(provider.name())
    .bind(&created.provider_payment_id)
    .bind(owed)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok((
        OnlinePayment {
            tenant: charge.tenant.clone(),
            id,
            charge_id: charge.id.clone(),
            provider: provider.name().to_string(),
            provider_payment_id: created.provider_payment_id,
            amount: owed,
            state: OnlineState::Created,
            created_at: now,
            updated_at: now,
        },
        created.redirect_url,
    ))
}

/// The attempt `id` of `tenant`.
pub async fn get<'e, E>(ex: E, tenant: &str, id: &str) -> Result<Option<OnlinePayment>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_online WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The attempt a provider knows as `provider_payment_id`.
pub async fn by_provider_id(
    tx: &mut Tx,
    tenant: &str,
    provider: &str,
    provider_payment_id: &str,
) -> Result<Option<OnlinePayment>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_online WHERE tenant = $1 AND provider = $2 AND provider_payment_id = $3"
    ))
    .bind(tenant)
    .bind(provider)
    .bind(provider_payment_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// Moves an attempt from `created` to `state`. A success also moves a
/// failed attempt (a provider may report a decline, then the payment that
/// went through after it); nothing moves a succeeded one back.
pub async fn settle(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    state: OnlineState,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let from = if state == OnlineState::Succeeded {
        "('created', 'failed')"
    } else {
        "('created')"
    };
    let n = sqlx::query(&format!(
        "UPDATE payment_online SET state = $3, updated_at = $4 WHERE tenant = $1 AND id = $2 AND state IN {from}"
    ))
    .bind(tenant)
    .bind(id)
    .bind(state.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The key of access codes (a deployment secret).
#[derive(Clone)]
pub struct AccessKey(pub std::sync::Arc<[u8]>);

impl AccessKey {
    pub async fn load(db: &kernel::Db) -> anyhow::Result<Self> {
        Ok(Self(
            kernel::secrets::load_or_create(db, "payment_access_key")
                .await?
                .into(),
        ))
    }
}

/// The access code (確認コード) of a charge: 12 characters (48 bits) from
/// an HMAC of the municipality and the 納付番号, printed in groups of
/// four (`7F3A-09C2-D41B`).
pub fn access_code(key: &AccessKey, tenant: &str, payment_number: &str) -> String {
    let mac = kernel::crypto::hmac_sha256(&key.0, format!("{tenant}:{payment_number}").as_bytes());
    hex::encode_upper(&mac[..6])
}

/// `7F3A-09C2-D41B`.
pub fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether `typed` (any case, hyphens, spaces and full width allowed) is
/// the access code of the charge (compared in constant time).
pub fn code_matches(key: &AccessKey, tenant: &str, payment_number: &str, typed: &str) -> bool {
    let typed: String = jp::fold_width(typed)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    kernel::crypto::constant_time_eq(&typed, &access_code(key, tenant, payment_number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_per_municipality_and_number_and_read_loosely() {
        let key = AccessKey(std::sync::Arc::from(&b"k"[..]));
        let a = access_code(&key, "122289", "26000000011");
        assert_eq!(a.len(), 12);
        assert_ne!(a, access_code(&key, "242021", "26000000011"));
        assert_ne!(a, access_code(&key, "122289", "26000000028"));
        let typed = grouped(&a).to_ascii_lowercase();
        assert!(code_matches(&key, "122289", "26000000011", &typed));
        assert!(!code_matches(&key, "242021", "26000000011", &typed));
        assert!(!code_matches(&key, "122289", "26000000011", ""));
    }
}
