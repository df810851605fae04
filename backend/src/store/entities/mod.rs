//! sea-orm entities, one per table. The schema itself lives in the `migration` crate.

pub mod bus_offset;
pub mod bus_record;
pub mod event;
pub mod execution;
pub mod log_line;
pub mod service;
pub mod setting;
