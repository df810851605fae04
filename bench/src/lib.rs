//! Tools for the benchmark scripts in `bench/`: `k8x-load` drives an HTTP endpoint from many keep-alive
//! connections ([`client`], lean enough to leave the cores to the server it measures) and prints its rate and
//! latencies; `bare-ingest` is the baseline ingest figures are compared with — an axum handler that only parses a
//! CloudEvent with cloudevents-sdk and answers 202; `first-page` starts a server and times its first answer.

pub mod client;
pub mod stats;
