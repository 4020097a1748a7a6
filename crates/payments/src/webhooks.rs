//! Provider webhooks (`POST /t/{tenant}/payments/webhooks/{provider}`):
//! verified by the provider's adapter (signature and time window), then
//! applied once.
//!
//! Idempotent twice over: the event id is recorded
//! (`payment_webhook_events`), so the same event delivered again changes
//! nothing; and the money is recorded as a receipt keyed by the
//! provider's payment id ([`charges::record_receipt`]), so two different
//! events about one payment count it once. A refused webhook changes
//! nothing and is logged.

use axum::http::HeaderMap;
use jp::Yen;
use kernel::Db;

use crate::charges::{self, Channel, ChargeError, NewReceipt, Recorded};
use crate::online::{self, OnlineState};
use crate::provider::{EventKind, Providers, WebhookError, WebhookEvent};

/// What a webhook did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Applied: a payment recorded on its charge, or a failure noted.
    Applied,
    /// The event (or the payment it reports) was seen before: nothing changed.
    Duplicate,
    /// A payment no attempt of ours knows: the money is recorded as a
    /// receipt without a charge (neither lost nor counted on a charge).
    /// No page lists such receipts yet; the 消込 exception queue does
    /// not include them.
    Unmatched,
}

/// Why a webhook was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("no such provider")]
    UnknownProvider,
    #[error("refused: {0}")]
    Refused(#[from] WebhookError),
    #[error(transparent)]
    Charge(#[from] ChargeError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The source key of a provider's payment among receipts.
pub fn source_key(provider: &str, provider_payment_id: &str) -> String {
    format!("{provider}:{provider_payment_id}")
}

/// Verifies and applies one webhook request.
pub async fn receive(
    db: &Db,
    providers: &Providers,
    tenant: &str,
    provider: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Outcome, ReceiveError> {
    let p = providers
        .get(provider)
        .ok_or(ReceiveError::UnknownProvider)?;
    let event = match p.verify_webhook(tenant, headers, body, now) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(tenant, provider, error = %e, "payments: webhook refused");
            return Err(e.into());
        }
    };
    let out = apply(db, tenant, p.name(), &event, now).await;
    match &out {
        Ok(o) => {
            tracing::info!(tenant, provider, event = %event.event_id, outcome = ?o, "payments: webhook")
        }
        Err(e) => {
            tracing::error!(tenant, provider, event = %event.event_id, error = %e, "payments: webhook failed")
        }
    }
    out
}

async fn apply(
    db: &Db,
    tenant: &str,
    provider: &str,
    event: &WebhookEvent,
    now: i64,
) -> Result<Outcome, ReceiveError> {
    let mut tx = db.begin().await?;
    let fresh = sqlx::query(
        "INSERT INTO payment_webhook_events (tenant, provider, event_id, kind, provider_payment_id, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, provider, event_id) DO NOTHING",
    )
    .bind(tenant)
    .bind(provider)
    .bind(&event.event_id)
    .bind(event.kind.as_str())
    .bind(&event.provider_payment_id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if fresh == 0 {
        return Ok(Outcome::Duplicate);
    }
    let attempt =
        online::by_provider_id(&mut tx, tenant, provider, &event.provider_payment_id).await?;
    let outcome = match event.kind {
        EventKind::Failed => {
            if let Some(a) = &attempt {
                online::settle(&mut tx, tenant, &a.id, OnlineState::Failed, now).await?;
            }
            if attempt.is_some() {
                Outcome::Applied
            } else {
                Outcome::Unmatched
            }
        }
        EventKind::Succeeded => {
            let amount =
                Yen::new(event.amount).map_err(|_| WebhookError::Malformed("amount".into()))?;
            let paid_on = kernel::clock::to_jst(event.occurred_at).date();
            let recorded = charges::record_receipt(
                &mut tx,
                tenant,
                &format!("provider:{provider}"),
                &NewReceipt {
                    charge_id: attempt.as_ref().map(|a| a.charge_id.clone()),
                    channel: Channel::Online,
                    source_key: source_key(provider, &event.provider_payment_id),
                    amount,
                    paid_on,
                },
                now,
            )
            .await?;
            if let Some(a) = &attempt {
                online::settle(&mut tx, tenant, &a.id, OnlineState::Succeeded, now).await?;
            }
            match (recorded, &attempt) {
                (Recorded::Duplicate { .. }, _) => Outcome::Duplicate,
                (Recorded::New { .. }, Some(_)) => Outcome::Applied,
                (Recorded::New { .. }, None) => Outcome::Unmatched,
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}
