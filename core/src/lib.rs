//! Sportello: multi-tenant appointment booking for public bodies.
//! See `docs/ARCHITECTURE.md` for the map of this crate.

pub mod app;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod domain;
pub mod holds;
pub mod http;
pub mod i18n;
pub mod mail;
pub mod outcome;
pub mod packs;
pub mod plugin_host;
pub mod server;
pub mod store;
pub mod web;
pub mod webhooks;
