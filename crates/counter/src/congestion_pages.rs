//! HTTP for congestion (混雑状況): the public page, its JSON, and the
//! history as CSV for open data. The numbers come from [`congestion`].

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::web::Choice;
use kernel::web::{render, tenant_page, Page};
use kernel::AppResult;
use serde::Deserialize;
use serde_json::json;

use crate::congestion::{self, Band, Cell, Forecast, FIRST_HOUR, LAST_HOUR};
use crate::state::CounterState;
use crate::view::counter_name;

/// How often the page reloads itself without JavaScript (with it, the
/// current state is fetched and replaced in place as often).
const REFRESH_SECONDS: u32 = 60;

struct NowRow {
    code: String,
    name: kernel::i18n::Shown,
    open: bool,
    waiting: i64,
    calling: String,
    wait: i64,
    band: Option<Band>,
}

struct CellView {
    minutes: i64,
    band: Band,
    best: bool,
}

struct ForecastRow {
    hour: String,
    cells: Vec<Option<CellView>>,
}

#[derive(Template)]
#[template(path = "congestion.html")]
struct CongestionPage {
    page: Page,
    updated: String,
    now: Vec<NowRow>,
    counters: Vec<Choice>,
    selected_name: String,
    weekdays: Vec<&'static str>,
    rows: Vec<ForecastRow>,
    best: Vec<String>,
    period: String,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    c: Option<String>,
}

fn hour_label(lang: Lang, hour: u8) -> String {
    i18n::tf(
        lang,
        "counter.congestion.hour",
        &[("hour", &hour.to_string())],
    )
}

fn date_label(lang: Lang, iso: &str) -> String {
    match jp::JpDate::parse(iso) {
        Ok(d) if lang == Lang::Ja => d.wareki(),
        _ => iso.to_string(),
    }
}

pub async fn page(
    State(st): State<CounterState>,
    Path(tenant): Path<String>,
    Query(q): Query<PageQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let now_ms = kernel::clock::now_ms();
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let now = congestion::now(&st.db, &t, now_ms).await?;
    let forecast = st.forecasts.get(&st.db, &t, now_ms).await?;
    let selected = selected_counter(&t, q.c);
    let table = ForecastView::of(lang, &forecast, &selected);
    let mut page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "counter.congestion.title"),
        format!("/t/{tenant}/counter/congestion"),
    );
    page.refresh_seconds = Some(REFRESH_SECONDS);
    Ok(render(&CongestionPage {
        updated: kernel::clock::format_in(lang, now_ms),
        now: now_rows(now, lang),
        counters: counter_choices(&t, lang, &selected),
        selected_name: counter_name(&t, &selected, lang),
        weekdays: table.weekdays,
        rows: table.rows,
        best: table.best,
        period: table.period,
        page,
    }))
}

/// The counter whose forecast is shown: the one asked for if the
/// municipality has it, else its first counter.
fn selected_counter(t: &TenantProfile, asked: Option<String>) -> String {
    asked
        .filter(|c| t.counters.iter().any(|x| &x.code == c))
        .or_else(|| t.counters.first().map(|c| c.code.clone()))
        .unwrap_or_default()
}

/// The counters to choose a forecast from, the shown one selected.
fn counter_choices(t: &TenantProfile, lang: Lang, selected: &str) -> Vec<Choice> {
    Choice::select(
        t.counters
            .iter()
            .map(|c| Choice::new(&c.code, c.name.shown(lang).label()))
            .collect(),
        selected,
    )
}

/// Each counter now, as the table of the current state shows it.
fn now_rows(now: Vec<congestion::Now>, lang: Lang) -> Vec<NowRow> {
    now.into_iter()
        .map(|n| NowRow {
            name: n.name.shown(lang),
            open: n.status.open,
            waiting: n.status.waiting,
            calling: n.status.now_calling.unwrap_or_default(),
            wait: n.status.estimated_wait_minutes,
            band: n.band,
            code: n.status.counter,
        })
        .collect()
}

/// One counter's forecast as the page shows it: the weekday × hour table,
/// the quietest times in words and the period it is computed from.
struct ForecastView {
    weekdays: Vec<&'static str>,
    rows: Vec<ForecastRow>,
    best: Vec<String>,
    period: String,
}

impl ForecastView {
    fn of(lang: Lang, forecast: &Forecast, selected: &str) -> Self {
        let counter = forecast.counter(selected);
        let cells = counter.map(|f| f.cells.as_slice()).unwrap_or_default();
        let best = counter.map(|f| f.best.as_slice()).unwrap_or_default();
        Self {
            weekdays: forecast
                .weekdays
                .iter()
                .map(|w| i18n::t(lang, &format!("counter.congestion.weekday.{w}")))
                .collect(),
            rows: forecast_rows(lang, &forecast.weekdays, cells, best),
            best: best.iter().map(|c| best_item(lang, c)).collect(),
            period: i18n::tf(
                lang,
                "counter.congestion.period",
                &[
                    ("from", &date_label(lang, &forecast.from)),
                    ("to", &date_label(lang, &forecast.to)),
                ],
            ),
        }
    }
}

/// A row per hour, a cell per weekday (none where too few were called).
fn forecast_rows(
    lang: Lang,
    weekdays: &[&'static str],
    cells: &[Cell],
    best: &[Cell],
) -> Vec<ForecastRow> {
    let is_best = |c: &Cell| {
        best.iter()
            .any(|b| b.weekday == c.weekday && b.hour == c.hour)
    };
    (FIRST_HOUR..=LAST_HOUR)
        .map(|hour| ForecastRow {
            hour: hour_label(lang, hour),
            cells: weekdays
                .iter()
                .map(|w| {
                    let c = cells.iter().find(|c| c.weekday == *w && c.hour == hour)?;
                    Some(CellView {
                        minutes: c.mean_wait_minutes?,
                        band: c.band?,
                        best: is_best(c),
                    })
                })
                .collect(),
        })
        .collect()
}

/// One of the quietest times in words: weekday, hour and mean wait.
fn best_item(lang: Lang, c: &Cell) -> String {
    i18n::tf(
        lang,
        "counter.congestion.best_item",
        &[
            (
                "weekday",
                i18n::t(
                    lang,
                    &format!("counter.congestion.weekday_long.{}", c.weekday),
                ),
            ),
            ("hour", &hour_label(lang, c.hour)),
            (
                "minutes",
                &c.mean_wait_minutes.unwrap_or_default().to_string(),
            ),
        ],
    )
}

pub async fn api(
    State(st): State<CounterState>,
    Path(tenant): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let now_ms = kernel::clock::now_ms();
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let now = congestion::now(&st.db, &t, now_ms).await?;
    let forecast = st.forecasts.get(&st.db, &t, now_ms).await?;
    Ok(Json(json!({
        "tenant": tenant,
        "generated_at": kernel::clock::rfc3339_jst(now_ms),
        "bands": {
            "free": {"max_minutes": 19},
            "moderate": {"min_minutes": 20, "max_minutes": 40},
            "crowded": {"min_minutes": 41},
        },
        "counters": now,
        "forecast": &*forecast,
        "csv": format!("/api/v1/t/{tenant}/counter/congestion.csv"),
    })))
}

#[derive(Deserialize, Default)]
pub struct CsvQuery {
    from: Option<String>,
    to: Option<String>,
}

pub async fn csv_file(
    State(st): State<CounterState>,
    Path(tenant): Path<String>,
    Query(q): Query<CsvQuery>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let today = kernel::clock::to_jst(kernel::clock::now_ms()).date();
    let period = congestion::parse_period(q.from.as_deref(), q.to.as_deref(), today)?;
    let rows = congestion::history(&st.db, &tenant, period.from, period.to).await?;
    let body = congestion::csv(&t, &rows)?;
    let name = format!(
        "attachment; filename=\"congestion-{tenant}-{}-{}.csv\"",
        period.from, period.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
            // Open data without personal data: shared caches may keep it.
            (header::CACHE_CONTROL, "public, max-age=300".to_string()),
        ],
        body,
    )
        .into_response())
}
