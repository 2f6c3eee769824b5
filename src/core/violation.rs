//! Why an input was refused, per field, as the `fields` of a `validation_failed` error.

/// One refused field: its name, a stable reason code, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: &'static str,
    pub reason: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(field: &'static str, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            reason,
            message: message.into(),
        }
    }

    pub fn missing(field: &'static str) -> Self {
        Self::new(field, "missing", format!("{field} is required"))
    }

    pub fn wrong_type(field: &'static str, expected: &str) -> Self {
        Self::new(field, "wrong_type", format!("{field} must be {expected}"))
    }
}

/// Every refused field of one request, in the order the fields were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// Collects the errors of several field results; `None` when all of them were fine.
    pub fn collect<const N: usize>(errors: [Option<Violation>; N]) -> Option<Self> {
        let found: Vec<Violation> = errors.into_iter().flatten().collect();
        (!found.is_empty()).then_some(Self(found))
    }

    /// The sentence shown as `message`: the first field's.
    pub fn message(&self) -> &str {
        self.0
            .first()
            .map_or("Invalid input", |v| v.message.as_str())
    }
}

impl From<Violation> for Violations {
    fn from(violation: Violation) -> Self {
        Self(vec![violation])
    }
}

/// All violations of a body at once, so a client fixes every field in one go.
pub fn refused<const N: usize>(errors: [Option<Violation>; N]) -> Violations {
    Violations::collect(errors)
        .unwrap_or_else(|| Violation::new("body", "invalid", "Invalid input").into())
}
