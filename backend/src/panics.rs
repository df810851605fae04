//! What a caught panic said, for the record it leaves (a dead letter, a failed sync, a log line).

use std::any::Any;

/// The message a panic was raised with, or `unknown` when it carried something else.
pub fn message(panic: &(dyn Any + Send)) -> String {
    let text = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
    text.unwrap_or_else(|| "unknown".into())
}
