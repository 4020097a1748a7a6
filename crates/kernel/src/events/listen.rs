//! PostgreSQL: one LISTEN connection per server. Each notification
//! (`tenant:id`) is handed to the dispatcher; after the connection is lost
//! (a database restart) it reconnects with backoff and has every tenant
//! caught up from the table, so nothing committed meanwhile is missed.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use super::dispatch::Dispatch;
use crate::db::Db;

/// The NOTIFY channel of every event.
pub const CHANNEL: &str = "madoguchi_events";
/// The listener connection's `application_name` (seen in
/// `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "madoguchi events";

const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// `tenant:id` → (tenant, id).
pub(crate) fn parse(payload: &str) -> Option<(&str, i64)> {
    let (tenant, id) = payload.rsplit_once(':')?;
    Some((tenant, id.parse().ok()?))
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let options: PgConnectOptions = url
        .parse::<PgConnectOptions>()?
        .application_name(APPLICATION_NAME);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let mut listener = PgListener::connect_with(&pool).await?;
    // A lost connection ends our loop, which reconnects and catches up.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

pub(crate) fn start(db: Db, dispatch: Dispatch) {
    tokio::spawn(async move {
        let mut backoff = BACKOFF_FIRST;
        loop {
            if db.is_closed() {
                return;
            }
            // With a multi-host URL, the current primary (a standby refuses
            // LISTEN: the next try, after the pool has moved, finds the new one).
            match connect(&db.current_url()).await {
                Ok(mut listener) => {
                    backoff = BACKOFF_FIRST;
                    // Listening again: whatever was committed while we
                    // were not comes from the table.
                    dispatch.catch_up_all();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) => match parse(n.payload()) {
                                Some((tenant, id)) => dispatch.want(tenant, id),
                                None => tracing::warn!(
                                    payload = n.payload(),
                                    "events: bad notification"
                                ),
                            },
                            Ok(None) => {
                                tracing::warn!("events: listener connection lost, reconnecting");
                                break;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "events: listener failed, reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "events: cannot listen yet, retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn payloads() {
        assert_eq!(parse("011002:42"), Some(("011002", 42)));
        assert_eq!(parse(":7"), Some(("", 7)));
        assert_eq!(parse("011002"), None);
        assert_eq!(parse("011002:x"), None);
    }
}
