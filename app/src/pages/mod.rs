//! One file per route.

pub mod admin;
pub mod execution;
pub mod executions;
pub mod login;
pub mod project;
pub mod projects;
pub mod service;
pub mod services;
