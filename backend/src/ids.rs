//! Derived identifiers. An id computed from what identifies a thing makes its creation idempotent: the
//! same event for the same service always names the same execution.

use uuid::Uuid;

/// k8x's UUID v5 namespace.
const NAMESPACE: Uuid = Uuid::from_u128(0x6b38_78a1_93b4_4c4e_9a51_2f3c_0d4e_8b17);

/// A UUID v5 over the parts, separated so that ("ab", "c") and ("a", "bc") differ.
pub fn derived(parts: &[&str]) -> String {
    let mut name = Vec::new();
    for part in parts {
        name.extend_from_slice(&(part.len() as u64).to_be_bytes());
        name.extend_from_slice(part.as_bytes());
    }
    Uuid::new_v5(&NAMESPACE, &name).to_string()
}

/// The key of an event: CloudEvents makes (source, id) unique.
pub fn event_key(source: &str, id: &str) -> String {
    derived(&["event", source, id])
}

/// The execution of `service` for the event with key `event_key`.
pub fn execution_id(event_key: &str, service: &str) -> String {
    derived(&["execution", event_key, service])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(event_key("s", "1"), event_key("s", "1"));
        assert_ne!(derived(&["ab", "c"]), derived(&["a", "bc"]));
        let key = event_key("s", "1");
        assert_ne!(execution_id(&key, "a"), execution_id(&key, "b"));
    }
}
