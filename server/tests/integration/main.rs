//! Integration tests: the whole k8x started in-process on port 0 with a fresh database per test, driven over
//! real HTTP. One binary, so it links once.

mod broker;
mod helpers;

mod access;
mod claims;
mod dead_letters;
mod executions;
mod ingest;
mod isolation;
mod kafka;
mod kafka_broker;
mod kubernetes;
mod logs;
mod no_loss;
mod pages;
mod postgres;
mod projects;
mod real_cluster;
mod recovery;
mod runs;
mod startup;
mod trusted;
mod validate;
mod values;
mod webhooks;
