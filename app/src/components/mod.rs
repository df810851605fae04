//! Pieces the pages share: the run form, the live log, status badges, the signed-in user, scoped values.

pub mod log_view;
pub mod run_form;
pub mod session;
pub mod status;
pub mod values;
