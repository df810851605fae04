//! Tools for the benchmark scripts in `bench/`: `k8x-load` drives an HTTP endpoint from many keep-alive
//! connections and prints its rate and latencies; `bare-ingest` is the baseline ingest figures are compared
//! with — an axum handler that only parses a CloudEvent with cloudevents-sdk and answers 202.

pub mod stats;
