//! Integration tests: each starts a real Loupe (HTTP, websockets, embedded
//! S3, worker) on its own database; database tests run on SQLite and
//! PostgreSQL alike.

mod harness;

mod abuse;
mod auth;
mod authorization;
mod deletion;
mod errors;
mod external_store;
mod garage;
mod http;
mod immutability;
mod instances;
mod journey;
mod limits;
mod log_secrets;
mod logs;
mod metrics;
mod migrations;
mod provider;
mod queue;
mod readiness;
mod results;
mod schema;
mod shutdown;
mod sign_in;
mod sites;
mod storage;
mod store;
mod store_faults;
mod web;
