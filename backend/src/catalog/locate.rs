//! Where a field sits in a JSON or YAML document, found by the document's own parser.
//!
//! Neither serde_json nor serde_yaml_ng hands out the position of a value, but both stamp their position on
//! an error raised while they read one. So to place a field, the document is read again, skipping everything
//! off the path to it, and an error is raised on arrival: its line and column are the field's.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// One step of the path to a field.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step<'a> {
    /// The value of this key of an object.
    Key(&'a str),
    /// The element at this index of an array.
    Index(usize),
    /// The end of the object reached so far: where a missing field would have been written.
    End,
}

/// What the seeker raises on arrival.
const FOUND: &str = "k8x-locate: found";

/// The line and column of the field at `path` in a JSON document; `None` when it is not there.
///
/// For a key, the position is that of the key itself (the value may span lines).
pub(crate) fn in_json(json: &str, path: &[Step<'_>]) -> Option<(usize, usize)> {
    let mut de = serde_json::Deserializer::from_str(json);
    match (Seek { path, stop_at_key: true }).deserialize(&mut de) {
        Err(e) if e.to_string().contains(FOUND) => Some((e.line(), e.column())),
        _ => None,
    }
}

/// The line and column of the field at `path` in a YAML document; `None` when it is not there.
///
/// The position is that of the start of the value.
pub(crate) fn in_yaml(yaml: &str, path: &[Step<'_>]) -> Option<(usize, usize)> {
    let de = serde_yaml_ng::Deserializer::from_str(yaml);
    match (Seek { path, stop_at_key: false }).deserialize(de) {
        Err(e) if e.to_string().contains(FOUND) => e.location().map(|at| (at.line(), at.column())),
        _ => None,
    }
}

/// Walks `path`, ignoring everything else, and raises [`FOUND`] on arrival.
struct Seek<'p, 'a> {
    path: &'p [Step<'a>],
    /// Raise on reading the last key rather than inside its value: serde_json then points at the key.
    stop_at_key: bool,
}

impl<'de> DeserializeSeed<'de> for Seek<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Seek<'_, '_> {
    /// Arrived at a scalar: found if the path ends here.
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        match self.path {
            [] => Err(E::custom(FOUND)),
            _ => Err(E::custom("not here")),
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (key, rest) = match self.path.split_first() {
            None => return Err(de::Error::custom(FOUND)),
            Some((Step::End, _)) => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Err(de::Error::custom(FOUND));
            }
            Some((Step::Index(_), _)) => return Err(de::Error::custom("not here")),
            Some((Step::Key(key), rest)) => (*key, rest),
        };
        while let Some(candidate) = map.next_key::<Value>()? {
            if candidate.as_str() != Some(key) {
                map.next_value::<IgnoredAny>()?;
            } else if rest.is_empty() && self.stop_at_key {
                return Err(de::Error::custom(FOUND));
            } else {
                return map.next_value_seed(Seek { path: rest, stop_at_key: self.stop_at_key });
            }
        }
        Err(de::Error::custom("not here"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (index, rest) = match self.path.split_first() {
            None => return Err(de::Error::custom(FOUND)),
            Some((Step::Index(index), rest)) => (*index, rest),
            Some(_) => return Err(de::Error::custom("not here")),
        };
        for _ in 0..index {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom("not here"));
            }
        }
        seq.next_element_seed(Seek { path: rest, stop_at_key: self.stop_at_key })?;
        Err(de::Error::custom("not here"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{Step::*, *};

    #[test]
    fn json_fields_are_placed_at_their_key() {
        let json = "{\n  \"name\": \"a\",\n  \"trigger_events\": [\n    \"x\",\n    {\"type\": \"y\"}\n  ]\n}\n";
        assert_eq!(in_json(json, &[Key("name")]), Some((2, 8)));
        assert_eq!(in_json(json, &[Key("trigger_events"), Index(1)]).map(|at| at.0), Some(5));
        assert_eq!(in_json(json, &[Key("trigger_events"), Index(0)]).map(|at| at.0), Some(4));
        assert_eq!(in_json(json, &[End]).map(|at| at.0), Some(7));
        assert_eq!(in_json(json, &[Key("missing")]), None);
        assert_eq!(in_json(json, &[Key("trigger_events"), Index(5)]), None);
        assert_eq!(in_json("{broken", &[Key("name")]), None);
    }

    #[test]
    fn yaml_fields_are_placed_at_their_value() {
        let yaml = "apiVersion: apps/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: []\n";
        assert_eq!(in_yaml(yaml, &[Key("apiVersion")]), Some((1, 13)));
        assert_eq!(in_yaml(yaml, &[Key("spec"), Key("template"), Key("spec"), Key("containers")]), Some((6, 19)));
        assert_eq!(in_yaml(yaml, &[Key("status")]), None);
        assert_eq!(in_yaml("- a\n", &[Key("a")]), None);
    }
}
