//! The integration suite, one binary: the real server over SQLite, PostgreSQL and PostgreSQL
//! with Redis (see `sportello_tests`), one module per area.

mod accessibility;
mod admin;
mod admin_keys;
mod admin_parts;
mod admin_staff;
mod admin_two_factor;
mod api;
mod bundled_plugins;
mod concurrency;
mod desk;
mod feeds;
mod limits;
mod mail;
mod packs;
mod pages;
mod plugins;
mod privacy;
mod queue;
mod statistics;
mod walk_ins;
mod webhooks;
