//! The background work of a deployment as jobs of the one queue
//! (`kernel::jobs`): housekeeping (expired drafts, unfinished 書かない窓口
//! entries, sessions and sign-ins past their limits, runs of failures by
//! key neither locked nor touched for a day, live events past
//! `kernel::events::KEEP`) as scheduled jobs,
//! once per deployment every [`HOUSEKEEPING_EVERY`], and once more as each
//! server starts. Mail delivery (`mail::delivery::KIND`) runs per
//! municipality when mail is queued, and for every municipality each
//! minute (retries, leases run out, a mail server that came back).

use std::time::Duration;

use kernel::auth::SessionPolicy;
use kernel::jobs::{
    Every, JobContext, JobError, JobSpec, Registry, Runner, RunnerOptions, Schedule,
};
use kernel::Db;

/// How often housekeeping runs (the README and docs/SECURITY.md say so).
pub const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// Expired drafts and their uploads (`cases`).
pub const PURGE_DRAFTS: &str = "housekeeping.drafts";
/// Unfinished 書かない窓口 entries (`desk`).
pub const PURGE_ASSISTED: &str = "housekeeping.assisted_entries";
/// Staff and resident sessions past their limits, unfinished sign-ins (`identity`).
pub const PURGE_SESSIONS: &str = "housekeeping.sessions";

/// Runs of failed sign-ins and lookups by key (`lockout_counts`) neither
/// locked nor touched for a day (`kernel::auth::lockout`).
pub const PURGE_LOCKOUT_COUNTS: &str = "housekeeping.lockout_counts";
/// Live events older than `kernel::events::KEEP`.
pub const PURGE_EVENTS: &str = "housekeeping.events";
/// The text, links and address of mails delivered (or failed) more than
/// `mail::outbox::KEEP_TEXT_DAYS` ago.
pub const REDACT_MAIL: &str = "housekeeping.mail_text";

const HOUSEKEEPING: [&str; 6] = [
    PURGE_DRAFTS,
    PURGE_ASSISTED,
    PURGE_SESSIONS,
    PURGE_LOCKOUT_COUNTS,
    PURGE_EVENTS,
    REDACT_MAIL,
];

/// The search ranking brought up to date with the use counts
/// (applications per procedure) on every server (`search::Search::ranking_changed`).
pub const SEARCH_RANKING: &str = "search.ranking";
/// How often: searches rank by counts at most this old.
pub const SEARCH_RANKING_EVERY: Every = Every::Minutes(5);

/// When unsubscribed mail addresses past their retention period
/// (`mail::subscriptions::admin::UNSUBSCRIBED_RETENTION_DAYS`) and
/// sign-ups never confirmed are deleted: every night.
pub const MAIL_SUBSCRIBERS_PURGE_AT: Every = Every::DailyAt {
    hour: 3,
    minute: 30,
};
/// LINE pushes of sent messages (`mail::channels::line::push`): one job
/// per push, and the sweep that queues them, scheduled this often.
pub const LINE_SWEEP_EVERY: Every = Every::Minutes(1);
/// How often every municipality's due mail is looked at.
pub const MAIL_SWEEP_EVERY: Every = Every::Minutes(1);

/// The kinds every server runs and the deployment's schedules.
pub fn registry(
    session: SessionPolicy,
    search: search::Search,
    line: mail::channels::line::api::LineApi,
    newsletters: mail::newsletters::send::Sender,
    deliverer: mail::delivery::Deliverer,
) -> Registry {
    use mail::channels::line::push;
    let minutes = (HOUSEKEEPING_EVERY.as_secs() / 60) as u32;
    let mut r = Registry::new()
        .handle_with(
            push::LINE_PUSH,
            push::RETRY,
            move |ctx: JobContext, payload| push::run(ctx, line.clone(), payload),
        )
        .handle(mail::newsletters::SEND, move |ctx: JobContext, payload| {
            let sender = newsletters.clone();
            async move {
                mail::newsletters::run_send_job(&ctx.db, &sender, &ctx.tenant, &payload).await?;
                Ok::<(), JobError>(())
            }
        })
        .handle(mail::delivery::KIND, move |ctx: JobContext, _| {
            let deliverer = deliverer.clone();
            async move {
                // A municipality's run (queued by `mail::outbox::queue`,
                // one at a time by its dedupe key) lets go of the key
                // before it claims: mail queued during the run gets a run
                // of its own, not the once-a-minute sweep.
                if !ctx.tenant.is_empty() {
                    kernel::jobs::release_dedupe(&ctx.db, &ctx.tenant, &ctx.job_id).await?;
                }
                let report = deliverer.run(&ctx.tenant).await?;
                if report != mail::delivery::Report::default() {
                    tracing::info!(tenant = %ctx.tenant, ?report, "mail delivered");
                }
                Ok::<(), JobError>(())
            }
        })
        .handle(SEARCH_RANKING, move |ctx: JobContext, _| {
            let search = search.clone();
            async move {
                for t in kernel::tenant::list(&ctx.db).await? {
                    search.ranking_changed(&t.code).await?;
                }
                Ok::<(), JobError>(())
            }
        })
        .handle(PURGE_DRAFTS, |ctx: JobContext, _| async move {
            let n = cases::applications::purge_expired(&ctx.db).await?;
            if n > 0 {
                tracing::info!(drafts = n, "expired drafts deleted");
            }
            Ok::<(), JobError>(())
        })
        .handle(PURGE_ASSISTED, |ctx: JobContext, _| async move {
            desk::assisted::purge(&ctx.db).await?;
            Ok(())
        })
        .handle(PURGE_SESSIONS, move |ctx: JobContext, _| async move {
            identity::purge(&ctx.db, session).await?;
            Ok(())
        })
        .handle(PURGE_LOCKOUT_COUNTS, |ctx: JobContext, _| async move {
            kernel::auth::lockout::purge_counts(&ctx.db, kernel::clock::now_ms()).await?;
            Ok(())
        })
        .handle(
            mail::subscriptions::PURGE_JOB,
            |ctx: JobContext, _| async move {
                let n = mail::subscriptions::admin::purge(&ctx.db, kernel::clock::now_ms()).await?;
                if n > 0 {
                    tracing::info!(
                        subscribers = n,
                        "unsubscribed and unconfirmed mail subscribers deleted"
                    );
                }
                Ok(())
            },
        )
        .handle(REDACT_MAIL, |ctx: JobContext, _| async move {
            let before = kernel::clock::now_ms() - mail::outbox::KEEP_TEXT_DAYS * 86_400_000;
            let n = mail::outbox::redact(&ctx.db, before).await?;
            if n > 0 {
                tracing::info!(mails = n, "text of old mails blanked");
            }
            Ok(())
        })
        .handle(PURGE_EVENTS, |ctx: JobContext, _| async move {
            let before = kernel::clock::now_ms() - kernel::events::KEEP.as_millis() as i64;
            let n = kernel::events::prune(&ctx.db, before).await?;
            if n > 0 {
                tracing::info!(events = n, "old events deleted");
            }
            Ok(())
        });
    r = r.schedule(Schedule {
        name: mail::subscriptions::PURGE_JOB,
        every: MAIL_SUBSCRIBERS_PURGE_AT,
        kind: mail::subscriptions::PURGE_JOB,
        payload: serde_json::Value::Null,
    });
    r = r.schedule(Schedule {
        name: push::LINE_PUSH,
        every: LINE_SWEEP_EVERY,
        kind: push::LINE_PUSH,
        payload: serde_json::Value::Null,
    });
    r = r.schedule(Schedule {
        name: mail::delivery::KIND,
        every: MAIL_SWEEP_EVERY,
        kind: mail::delivery::KIND,
        payload: serde_json::Value::Null,
    });
    r = r.schedule(Schedule {
        name: SEARCH_RANKING,
        every: SEARCH_RANKING_EVERY,
        kind: SEARCH_RANKING,
        payload: serde_json::Value::Null,
    });
    for kind in HOUSEKEEPING {
        r = r.schedule(Schedule {
            name: kind,
            every: Every::Minutes(minutes),
            kind,
            payload: serde_json::Value::Null,
        });
    }
    r
}

/// Starts this server's workers, and queues housekeeping as it starts
/// (one job per kind however many servers start at once: a dedupe key).
pub async fn start(
    db: &Db,
    session: SessionPolicy,
    search: search::Search,
    line: mail::channels::line::api::LineApi,
    newsletters: mail::newsletters::send::Sender,
    deliverer: mail::delivery::Deliverer,
    options: RunnerOptions,
) -> anyhow::Result<Runner> {
    let runner = Runner::start(
        db.clone(),
        registry(session, search, line, newsletters, deliverer),
        options,
    )
    .await?;
    for kind in HOUSEKEEPING {
        kernel::jobs::enqueue_now(
            db,
            JobSpec::new("", kind, serde_json::Value::Null).dedupe("start"),
        )
        .await?;
    }
    Ok(runner)
}
