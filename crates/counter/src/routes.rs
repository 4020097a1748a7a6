//! The counter's HTTP surface: tickets, the board and calling
//! ([`crate::ticket_pages`]), congestion ([`crate::congestion_pages`]).

use axum::routing::{get, post};
use axum::Router;

use crate::state::CounterState;
use crate::{congestion_pages, ticket_pages};

pub fn router(state: CounterState) -> Router {
    Router::new()
        .route("/t/{tenant}/counter", get(ticket_pages::kiosk))
        .route(
            "/t/{tenant}/counter/tickets",
            post(ticket_pages::issue_post),
        )
        .route(
            "/t/{tenant}/tickets/{id}/{token}",
            get(ticket_pages::ticket_page),
        )
        .route("/t/{tenant}/counter/board", get(ticket_pages::board_page))
        .route(
            "/t/{tenant}/counter/board/signage",
            get(ticket_pages::board_signage),
        )
        .route(
            "/t/{tenant}/counter/board/events",
            get(ticket_pages::board_events),
        )
        .route("/t/{tenant}/staff/counter", get(ticket_pages::staff_page))
        .route(
            "/t/{tenant}/staff/counter/{counter}/call",
            post(ticket_pages::call_post),
        )
        .route(
            "/t/{tenant}/staff/counter/{counter}/open",
            post(ticket_pages::open_post),
        )
        .route(
            "/t/{tenant}/staff/tickets/{id}/{action}",
            post(ticket_pages::ticket_action_post),
        )
        .route(
            "/api/v1/t/{tenant}/counter/tickets",
            post(ticket_pages::issue_api),
        )
        .route(
            "/api/v1/t/{tenant}/counter/tickets/{id}/{token}",
            get(ticket_pages::ticket_api),
        )
        .route(
            "/api/v1/t/{tenant}/counter/board",
            get(ticket_pages::board_api),
        )
        .route(
            "/api/v1/t/{tenant}/staff/counter/{counter}/call",
            post(ticket_pages::call_api),
        )
        .route(
            "/api/v1/t/{tenant}/staff/tickets/{id}/{action}",
            post(ticket_pages::ticket_action_api),
        )
        .merge(congestion())
        .with_state(state)
}

fn congestion() -> Router<CounterState> {
    Router::new()
        .route(
            "/t/{tenant}/counter/congestion",
            get(congestion_pages::page),
        )
        .route(
            "/t/{tenant}/counter/congestion.csv",
            get(congestion_pages::csv_file),
        )
        .route(
            "/api/v1/t/{tenant}/counter/congestion",
            get(congestion_pages::api),
        )
        .route(
            "/api/v1/t/{tenant}/counter/congestion.csv",
            get(congestion_pages::csv_file),
        )
}
