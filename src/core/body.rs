//! Request bodies as JSON objects, and typed reads of their fields.

use serde_json::{Map, Value};

use crate::core::violation::Violation;

/// Why a body could not be read as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON at all (`400 invalid_json`).
    InvalidJson,
    /// JSON, but not an object (`400 validation_failed`).
    NotAnObject,
}

/// A request body that parsed as a JSON object. Fields we do not know are ignored.
#[derive(Debug, Default)]
pub struct Body(Map<String, Value>);

impl Body {
    pub fn parse(bytes: &[u8]) -> Result<Self, BodyError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(BodyError::NotAnObject),
            Err(_) => Err(BodyError::InvalidJson),
        }
    }

    /// Like `parse`, but an empty body is an empty object (for routes whose fields are all optional).
    pub fn parse_optional(bytes: &[u8]) -> Result<Self, BodyError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        Self::parse(bytes)
    }

    /// The field's value; `null` counts as absent.
    pub fn value(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// The field's value as sent, `null` included (for fields where `null` means "clear").
    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    pub fn optional_string(&self, field: &'static str) -> Result<Option<&str>, Violation> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Violation::wrong_type(field, "a string")),
        }
    }

    /// A field that holds an object of its own (absent or `null`: `None`), read as a body.
    pub fn object(&self, field: &'static str) -> Result<Option<Body>, Violation> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Self(map.clone()))),
            Some(_) => Err(Violation::wrong_type(field, "an object")),
        }
    }

    pub fn string(&self, field: &'static str) -> Result<&str, Violation> {
        self.optional_string(field)?
            .ok_or_else(|| Violation::missing(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_are_bodies() {
        assert_eq!(Body::parse(b"{").unwrap_err(), BodyError::InvalidJson);
        assert_eq!(Body::parse(b"").unwrap_err(), BodyError::InvalidJson);
        assert_eq!(
            Body::parse(b"\xff\xfe").unwrap_err(),
            BodyError::InvalidJson
        );
        assert_eq!(Body::parse(b"[1]").unwrap_err(), BodyError::NotAnObject);
        assert_eq!(
            Body::parse(b"\"text\"").unwrap_err(),
            BodyError::NotAnObject
        );
        assert!(Body::parse(b" {} ").is_ok());
        assert!(Body::parse_optional(b"  ").is_ok());
    }

    #[test]
    fn fields_are_typed() {
        let body = Body::parse(br#"{"a": "x", "n": 1, "z": null}"#).unwrap();
        assert_eq!(body.string("a"), Ok("x"));
        assert_eq!(body.string("n").unwrap_err().reason, "wrong_type");
        assert_eq!(body.string("z").unwrap_err().reason, "missing");
        assert_eq!(body.string("absent").unwrap_err().reason, "missing");
        assert_eq!(body.optional_string("absent"), Ok(None));
    }
}
