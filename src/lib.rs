//! Loupe: a self-hosted server that turns uploaded data files into live,
//! visual profiles. See README.md for the journey and DESIGN notes.
//!
//! Follow the data: `http` → `graphql` → `uploads` / `jobs` → `db` /
//! `storage` → `profile`.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod health;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod profile;
pub mod storage;
pub mod uploads;
