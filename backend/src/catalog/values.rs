//! `configs.json` (any JSON object) and `secrets.json` (a flat object whose keys become environment
//! variables).

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::{
    is_env_name,
    locate::Step,
    problems::{self, json_error, Problems, Syntax},
    CatalogError,
};

/// Parses `configs.json`: any JSON object.
pub fn parse_configs(file: &str, json: &str) -> Result<Map<String, Value>, CatalogError> {
    match serde_json::from_str::<Value>(json).map_err(|e| json_error(file, &e))? {
        Value::Object(map) => Ok(map),
        _ => Err(CatalogError::new(file, "must be a JSON object").line(1).column(1)),
    }
}

/// Parses `secrets.json`; stops at the first problem: see [`check_secrets`].
pub fn parse_secrets(file: &str, json: &str) -> Result<BTreeMap<String, SecretString>, CatalogError> {
    check_secrets(file, json).map_err(|all| problems::first(file, all))
}

/// Parses `secrets.json`: a flat object; numbers and booleans are taken as their text. Every bad key is
/// reported.
pub fn check_secrets(file: &str, json: &str) -> Result<BTreeMap<String, SecretString>, Vec<CatalogError>> {
    let Value::Object(map) = serde_json::from_str::<Value>(json).map_err(|e| vec![json_error(file, &e)])? else {
        return Err(vec![CatalogError::new(file, "must be a flat JSON object").line(1).column(1)]);
    };
    let mut problems = Problems::new(file, json, Syntax::Json);
    let mut secrets = BTreeMap::new();
    for (key, value) in map {
        let why = match value {
            _ if !is_env_name(&key) => {
                "a secret's name becomes an environment variable: use letters, digits and `_`, not starting with a digit"
            }
            Value::String(s) => {
                secrets.insert(key, s.into());
                continue;
            }
            Value::Number(_) | Value::Bool(_) => {
                secrets.insert(key, value.to_string().into());
                continue;
            }
            _ => "a secret must be a string, number or boolean",
        };
        problems.at(&[Step::Key(&key)], key.as_str(), why);
    }
    problems.result(secrets)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn secrets_must_be_flat_and_every_bad_key_is_named() {
        let parsed = parse_secrets("s.json", r#"{"A": "x-value", "N": 3}"#).unwrap();
        assert_eq!(parsed["N"].expose_secret(), "3");
        assert!(!format!("{parsed:?}").contains("x-value"), "Debug never shows a secret value");
        let err = parse_secrets("s.json", r#"{"A": {"b": 1}}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("A"));
        let all = check_secrets("s.json", "{\n\"api-key\": \"x\",\n\"GOOD\": 1,\n\"9LIVES\": \"y\",\n\"LIST\": []\n}")
            .unwrap_err();
        let found: Vec<_> = all.iter().map(|p| (p.field.as_deref().unwrap_or(""), p.line.unwrap_or(0))).collect();
        assert_eq!(found, [("api-key", 2), ("9LIVES", 4), ("LIST", 5)], "{all:?}");
        assert!(all.iter().all(|p| !p.message.contains("x-value")));
        assert_eq!(parse_secrets("s.json", "[]").unwrap_err().line, Some(1));
    }

    #[test]
    fn configs_are_an_object() {
        assert!(parse_configs("c.json", "[1]").is_err());
        let err = parse_configs("c.json", "{\n\"a\": }").unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(6)), "{err}");
    }
}
