//! sea-orm entities, one per table. The schema itself lives in the `migration` crate.

pub mod api_token;
pub mod audit_entry;
pub mod bus_offset;
pub mod bus_record;
pub mod dead_letter;
pub mod event;
pub mod event_source;
pub mod execution;
pub mod execution_attempt;
pub mod log_line;
pub mod outbox;
pub mod project;
pub mod project_sync;
pub mod schedule_mark;
pub mod scoped_value;
pub mod service;
pub mod session;
pub mod setting;
pub mod user;
