//! One file per route.

pub mod execution;
pub mod executions;
pub mod service;
pub mod services;
