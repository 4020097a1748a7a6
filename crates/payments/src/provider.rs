//! The interface of an online payment provider (card, QR code payment):
//! create a payment for a charge, confirm it by a signed webhook, refund
//! it, fetch its status. A real provider is one adapter file implementing
//! [`PaymentProvider`]; the bundled [`crate::simulator`] is the only one
//! shipped, for development and tests.
//!
//! Nothing here trusts the resident's browser: a payment counts only when
//! the provider's webhook, verified by [`PaymentProvider::verify_webhook`],
//! says it succeeded ([`crate::webhooks`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::HeaderMap;
use jp::Yen;

/// A boxed future (the trait is used as `dyn`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What to ask a provider for.
#[derive(Clone, Debug)]
pub struct CreatePayment {
    pub tenant: String,
    /// Our id of the attempt (`payment_online.id`).
    pub online_id: String,
    pub payment_number: String,
    pub amount: Yen,
    /// What the resident sees on the provider's page (科目 and 期別).
    pub description: String,
    /// Where the provider sends the resident back (a path of ours).
    pub return_path: String,
}

/// A payment the provider made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub provider_payment_id: String,
    /// Where the resident pays (the provider's page).
    pub redirect_url: String,
}

/// A payment as the provider reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderStatus {
    Pending,
    Succeeded,
    Failed,
    Refunded,
}

/// What a webhook event says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Succeeded,
    Failed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Succeeded => "payment.succeeded",
            EventKind::Failed => "payment.failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [EventKind::Succeeded, EventKind::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A verified webhook event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The provider's id of the event (a redelivery has the same).
    pub event_id: String,
    pub kind: EventKind,
    pub provider_payment_id: String,
    /// Yen the provider received (succeeded) or was asked (failed).
    pub amount: u64,
    /// When it happened (ms since the epoch).
    pub occurred_at: i64,
}

/// Why a webhook is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no signature")]
    MissingSignature,
    #[error("signature does not match")]
    BadSignature,
    #[error("timestamp outside the allowed window")]
    OutsideWindow,
    #[error("malformed event: {0}")]
    Malformed(String),
}

/// A provider's failure to do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider refused: {0}")]
    Refused(String),
    #[error("the provider does not know this payment")]
    UnknownPayment,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// An online payment provider. `tenant` is the municipality on whose
/// behalf the call is made (a provider account per municipality).
pub trait PaymentProvider: Send + Sync {
    /// The provider's name in webhook paths and stored rows
    /// (`/t/{tenant}/payments/webhooks/{name}`).
    fn name(&self) -> &'static str;

    /// Whether this is a simulator (pages it touches say so).
    fn is_simulator(&self) -> bool;

    /// Creates a payment; the resident is sent to `redirect_url`.
    fn create<'a>(
        &'a self,
        req: &'a CreatePayment,
    ) -> BoxFuture<'a, Result<Created, ProviderError>>;

    /// Checks a webhook's signature and time and reads its event.
    fn verify_webhook(
        &self,
        tenant: &str,
        headers: &HeaderMap,
        body: &[u8],
        now_ms: i64,
    ) -> Result<WebhookEvent, WebhookError>;

    /// Pays `amount` of a payment back; the provider's refund id.
    fn refund<'a>(
        &'a self,
        tenant: &'a str,
        provider_payment_id: &'a str,
        amount: Yen,
    ) -> BoxFuture<'a, Result<String, ProviderError>>;

    /// What the provider says of a payment now.
    fn status<'a>(
        &'a self,
        tenant: &'a str,
        provider_payment_id: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
}

/// The providers a deployment offers (none in production until a real
/// adapter is configured; the simulator in development).
#[derive(Clone, Default)]
pub struct Providers(Arc<Vec<Arc<dyn PaymentProvider>>>);

impl Providers {
    pub fn new(list: Vec<Arc<dyn PaymentProvider>>) -> Self {
        Self(Arc::new(list))
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn PaymentProvider>> {
        self.0.iter().find(|p| p.name() == name)
    }

    /// The provider residents are offered (the first).
    pub fn offered(&self) -> Option<&Arc<dyn PaymentProvider>> {
        self.0.first()
    }
}
