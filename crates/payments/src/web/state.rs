//! What the payments pages share.

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::crypto::Vault;
use kernel::Db;

use crate::online::AccessKey;
use crate::provider::Providers;
use crate::simulator::Simulator;

#[derive(Clone, FromRef)]
pub struct PaymentsState {
    pub db: Db,
    pub session: SessionPolicy,
    /// Seals and opens payers.
    pub vault: Vault,
    /// The online payment providers offered (the simulator in development).
    pub providers: Providers,
    /// The bundled simulator (`None` in production mode, where it refuses
    /// to start).
    pub simulator: Option<Simulator>,
    /// The key of the payment pages' access codes (確認コード).
    pub access: AccessKey,
}

impl PaymentsState {
    /// Whether the provider residents are offered is the simulator.
    pub fn simulated(&self) -> bool {
        self.providers.offered().is_some_and(|p| p.is_simulator())
    }
}
