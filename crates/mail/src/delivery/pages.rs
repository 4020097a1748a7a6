//! 配信状況 (delivery status) and the demo mailbox, for the system
//! administrator.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kernel::auth::SystemAdmin;
use kernel::i18n::{self, Lang};
use kernel::web::{render, Page};
use kernel::{AppResult, Db};

use super::listing::{self, Filter, ListQuery};
use super::staff;
use super::view::{state_label, Choice, CountLine, DemoMail, MailLine};
use super::{Deliverer, Status};
use crate::outbox::State as MailState;

#[derive(Template)]
#[template(path = "delivery/outbox.html")]
struct OutboxPage {
    page: Page,
    notice: String,
    status: String,
    status_ok: bool,
    counts: Vec<CountLine>,
    states: Vec<Choice>,
    kinds: Vec<Choice>,
    mails: Vec<MailLine>,
}

fn status_text(lang: Lang, s: &Status) -> (String, bool) {
    match s {
        Status::Demo => (i18n::t(lang, "mail.delivery.status_demo").to_string(), true),
        Status::Ready => (
            i18n::t(lang, "mail.delivery.status_ready").to_string(),
            true,
        ),
        Status::NotReady(reason) => (
            i18n::tf(
                lang,
                "mail.delivery.status_not_ready",
                &[("reason", reason)],
            ),
            false,
        ),
    }
}

async fn outbox_view(
    db: &Db,
    deliverer: &Deliverer,
    admin: &SystemAdmin,
    lang: Lang,
    q: &ListQuery,
    notice: String,
) -> AppResult<Response> {
    let filter = q.filter()?;
    let t = kernel::tenant::load(db, &admin.tenant).await?;
    let mails = staff::listing(db, admin, &filter).await?;
    let counts = listing::counts(db, &admin.tenant).await?;
    let kinds = listing::kinds(db, &admin.tenant).await?;
    let (status, status_ok) = status_text(lang, &deliverer.status());
    let page = kernel::web::staff_page(
        lang,
        &t,
        admin,
        i18n::t(lang, "mail.delivery.title"),
        format!("/t/{}/staff/mail/outbox", admin.tenant),
    );
    let all = i18n::t(lang, "mail.delivery.all").to_string();
    let mut states = vec![Choice {
        value: String::new(),
        label: all.clone(),
        selected: filter.state.is_none(),
    }];
    states.extend(MailState::ALL.into_iter().map(|s| Choice {
        value: s.as_str().into(),
        label: state_label(lang, s.as_str()),
        selected: filter.state == Some(s),
    }));
    let mut kind_choices = vec![Choice {
        value: String::new(),
        label: all,
        selected: filter.kind.is_none(),
    }];
    kind_choices.extend(kinds.into_iter().map(|k| Choice {
        selected: filter.kind.as_deref() == Some(k.as_str()),
        label: k.clone(),
        value: k,
    }));
    Ok(render(&OutboxPage {
        notice,
        status,
        status_ok,
        counts: counts
            .into_iter()
            .map(|(s, n)| CountLine {
                state: s.as_str().into(),
                label: state_label(lang, s.as_str()),
                count: n,
            })
            .collect(),
        states,
        kinds: kind_choices,
        mails: mails.iter().map(|m| MailLine::new(lang, m)).collect(),
        page,
    }))
}

pub async fn outbox_page(
    State(db): State<Db>,
    State(deliverer): State<Deliverer>,
    admin: SystemAdmin,
    lang: Lang,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    outbox_view(&db, &deliverer, &admin, lang, &q, String::new()).await
}

pub async fn resend_post(
    State(db): State<Db>,
    State(deliverer): State<Deliverer>,
    admin: SystemAdmin,
    lang: Lang,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Response> {
    staff::resend(&db, &admin, &id).await?;
    let notice = i18n::tf(lang, "mail.delivery.resent", &[("id", &id)]);
    outbox_view(&db, &deliverer, &admin, lang, &ListQuery::default(), notice).await
}

/// 接続を確認: tests the connection to the mail server now (audited with
/// its result); once it answers, a run for the municipality is queued so
/// waiting mail goes at once.
pub async fn test_connection_post(
    State(db): State<Db>,
    State(deliverer): State<Deliverer>,
    admin: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    let status = deliverer.test_now().await;
    let (result, reason) = match &status {
        Status::Ready => ("ready", None),
        Status::Demo => ("demo", None),
        Status::NotReady(r) => ("not_ready", Some(r.as_str())),
    };
    let mut tx = db.begin().await?;
    kernel::audit::append(
        &mut tx,
        &admin.tenant,
        kernel::clock::now_ms(),
        &[kernel::audit::AuditEntry::new(
            admin.actor(),
            "mail.delivery.test_connection",
            &admin.tenant,
        )
        .detail(serde_json::json!({"result": result, "reason": reason}))],
    )
    .await?;
    if status == Status::Ready {
        kernel::jobs::enqueue(
            &mut tx,
            kernel::jobs::JobSpec::new(admin.tenant.as_str(), super::KIND, serde_json::Value::Null)
                .dedupe("queued"),
        )
        .await?;
    }
    tx.commit().await?;
    let notice = match &status {
        Status::Ready => i18n::t(lang, "mail.delivery.tested_ready").to_string(),
        Status::Demo => i18n::t(lang, "mail.delivery.status_demo").to_string(),
        Status::NotReady(r) => i18n::tf(lang, "mail.delivery.tested_not_ready", &[("reason", r)]),
    };
    outbox_view(&db, &deliverer, &admin, lang, &ListQuery::default(), notice).await
}

#[derive(Template)]
#[template(path = "delivery/demo.html")]
struct DemoPage {
    page: Page,
    demo: bool,
    mails: Vec<DemoMail>,
}

/// デモ用メールボックス: every mail kept instead of sent, as the resident
/// would receive it (links masked).
pub async fn demo_page(
    State(db): State<Db>,
    State(deliverer): State<Deliverer>,
    admin: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &admin.tenant).await?;
    let filter = Filter {
        state: Some(MailState::Demo),
        ..Filter::default()
    };
    let mails = staff::listing(&db, &admin, &filter).await?;
    // The municipality's sender as its mail says it now.
    let sender = deliverer.sender(&admin.tenant).await?.from.to_string();
    let page = kernel::web::staff_page(
        lang,
        &t,
        &admin,
        i18n::t(lang, "mail.delivery.demo_title"),
        format!("/t/{}/staff/mail/demo", admin.tenant),
    );
    Ok(render(&DemoPage {
        demo: deliverer.status() == Status::Demo,
        mails: mails
            .iter()
            .map(|m| DemoMail {
                from: sender.clone(),
                to: m.recipient.clone(),
                subject: m.subject.clone(),
                date: kernel::clock::format_in(lang, m.sent_at.unwrap_or(m.created_at)),
                lang: m.lang.clone(),
                body: m.body.clone(),
            })
            .collect(),
        page,
    }))
}
