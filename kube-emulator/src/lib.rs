//! # kube-emulator
//!
//! A Kubernetes API server in a library, for tests: it speaks the real wire protocol (objects, lists,
//! watches, logs, `Status` errors) so a kube-rs client cannot tell it from a cluster, and it runs Jobs by
//! starting each container's `command` as a host process. k8x's tests start one per test on port 0.
//!
//! ```text
//! kube-rs ──HTTP──▶ routes ──▶ store (objects + full change history) ──▶ watch streams
//!                     │            │
//!                     │            ▼
//!                     │        controller ──▶ Job pods ──▶ kubelet ──▶ host processes ──▶ logs
//!                     └──────── /emulator/* control API (faults, down, break streams, request record)
//! ```
//!
//! What it is not: no authentication (any token works), no admission, no real scheduling, deletion is
//! immediate (no graceful termination or finalizers), strategic merge and apply patches are treated as
//! JSON merge patches, and only `completions: 1, parallelism: 1` Jobs are controlled.
//!
//! ## Layout
//! - [`emulator`]: [`Emulator`], the handle a test holds: start, URL, kubeconfig, switches, stop.
//! - [`options`]: [`Options`] chosen at start and the [`Fault`] a test injects.
//! - `routes`: the HTTP surface — objects, watch, pod logs, SelfSubjectAccessReview, version, control.
//! - [`store`]: objects as JSON, the resourceVersion counter and the change history.
//! - [`selectors`]: label and field selectors.
//! - [`patch`]: JSON merge patch.
//! - [`defaults`]: what the API server fills in or refuses on create.
//! - [`controller`]: the Job controller and owner-reference garbage collection.
//! - [`kubelet`]: pod lifecycles with host processes, env and volumes.
//! - [`logs`]: container output, timestamped, followable.
//! - [`control`]: faults, the down switch, the request record, stream breakers.
//! - [`kinds`], [`meta`], [`error`], [`shared`]: served kinds, object helpers, `Status` errors, shared state.

pub mod control;
pub mod controller;
pub mod defaults;
pub mod emulator;
pub mod error;
pub mod kinds;
pub mod kubelet;
pub mod logs;
pub mod meta;
pub mod options;
pub mod patch;
mod routes;
pub mod selectors;
pub mod shared;
pub mod store;

pub use control::RecordedRequest;
pub use emulator::Emulator;
pub use options::{Fault, Options};
