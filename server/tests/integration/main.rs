//! Integration tests: the whole k8x started in-process on port 0 with a fresh database per test, driven over
//! real HTTP. One binary, so it links once.

mod helpers;

mod ingest;
mod kafka;
mod logs;
mod pages;
mod postgres;
mod recovery;
mod runs;
