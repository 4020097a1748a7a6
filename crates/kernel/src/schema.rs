//! Where every table lives on Citus: the one classification of the schema.
//!
//! A shared deployment of many municipalities grows past one PostgreSQL by
//! distributing the schema by municipality on Citus. Every table of the
//! schema is listed here, once, as one of:
//!
//! - **distributed** by `tenant`, all in one co-location group (anchored on
//!   `tenants`), so that a join on `tenant` runs on one node;
//! - **reference**: deployment-wide rows without a municipality, copied to
//!   every node;
//! - **coordinator-local**: a plain table on the coordinator, with the
//!   reason it cannot be distributed.
//!
//! The server's integration test `citus_schema` reads the migrated schema
//! from PostgreSQL's catalogue and fails on a table missing here, and on a
//! key, foreign key or trigger that would stop Citus distributing it.
//! `madoguchi migrate --citus` prints the Citus calls made from this list
//! ([`citus_plan`]), in an order Citus accepts (a table after the tables
//! its foreign keys reference).

/// Where a table lives on a Citus cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Sharded by its `tenant` column, co-located with [`ANCHOR`].
    Distributed,
    /// Global rows (no municipality), replicated to every node.
    Reference,
    /// A plain table on the coordinator; the reason says why.
    CoordinatorLocal { reason: &'static str },
}

/// One table and where it lives.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    pub placement: Placement,
}

/// The first distributed table: every other distributed table is
/// co-located with it.
pub const ANCHOR: &str = "tenants";

const fn distributed(name: &'static str) -> Table {
    Table {
        name,
        placement: Placement::Distributed,
    }
}

const fn reference(name: &'static str) -> Table {
    Table {
        name,
        placement: Placement::Reference,
    }
}

const fn local(name: &'static str, reason: &'static str) -> Table {
    Table {
        name,
        placement: Placement::CoordinatorLocal { reason },
    }
}

/// Every table, in an order Citus accepts: reference tables first, then
/// the anchor, then each distributed table after the tables its foreign
/// keys reference.
pub const TABLES: &[Table] = &[
    reference("deployment_secrets"),
    distributed(ANCHOR),
    distributed("departments"),
    distributed("counters"),
    distributed("procedures"),
    distributed("procedure_versions"),
    distributed("applications"),
    distributed("application_events"),
    distributed("receipt_counters"),
    distributed("idempotency_keys"),
    distributed("drafts"),
    distributed("attachments"),
    distributed("outbox"),
    distributed("audit_log"),
    distributed("audit_heads"),
    distributed("staff"),
    distributed("staff_sessions"),
    distributed("staff_recovery_codes"),
    distributed("staff_grants"),
    distributed("resident_sessions"),
    distributed("oidc_requests"),
    distributed("ticket_numbers"),
    distributed("tickets"),
    distributed("counter_state"),
    distributed("assisted_entries"),
    distributed("visits"),
    distributed("identity_checks"),
    distributed("visit_items"),
    distributed("case_identity_checks"),
    distributed("faq_entries"),
    distributed("faq_versions"),
    distributed("faq_votes"),
    distributed("navi_versions"),
    distributed("navi_drafts"),
    distributed("search_synonyms"),
    distributed("search_synonym_history"),
    distributed("search_misses"),
    distributed("translation_marks"),
    distributed("form_drafts"),
    distributed("form_templates"),
    // The event channel (kernel::events): every read is per tenant.
    distributed("events"),
    distributed("event_heads"),
    // Runs of failures by key (auth::lockout): every statement is per tenant.
    distributed("lockout_counts"),
    // Mail to residents (crate mail): every request's statements are per
    // tenant; the nightly purges, key rotation, the outbox text redaction and
    // the LINE sweep run over every tenant in the background (a scan Citus
    // sends to every shard, off the request path).
    distributed("mail_suppressions"),
    distributed("mail_categories"),
    distributed("mail_subscribers"),
    distributed("mail_subscriptions"),
    distributed("mail_pending_choices"),
    distributed("mail_messages"),
    distributed("mail_message_texts"),
    distributed("line_channels"),
    distributed("line_users"),
    distributed("line_subscriptions"),
    distributed("line_webhook_events"),
    distributed("line_pushes"),
    distributed("line_messages"),
    distributed("mail_newsletter_settings"),
    distributed("mail_staff_addresses"),
    // 公金 (crate payments): every statement is per tenant.
    distributed("payment_charges"),
    distributed("payment_receipts"),
    distributed("payment_charge_events"),
    distributed("payment_number_counters"),
    distributed("mail_sender_settings"),
    distributed("payment_slip_settings"),
    distributed("payment_slip_classes"),
    distributed("payment_slip_issues"),
    distributed("payment_import_files"),
    distributed("payment_exceptions"),
    distributed("payment_online"),
    distributed("payment_webhook_events"),
    distributed("payment_simulator"),
    // The job queue (kernel::jobs).
    local(
        "jobs",
        "claimed with FOR UPDATE SKIP LOCKED across every tenant, which Citus does not route to one shard",
    ),
    local(
        "job_schedules",
        "deployment-wide schedules claimed once per deployment with the job queue, beside it",
    ),
    local(
        "rate_windows",
        "one statement counts a client's window (tenant '') and a municipality's window, rows Citus would place on different shards",
    ),
    local(
        "madoguchi_migrations",
        "the schema's own record of applied migrations, read and written only by the migrator on the coordinator",
    ),
];

/// The placement of `table`, if it is classified.
pub fn placement(table: &str) -> Option<Placement> {
    TABLES.iter().find(|t| t.name == table).map(|t| t.placement)
}

/// One step of distributing the schema on Citus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CitusStep {
    pub table: &'static str,
    /// The call to run on the coordinator (`SELECT create_…(…)`), or
    /// `None` for a table that stays on the coordinator.
    pub call: Option<String>,
}

impl CitusStep {
    /// The step as one line of SQL: the call, or a comment saying why the
    /// table stays on the coordinator.
    pub fn line(&self) -> String {
        match (&self.call, placement(self.table)) {
            (Some(call), _) => format!("{call};"),
            (None, Some(Placement::CoordinatorLocal { reason })) => {
                format!("-- {}: stays on the coordinator ({reason})", self.table)
            }
            (None, _) => format!("-- {}", self.table),
        }
    }
}

/// The Citus calls for the tables of `existing` (the tables of the
/// migrated database), one step per table in the order of [`TABLES`].
/// Refuses, naming them, tables that are not classified.
pub fn citus_plan(existing: &[String]) -> Result<Vec<CitusStep>, Vec<String>> {
    let unclassified: Vec<String> = existing
        .iter()
        .filter(|t| placement(t).is_none())
        .cloned()
        .collect();
    if !unclassified.is_empty() {
        return Err(unclassified);
    }
    Ok(TABLES
        .iter()
        .filter(|t| existing.iter().any(|e| e == t.name))
        .map(|t| CitusStep {
            table: t.name,
            call: match t.placement {
                Placement::Reference => {
                    Some(format!("SELECT create_reference_table('{}')", t.name))
                }
                Placement::Distributed if t.name == ANCHOR => Some(format!(
                    "SELECT create_distributed_table('{}', 'tenant', colocate_with => 'none')",
                    t.name
                )),
                Placement::Distributed => Some(format!(
                    "SELECT create_distributed_table('{}', 'tenant', colocate_with => '{ANCHOR}')",
                    t.name
                )),
                Placement::CoordinatorLocal { .. } => None,
            },
        })
        .collect())
}

/// The tables of the connected PostgreSQL database's current schema
/// (`madoguchi_migrations` included).
pub async fn postgres_tables(db: &crate::Db) -> anyhow::Result<Vec<String>> {
    use sqlx::Row;
    Ok(sqlx::query(
        "SELECT c.relname::text FROM pg_class c
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
         ORDER BY c.relname",
    )
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect())
}

/// Distributes the migrated schema on the Citus coordinator `db` is
/// connected to: runs each call of [`citus_plan`] whose table is not
/// distributed yet (so it can be run again). Returns the calls it ran.
pub async fn distribute(db: &crate::Db) -> anyhow::Result<Vec<String>> {
    use sqlx::Row;
    let tables = postgres_tables(db).await?;
    let plan = citus_plan(&tables).map_err(|t| {
        anyhow::anyhow!(
            "Citus での配置が決まっていないテーブルがあります（kernel::schema::TABLES に追加してください）: {}",
            t.join(", ")
        )
    })?;
    let done: Vec<String> =
        sqlx::query("SELECT logicalrelid::regclass::text FROM pg_dist_partition")
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
    let mut ran = Vec::new();
    for step in plan {
        let Some(call) = step.call else { continue };
        if done.iter().any(|d| d == step.table) {
            continue;
        }
        sqlx::raw_sql(&call).execute(db.write()).await?;
        ran.push(call);
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_listed_once() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a table is listed twice");
    }

    #[test]
    fn the_plan_puts_reference_tables_and_the_anchor_first() {
        let existing: Vec<String> = ["staff", "tenants", "deployment_secrets", "jobs"]
            .map(String::from)
            .into();
        let lines: Vec<String> = citus_plan(&existing)
            .unwrap()
            .iter()
            .map(CitusStep::line)
            .collect();
        assert_eq!(
            lines,
            [
                "SELECT create_reference_table('deployment_secrets');",
                "SELECT create_distributed_table('tenants', 'tenant', colocate_with => 'none');",
                "SELECT create_distributed_table('staff', 'tenant', colocate_with => 'tenants');",
                "-- jobs: stays on the coordinator (claimed with FOR UPDATE SKIP LOCKED across every tenant, which Citus does not route to one shard)",
            ]
        );
    }

    #[test]
    fn an_unclassified_table_is_refused_by_name() {
        let existing: Vec<String> = ["tenants", "scratch"].map(String::from).into();
        assert_eq!(citus_plan(&existing), Err(vec!["scratch".to_string()]));
    }
}
