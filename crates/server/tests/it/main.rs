//! The HTTP integration tests of the whole server, in one binary (one link
//! of the server instead of one per file). Each module drives a real
//! server on port 0 with a fresh database (`testkit`), most on SQLite and
//! on PostgreSQL.

mod address_fill;
mod api;
mod assisted;
mod caches;
mod case_lookup;
mod case_workflow;
mod channels;
mod chat;
mod citus_schema;
mod cluster;
mod counter;
mod counter_only;
mod easy_japanese;
mod events;
mod faq;
mod form_builder;
mod form_json;
mod form_rules;
mod furigana;
mod jobs;
mod languages;
mod life_events;
mod locales;
mod low_confidence;
mod mail_delivery;
mod mail_scale;
mod mail_sender;
mod mail_subscriptions;
mod navi;
mod navi_editor;
mod newsletters;
mod oidc;
mod okuyami;
mod payments_charges;
mod payments_online;
mod payments_reconcile;
mod payments_slips;
mod questions;
mod search;
mod search_feed;
mod security;
mod shared_limits;
mod sign_in_bounds;
mod staff_start;
mod statuses;
mod structure;
mod translations;
mod visits;
