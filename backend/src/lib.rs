//! # backend
//!
//! Everything k8x does on the server, in the order an event meets it. This crate is never compiled to wasm;
//! the UI reaches it only through its `ssr` server functions.
//!
//! ```text
//! HTTP ──▶ ingest ──▶ bus ──▶ dispatcher ──▶ executor ──▶ store (executions, logs)
//!                      ▲                        │
//!                      └── completion events ◀──┘
//! ```
//!
//! ## Layout
//! - [`config`]: the one typed configuration (file + `K8X_*`).
//! - [`ingest`]: `POST /api/v1/events`, CloudEvents over HTTP.
//! - [`bus`]: the [`bus::Bus`] trait, the embedded bus on the database, the Kafka bus.
//! - [`dispatcher`]: matches events to services, creates executions idempotently, launches, commits; also
//!   turns manual runs into events.
//! - [`executor`]: what a container sees ([`executor::environment`]), the local and Kubernetes executors, the
//!   recorder.
//! - [`service`]: a runnable service as every layer uses it ([`service::ServiceSpec`]).
//! - [`catalog`]: service directories read and checked (also `k8x validate`); stored services read back.
//! - [`projects`]: projects and their sources (a directory, a Git branch, archives); syncs, push webhooks,
//!   interval syncs.
//! - [`access`]: roles, token scopes and the permission each route asks for.
//! - [`auth`]: users, passwords, sessions, API tokens, webhook signatures, the first admin.
//! - [`store`]: sea-orm entities and queries; service secrets sealed at rest ([`store::cipher`]).
//! - [`secrets`]: the key that seals them (`K8X_SECRET_KEY` or a key file) and the start-up check.
//! - [`views`]: store rows as the UI's view types.
//! - [`web`]: the non-UI HTTP routes (health, run form, executions, log stream).
//! - [`api_error`]: the one error type of the HTTP API, shared by ingest and web.
//! - [`ids`]: derived ids that make creation idempotent.
//! - [`chain`]: how deep and how wide a chain of completion events may go; correlation ids.
//! - [`outcome`]: how an execution ended and the completion event that announces it.
//! - [`scopes`]: secrets and configs set for the platform, a project or a service, merged into a launch.
//! - [`schedule`]: a service's cron schedule, and which due time runs now.
//! - [`relay`]: puts completion events from the outbox (written with each ending) on the bus.
//! - [`state`]: what handlers share.

pub mod access;
pub mod api_error;
pub mod auth;
pub mod bus;
pub mod catalog;
pub mod chain;
pub mod config;
pub mod dispatcher;
pub mod executor;
#[cfg(test)]
mod fuzz;
pub mod ids;
pub mod ingest;
pub mod outcome;
mod panics;
pub mod private_file;
pub mod projects;
pub mod relay;
pub mod schedule;
pub mod scopes;
pub mod secrets;
pub mod service;
pub mod state;
pub mod store;
pub mod views;
pub mod web;

pub use state::AppState;
