//! Pieces the pages share.

pub mod log_view;
pub mod run_form;
pub mod session;
pub mod status;
