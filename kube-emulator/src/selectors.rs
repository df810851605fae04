//! Label and field selectors, parsed from list and watch query strings and matched against objects.
//!
//! Label selectors support every form of the API's string syntax: `k=v`, `k==v`, `k!=v`, `k`, `!k`,
//! `k in (a,b)` and `k notin (a,b)`, joined by commas. Field selectors support `=`, `==` and `!=` on any
//! dotted path whose value is a string (`metadata.name`, `metadata.namespace`, `status.phase`, ...).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::meta;

/// Why a selector could not be parsed; becomes a 400.
#[derive(Debug, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct ParseError(String);

#[derive(Clone, Debug, PartialEq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector(Vec<(String, Op)>);

impl LabelSelector {
    /// Parses the `labelSelector` query value.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        split_top_level(s).into_iter().map(parse_requirement).collect::<Result<_, _>>().map(LabelSelector)
    }

    /// Whether labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|(key, op)| {
            let value = labels.get(key);
            match op {
                Op::Eq(v) => value == Some(v),
                // As in Kubernetes, `!=` and `notin` also match objects without the label.
                Op::NotEq(v) => value != Some(v),
                Op::In(vs) => value.is_some_and(|x| vs.contains(x)),
                Op::NotIn(vs) => value.is_none_or(|x| !vs.contains(x)),
                Op::Exists => value.is_some(),
                Op::NotExists => value.is_none(),
            }
        })
    }
}

/// Splits on commas that are not inside a `( ... )` value set.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

fn parse_requirement(req: &str) -> Result<(String, Op), ParseError> {
    let bad = || ParseError(req.to_owned());
    if let Some(key) = req.strip_prefix('!') {
        return Ok((key.trim().to_owned(), Op::NotExists));
    }
    for (sep, make) in [("!=", Op::NotEq as fn(String) -> Op), ("==", Op::Eq), ("=", Op::Eq)] {
        if let Some((k, v)) = req.split_once(sep) {
            return Ok((k.trim().to_owned(), make(v.trim().to_owned())));
        }
    }
    if let Some(open) = req.find('(') {
        let head = req[..open].trim();
        let values = req[open + 1..].strip_suffix(')').ok_or_else(bad)?;
        let values = values.split(',').map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect();
        let (key, word) = head.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
        let op = match word {
            "in" => Op::In(values),
            "notin" => Op::NotIn(values),
            _ => return Err(bad()),
        };
        return Ok((key.trim().to_owned(), op));
    }
    if req.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok((req.to_owned(), Op::Exists))
}

/// A parsed field selector: (dotted path, equal?, value) triples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses the `fieldSelector` query value.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut reqs = Vec::new();
        for req in s.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (path, equal, value) = if let Some((k, v)) = req.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
                (k, true, v)
            } else {
                return Err(ParseError(req.to_owned()));
            };
            reqs.push((path.trim().to_owned(), equal, value.trim().to_owned()));
        }
        Ok(FieldSelector(reqs))
    }

    /// Whether the object's fields satisfy every requirement (a missing field reads as "").
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, equal, value)| {
            let pointer = format!("/{}", path.replace('.', "/"));
            let actual = obj.pointer(&pointer).and_then(Value::as_str).unwrap_or("");
            (actual == value) == *equal
        })
    }
}

/// Both selectors of a list or watch request.
#[derive(Clone, Debug, Default)]
pub struct Selectors {
    /// From `labelSelector`.
    pub labels: LabelSelector,
    /// From `fieldSelector`.
    pub fields: FieldSelector,
}

impl Selectors {
    /// Parses both (absent means "everything").
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, ParseError> {
        Ok(Self {
            labels: labels.map(LabelSelector::parse).transpose()?.unwrap_or_default(),
            fields: fields.map(FieldSelector::parse).transpose()?.unwrap_or_default(),
        })
    }

    /// Whether the object is selected.
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(&meta::labels(obj)) && self.fields.matches(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_label_form_parses_and_matches() {
        let sel =
            LabelSelector::parse("app=x, tier==web,env!=prod,owner,!legacy,zone in (a, b),size notin (xl)").unwrap();
        let good = labels(&[("app", "x"), ("tier", "web"), ("owner", "me"), ("zone", "b"), ("size", "s")]);
        assert!(sel.matches(&good));
        let mut bad = good.clone();
        bad.insert("legacy".into(), "1".into());
        assert!(!sel.matches(&bad));
        let mut bad = good.clone();
        bad.insert("zone".into(), "c".into());
        assert!(!sel.matches(&bad));
        assert!(LabelSelector::parse("").unwrap().matches(&BTreeMap::new()));
        assert!(LabelSelector::parse("a b").is_err());
    }

    #[test]
    fn field_selector_reads_dotted_paths() {
        let pod = json!({"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": "Running"}});
        assert!(FieldSelector::parse("metadata.name=p,metadata.namespace==ns").unwrap().matches(&pod));
        assert!(!FieldSelector::parse("status.phase!=Running").unwrap().matches(&pod));
    }
}
