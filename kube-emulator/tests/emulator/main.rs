//! Integration tests: a real emulator per test on port 0, driven over HTTP by kube-rs (as k8x's executor
//! drives a cluster) and by reqwest where the raw wire format matters.

mod api;
mod common;
mod jobs;
mod logs;
mod shutdown;
mod watch;
