//! The board event of a number called, written in the transaction that
//! calls it: the call and its announcement commit together, so a database
//! restart or a server dying right after the commit cannot lose it (every
//! server's listener catches up from the `events` table).

use kernel::db::Tx;
use kernel::events::Bus;
use kernel::AppResult;

/// The bus topic of board frames.
pub const BOARD: &str = "counter.board";

/// The body of a call: no counts (they follow at the next refresh), the
/// number and the counter to show and chime.
pub fn body(display: &str, counter: &str, at: i64) -> serde_json::Value {
    serde_json::json!({
        "counters": [],
        "called": {"display": display, "counter": counter},
        "at": at,
    })
}

/// Writes the call of `display` at `counter` in `tx`; every board of the
/// tenant shows it once `tx` commits.
pub async fn publish(
    bus: &Bus,
    tx: &mut Tx,
    tenant: &str,
    display: &str,
    counter: &str,
    at: i64,
) -> AppResult<i64> {
    bus.publish(tx, tenant, BOARD, body(display, counter, at))
        .await
}
