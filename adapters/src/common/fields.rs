//! Event fields that keep what the event carried: order, and borrowed text where possible.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A JSON object of strings (headers, query parameters) in the order the event lists them.
/// `null` and a missing field both read as empty, and a pair whose value is `null` reads as
/// absent (real emulators send `"x": null` for what AWS leaves out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedMap<'a, V = Cow<'a, str>>(pub Vec<(Cow<'a, str>, V)>);

impl<V> Default for OrderedMap<'_, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'a, V> OrderedMap<'a, V> {
    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The first value whose name matches `name`, ignoring ASCII case.
    pub fn get_ignore_case(&self, name: &str) -> Option<&V> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<'a, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = Vec<(Cow<'de, str>, V)>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or null")
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_some<D: Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<Self::Value, D::Error> {
                deserializer.deserialize_map(self)
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((key, value)) = map.next_entry::<CowStr<'de>, Option<V>>()? {
                    if let Some(value) = value {
                        pairs.push((key.0, value));
                    }
                }
                Ok(pairs)
            }
        }

        deserializer
            .deserialize_option(MapVisitor(std::marker::PhantomData))
            .map(OrderedMap)
    }
}

/// A string borrowed from the event when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reads_null_as_empty() {
        let map: OrderedMap<'_> = serde_json::from_str(r#"{"b":"1","a":"2","B":"3"}"#).unwrap();
        let keys: Vec<&str> = map.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["b", "a", "B"]);
        assert_eq!(map.get_ignore_case("b").map(|v| v.as_ref()), Some("1"));
        let empty: OrderedMap<'_> = serde_json::from_str("null").unwrap();
        assert!(empty.is_empty());
        let nulls: OrderedMap<'_> = serde_json::from_str(r#"{"a":null,"b":"","c":null}"#).unwrap();
        assert_eq!(nulls.0, [("b".into(), "".into())]);
        let raw: OrderedMap<'_, &serde_json::value::RawValue> =
            serde_json::from_str(r#"{"a":null,"b":1}"#).unwrap();
        assert_eq!(raw.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["b"]);
        let multi: OrderedMap<'_, Vec<Cow<'_, str>>> =
            serde_json::from_str(r#"{"x":["1","2"]}"#).unwrap();
        assert_eq!(multi.0[0].1.len(), 2);
    }
}
