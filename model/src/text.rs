//! Small text helpers shared by the form parser and the service-file catalog.

/// A parser's message without the ` at line L column C` that serde_json and serde_yaml append, for errors
/// that report the position themselves.
pub fn without_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => &message[..at],
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_position_suffix_goes() {
        assert_eq!(super::without_position("trailing comma at line 1 column 38"), "trailing comma");
        assert_eq!(super::without_position("missing field `name`"), "missing field `name`");
    }
}
