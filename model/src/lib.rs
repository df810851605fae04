//! # model
//!
//! The types that cross the wire between the k8x server and the browser. Everything here compiles for both
//! targets (no I/O, no server-only crates), so the UI renders exactly what the server validated.
//!
//! ## Layout
//! - [`access`]: users, tokens, event sources and the audit trail as the admin pages show them.
//! - [`parameters`]: the `parameters.json` form — parsing a service's form definition and turning submitted
//!   values into the typed JSON object a container receives in `K8X_PARAMS`.
//! - [`projects`]: projects, their syncs and problems, as the projects pages and the API show them.
//! - [`text`]: parser messages without their position suffix.
//! - [`views`]: read-only views of services, executions and log lines as the UI shows them.

pub mod access;
pub mod parameters;
pub mod projects;
pub mod text;
pub mod views;
