//! A cheap look at an event's fields, shared by every adapter's `can_handle`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::Error;

/// The top-level fields of an event, scanned once per invocation without building values.
///
/// Adapters probe a few fields (`probe.has("Records")`, `probe.str_at(&["requestContext",
/// "http", "method"])`) to decide whether the event is theirs; values are only parsed
/// when asked for.
pub struct EventProbe<'a> {
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> EventProbe<'a> {
    /// Scans a JSON object. Anything else (not JSON, an array, a string) is a malformed event.
    pub fn new(event: &'a [u8]) -> Result<Self, Error> {
        let mut de = serde_json::Deserializer::from_slice(event);
        let fields = de
            .deserialize_map(FieldsVisitor)
            .and_then(|fields| de.end().map(|()| fields))
            .map_err(|err| {
                Error::malformed_event(format!("the event is not a JSON object: {err}"))
            })?;
        Ok(Self { fields })
    }

    fn from_raw(raw: &'a RawValue) -> Option<Self> {
        let mut de = serde_json::Deserializer::from_str(raw.get());
        de.deserialize_map(FieldsVisitor)
            .ok()
            .map(|fields| Self { fields })
    }

    /// The raw JSON of a top-level field.
    pub fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.fields
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, raw)| *raw)
    }

    /// True when the field is present and not `null`.
    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some_and(|raw| raw.get() != "null")
    }

    /// The field, deserialized (`None` when absent or of another type).
    pub fn get<T: Deserialize<'a>>(&self, key: &str) -> Option<T> {
        self.raw(key)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// A string field.
    pub fn str(&self, key: &str) -> Option<Cow<'a, str>> {
        self.get::<Cow<'a, str>>(key)
    }

    /// The object in a field, probed in turn.
    pub fn object(&self, key: &str) -> Option<EventProbe<'a>> {
        self.raw(key).and_then(Self::from_raw)
    }

    /// The raw JSON at a path of object fields.
    pub fn raw_at(&self, path: &[&str]) -> Option<&'a RawValue> {
        let (last, parents) = path.split_last()?;
        let mut object = None::<EventProbe<'a>>;
        for key in parents {
            let next = match &object {
                None => self.object(key),
                Some(current) => current.object(key),
            };
            object = Some(next?);
        }
        match &object {
            None => self.raw(last),
            Some(current) => current.raw(last),
        }
    }

    /// A string at a path of object fields.
    pub fn str_at(&self, path: &[&str]) -> Option<Cow<'a, str>> {
        self.raw_at(path)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// The first element of an array field, when it is an object (`Records[0]`, say);
    /// the rest of the array is skipped, not parsed.
    pub fn first_of(&self, key: &str) -> Option<EventProbe<'a>> {
        let raw = self.raw(key)?;
        let mut de = serde_json::Deserializer::from_str(raw.get());
        let first = de.deserialize_seq(FirstVisitor).ok()??;
        Self::from_raw(first)
    }

    /// The names of the top-level fields, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_ref())
    }
}

impl fmt::Debug for EventProbe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            fields.push((key, value));
        }
        Ok(fields)
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

struct FirstVisitor;

impl<'de> Visitor<'de> for FirstVisitor {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let first = seq.next_element::<&'de RawValue>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_fields_and_paths() {
        let event =
            br#"{"version":"2.0","requestContext":{"http":{"method":"GET"},"domainName":"x"},
            "Records":[{"eventSource":"aws:sqs"},{"eventSource":"other"}],"n":null,"k\u0065y":1}"#;
        let probe = EventProbe::new(event).unwrap();
        assert_eq!(probe.str("version").as_deref(), Some("2.0"));
        assert_eq!(
            probe
                .str_at(&["requestContext", "http", "method"])
                .as_deref(),
            Some("GET")
        );
        assert!(probe.str_at(&["requestContext", "missing", "x"]).is_none());
        assert_eq!(
            probe
                .first_of("Records")
                .unwrap()
                .str("eventSource")
                .as_deref(),
            Some("aws:sqs")
        );
        assert!(probe.has("Records"));
        assert!(!probe.has("n"));
        assert!(probe.has("key"), "escaped keys are decoded");
        assert!(probe.get::<u32>("version").is_none());
    }

    #[test]
    fn rejects_what_is_not_an_object() {
        for bad in [
            &b"not json"[..],
            b"[1,2]",
            b"\"s\"",
            b"{\"a\":1",
            b"{} trailing",
            b"",
        ] {
            let err = EventProbe::new(bad).unwrap_err();
            assert!(err.is_malformed_event(), "{bad:?}");
        }
    }

    #[test]
    fn empty_arrays_have_no_first() {
        let probe = EventProbe::new(br#"{"Records":[]}"#).unwrap();
        assert!(probe.first_of("Records").is_none());
    }
}
