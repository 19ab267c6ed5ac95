//! Tests of the crate from outside, one binary: the layering rules, the `sportello` binary, and
//! several real instances over real PostgreSQL and Redis processes.

mod architecture;
mod cli;
mod instances;
mod operations;
mod personal_data;
mod support;
