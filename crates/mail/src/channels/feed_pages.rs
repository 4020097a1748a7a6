//! The feeds over HTTP: `/t/{tenant}/mail/feeds/{category}.atom` and
//! `/t/{tenant}/mail/feeds/events.ics`, in the language negotiated as for
//! any page (`?lang=`, the cookie, `Accept-Language`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult};

use super::feeds::{self, Filter};
use super::{atom, ical, ChannelsState};

/// The file name of the events calendar.
pub const EVENTS_FILE: &str = "events.ics";

pub async fn feed(
    State(s): State<ChannelsState>,
    Path((tenant, file)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&s.db, &tenant).await?;
    let town = t.name.get(lang).to_string();
    let host = s.public_url.host().to_string();
    if file == EVENTS_FILE {
        let events = feeds::sent(&s.db, &tenant, Filter::Events, lang).await?;
        let name = i18n::tf(lang, "mail.channels.events_calendar", &[("town", &town)]);
        let body = ical::render(
            &ical::CalendarHead {
                name: &name,
                host: &host,
                tenant: &tenant,
            },
            &events,
        );
        return Ok((
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            body,
        )
            .into_response());
    }
    let Some(category) = file.strip_suffix(".atom").filter(|c| !c.is_empty()) else {
        return Err(AppError::NotFound("page"));
    };
    let Some((name, updated)) = feeds::category_name(&s.db, &tenant, category, lang).await? else {
        return Err(AppError::NotFound("page"));
    };
    let entries = feeds::sent(&s.db, &tenant, Filter::Category(category), lang).await?;
    let self_url = format!("{}/t/{tenant}/mail/feeds/{file}", s.public_url.0);
    let alternate_url = format!("{}/t/{tenant}/mail", s.public_url.0);
    let title = i18n::tf(
        lang,
        "mail.channels.feed_title",
        &[("town", &town), ("category", &name)],
    );
    let body = atom::render(
        &atom::FeedHead {
            self_url: &self_url,
            alternate_url: &alternate_url,
            title: &title,
            author: &town,
            lang: lang.code(),
            category_updated: updated,
            host: &host,
            tenant: &tenant,
        },
        &entries,
    );
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}
