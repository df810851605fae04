//! The validated names a `manifest.json` introduces: the service's name and the event types it subscribes to.

/// A service name: spaces become underscores; then letters, digits, `_`, `-` and `.` only, at most 63.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().replace(' ', "_");
        if name.is_empty() {
            return Err("the name is empty".into());
        }
        if name.len() > 63 {
            return Err(format!("`{name}` is longer than 63 characters"));
        }
        if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
            return Err(format!("`{name}` contains `{bad}`; use letters, digits, `_`, `-` and `.`"));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CloudEvent type a service can subscribe to: non-empty, printable, no whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventType(String);

impl EventType {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("an event type is empty".into());
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("event type `{raw}` contains whitespace"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        assert_eq!(ServiceName::parse(" k8s test job ").unwrap().as_str(), "k8s_test_job");
        assert!(ServiceName::parse("").is_err());
        assert!(ServiceName::parse(&"a".repeat(64)).is_err());
        assert!(ServiceName::parse("a/b").unwrap_err().contains("`/`"));
        assert!(EventType::parse("a b").is_err());
        assert!(EventType::parse("").is_err());
        assert_eq!(EventType::parse("k8x.execution.failed").unwrap().as_str(), "k8x.execution.failed");
    }
}
