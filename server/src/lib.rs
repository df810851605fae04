//! # server
//!
//! The `k8x` binary's library half, so that tests can start the whole application in-process.
//! `main` reads the config, starts telemetry, builds the [`Application`] and runs it until a signal.
//!
//! ## Layout
//! - [`application`]: wiring — store, bus, executor, dispatcher, project loading, HTTP router — and the run loop.
//! - [`cli`]: the command line: serve, or manage users, tokens and event sources.
//! - [`telemetry`]: tracing to stderr, filtered by `RUST_LOG`.

pub mod application;
pub mod cli;
pub mod telemetry;

pub use application::Application;
