//! The bundled payment simulator: a stand-in for a card or QR-code
//! provider, so the whole path (pay page → provider → webhook → result)
//! runs on a developer's machine and in tests. No money moves. Its pages
//! say SIMULATOR plainly, and it refuses to start in production mode
//! ([`Simulator::start`]).
//!
//! It keeps its payments in `payment_simulator` (what a real provider
//! keeps on its side) and signs its webhooks with madoguchi's scheme
//! ([`crate::signature`]) under a deployment secret. When the resident
//! decides on its page, the simulator delivers the signed webhook to
//! [`crate::webhooks::receive`] in-process — the same verification and
//! the same code as a webhook arriving over HTTP — or, if asked, does not
//! deliver it (to see a payment waiting for its confirmation).

use axum::http::{HeaderMap, HeaderValue};
use jp::Yen;
use kernel::config::Mode;
use kernel::Db;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::provider::{
    BoxFuture, CreatePayment, Created, EventKind, PaymentProvider, ProviderError, ProviderStatus,
    WebhookError, WebhookEvent,
};
use crate::signature;

/// The simulator's name in paths and rows.
pub const NAME: &str = "simulator";

/// The simulator, with its webhook secret.
#[derive(Clone)]
pub struct Simulator {
    db: Db,
    secret: std::sync::Arc<[u8]>,
}

/// A webhook event as the simulator sends it (JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventBody {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub payment_id: String,
    pub amount: u64,
    /// ms since the epoch.
    pub occurred_at: i64,
}

/// A simulated payment as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPayment {
    pub id: String,
    pub amount: i64,
    pub description: String,
    pub return_path: String,
    pub state: String,
    pub refunded: i64,
}

impl Simulator {
    /// The simulator of this deployment; an error in production mode.
    pub async fn start(db: &Db, mode: Mode) -> anyhow::Result<Self> {
        if mode == Mode::Production {
            anyhow::bail!(
                "決済シミュレーターは本番モード（mode = \"production\"）では起動できません"
            );
        }
        Ok(Self {
            db: db.clone(),
            secret: kernel::secrets::load_or_create(db, "payment_simulator_webhook_key")
                .await?
                .into(),
        })
    }

    /// The signature header of `body` sent at `t` (unix seconds) to
    /// `tenant`'s webhook.
    pub fn sign(&self, tenant: &str, t: i64, body: &[u8]) -> String {
        signature::sign(&self.secret, tenant, t, body)
    }

    /// The body of an event.
    pub fn event_body(event: &EventBody) -> Vec<u8> {
        serde_json::to_vec(event).expect("event serialises")
    }

    /// A simulated payment of `tenant`.
    pub async fn payment(&self, tenant: &str, id: &str) -> Result<Option<SimPayment>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, amount, description, return_path, state, refunded FROM payment_simulator WHERE tenant = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(self.db.read())
        .await?;
        Ok(row.map(|r| SimPayment {
            id: r.get("id"),
            amount: r.get("amount"),
            description: r.get("description"),
            return_path: r.get("return_path"),
            state: r.get("state"),
            refunded: r.get("refunded"),
        }))
    }

    /// The resident decided on the simulator's page: the payment is paid
    /// or declined (once; a second decision changes nothing). Returns the
    /// signed webhook to deliver (body, header), or `None` when it was
    /// decided before.
    pub async fn decide(
        &self,
        tenant: &str,
        id: &str,
        pay: bool,
        now: i64,
    ) -> Result<Option<(Vec<u8>, HeaderMap)>, sqlx::Error> {
        let state = if pay { "paid" } else { "declined" };
        let n = sqlx::query(
            "UPDATE payment_simulator SET state = $3 WHERE tenant = $1 AND id = $2 AND state = 'pending'",
        )
        .bind(tenant)
        .bind(id)
        .bind(state)
        .execute(self.db.write())
        .await?
        .rows_affected();
        let Some(p) = self.payment(tenant, id).await? else {
            return Ok(None);
        };
        if n == 0 {
            return Ok(None);
        }
        let kind = if pay {
            EventKind::Succeeded
        } else {
            EventKind::Failed
        };
        let body = Self::event_body(&EventBody {
            id: format!("evt_{}", kernel::ids::short_id()),
            kind: kind.as_str().into(),
            payment_id: p.id,
            amount: p.amount as u64,
            occurred_at: now,
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            signature::HEADER,
            HeaderValue::from_str(&self.sign(tenant, now.div_euclid(1000), &body))
                .expect("ascii header"),
        );
        Ok(Some((body, headers)))
    }
}

impl PaymentProvider for Simulator {
    fn name(&self) -> &'static str {
        NAME
    }

    fn is_simulator(&self) -> bool {
        true
    }

    fn create<'a>(
        &'a self,
        req: &'a CreatePayment,
    ) -> BoxFuture<'a, Result<Created, ProviderError>> {
        Box::pin(async move {
            let id = format!("sim_{}", kernel::ids::short_id());
            sqlx::query(
                "INSERT INTO payment_simulator (tenant, id, amount, description, return_path, state, refunded, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6)",
            )
            .bind(&req.tenant)
            .bind(&id)
            .bind(req.amount.amount() as i64)
            .bind(&req.description)
            .bind(&req.return_path)
            .bind(kernel::clock::now_ms())
            .execute(self.db.write())
            .await
            .map_err(|e| ProviderError::Other(e.into()))?;
            Ok(Created {
                redirect_url: format!("/t/{}/payments/simulator/{id}", req.tenant),
                provider_payment_id: id,
            })
        })
    }

    fn verify_webhook(
        &self,
        tenant: &str,
        headers: &HeaderMap,
        body: &[u8],
        now_ms: i64,
    ) -> Result<WebhookEvent, WebhookError> {
        signature::verify(&self.secret, tenant, headers, body, now_ms)?;
        let e: EventBody =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let kind = EventKind::parse(&e.kind)
            .ok_or_else(|| WebhookError::Malformed(format!("type {}", e.kind)))?;
        if e.id.is_empty() || e.payment_id.is_empty() || e.amount == 0 {
            return Err(WebhookError::Malformed("id, payment_id and amount".into()));
        }
        Ok(WebhookEvent {
            event_id: e.id,
            kind,
            provider_payment_id: e.payment_id,
            amount: e.amount,
            occurred_at: e.occurred_at,
        })
    }

    fn refund<'a>(
        &'a self,
        tenant: &'a str,
        provider_payment_id: &'a str,
        amount: Yen,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let n = sqlx::query(
                "UPDATE payment_simulator SET refunded = refunded + $3 WHERE tenant = $1 AND id = $2 AND state = 'paid' AND refunded + $3 <= amount",
            )
            .bind(tenant)
            .bind(provider_payment_id)
            .bind(amount.amount() as i64)
            .execute(self.db.write())
            .await
            .map_err(|e| ProviderError::Other(e.into()))?
            .rows_affected();
            if n == 0 {
                return Err(ProviderError::Refused(
                    "not paid, or more than was paid".into(),
                ));
            }
            Ok(format!("sim_refund_{}", kernel::ids::short_id()))
        })
    }

    fn status<'a>(
        &'a self,
        tenant: &'a str,
        provider_payment_id: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(async move {
            let p = self
                .payment(tenant, provider_payment_id)
                .await
                .map_err(|e| ProviderError::Other(e.into()))?
                .ok_or(ProviderError::UnknownPayment)?;
            Ok(match p.state.as_str() {
                "paid" if p.refunded >= p.amount => ProviderStatus::Refunded,
                "paid" => ProviderStatus::Succeeded,
                "declined" => ProviderStatus::Failed,
                _ => ProviderStatus::Pending,
            })
        })
    }
}
