//! JSON merge patch (RFC 7396). The emulator applies strategic merge patches and server-side apply bodies
//! with it too: for the flat objects k8x writes the results agree; they differ only for lists a strategic
//! patch would merge by key (e.g. `containers`), which a merge patch replaces whole.

use serde_json::Value;

/// Applies `patch` to `target` in place: objects merge key by key, `null` deletes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_deletes_and_replaces() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "l": [1, 2], "s": "x"});
        merge(&mut doc, &json!({"a": {"b": null, "d": 3}, "l": [3], "n": {"m": 1}}));
        assert_eq!(doc, json!({"a": {"c": 2, "d": 3}, "l": [3], "s": "x", "n": {"m": 1}}));
    }
}
