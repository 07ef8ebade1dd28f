//! The validator: every message judged against the schema of [`super::Event`], with
//! every problem named by its permanent code and worded with its path. A payload that
//! reads as an [`Event`] and passes every check takes the fast path (no JSON tree);
//! anything else is walked as a tree, field by field, with the field lists of
//! [`EventKind`].

use super::{
    Event, EventKind, BATCH_TOKEN, EVENT_TYPE_BATCH, EVENT_TYPE_SINGLE, EXTRACTION_TYPES,
    MAX_EVENT_BYTES,
};
use crate::rfc3339;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// What is wrong with a message. The kebab-case names are permanent: scripts count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemCode {
    /// A count (`records_fetched`, `symbols_processed`, …) is below zero.
    CountNegative,
    /// A count is a number with a fraction or exponent instead of an integer.
    CountNotInteger,
    /// `duration_seconds` is below zero or not finite.
    DurationNegative,
    /// `success` is false and `errors` is empty: a failure nobody can diagnose.
    ErrorsMissing,
    /// `event_type` is neither `extraction_completed` nor `batch_extraction_completed`.
    EventTypeUnknown,
    /// `extraction_type` is not one of the documented types.
    ExtractionTypeUnknown,
    /// A required field is absent.
    FieldMissing,
    /// A field has the wrong JSON type (a string where a number belongs, …).
    FieldWrongType,
    /// The payload is not JSON (or not UTF-8).
    NotJson,
    /// The payload is JSON but not an object.
    NotObject,
    /// The payload is larger than [`MAX_EVENT_BYTES`].
    PayloadTooLarge,
    /// The subject does not have the `{prefix}.{type}.{symbol|batch}.{period}` layout.
    SubjectLayout,
    /// A subject token disagrees with the payload (type, symbol or `batch`, period).
    SubjectMismatch,
    /// `symbols_processed` differs from the number of `symbols`.
    SymbolsCountMismatch,
    /// `timestamp` is not a valid RFC 3339 date-time.
    TimestampInvalid,
}

impl ProblemCode {
    /// Every code, sorted by name.
    pub const ALL: [ProblemCode; 15] = [
        ProblemCode::CountNegative,
        ProblemCode::CountNotInteger,
        ProblemCode::DurationNegative,
        ProblemCode::ErrorsMissing,
        ProblemCode::EventTypeUnknown,
        ProblemCode::ExtractionTypeUnknown,
        ProblemCode::FieldMissing,
        ProblemCode::FieldWrongType,
        ProblemCode::NotJson,
        ProblemCode::NotObject,
        ProblemCode::PayloadTooLarge,
        ProblemCode::SubjectLayout,
        ProblemCode::SubjectMismatch,
        ProblemCode::SymbolsCountMismatch,
        ProblemCode::TimestampInvalid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::CountNegative => "count-negative",
            ProblemCode::CountNotInteger => "count-not-integer",
            ProblemCode::DurationNegative => "duration-negative",
            ProblemCode::ErrorsMissing => "errors-missing",
            ProblemCode::EventTypeUnknown => "event-type-unknown",
            ProblemCode::ExtractionTypeUnknown => "extraction-type-unknown",
            ProblemCode::FieldMissing => "field-missing",
            ProblemCode::FieldWrongType => "field-wrong-type",
            ProblemCode::NotJson => "not-json",
            ProblemCode::NotObject => "not-object",
            ProblemCode::PayloadTooLarge => "payload-too-large",
            ProblemCode::SubjectLayout => "subject-layout",
            ProblemCode::SubjectMismatch => "subject-mismatch",
            ProblemCode::SymbolsCountMismatch => "symbols-count-mismatch",
            ProblemCode::TimestampInvalid => "timestamp-invalid",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One reason a message is invalid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: ProblemCode,
    pub message: String,
}

impl Problem {
    fn new(code: ProblemCode, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
        }
    }
}

/// The fields a one-line display shows, read leniently: whatever was missing or of the
/// wrong type is `None` (the problems say why).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventDigest {
    pub event_type: Option<String>,
    pub extraction_type: Option<String>,
    pub symbols: Vec<String>,
    pub period: Option<String>,
    pub records_fetched: Option<u64>,
    pub records_written: Option<u64>,
    pub duration_seconds: Option<f64>,
    pub success: Option<bool>,
}

/// The verdict on one message.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub problems: Vec<Problem>,
    /// Whether the payload is a JSON object (and may be echoed as the `event`).
    pub is_object: bool,
    pub digest: EventDigest,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Validates one message. `prefix`, when given, is the configured subject prefix: a
/// subject under it must have exactly the three documented tokens after it. Without it
/// (or for a subject outside it), only the last three tokens are compared.
pub fn validate(subject: &str, payload: &[u8], prefix: Option<&str>) -> Checked {
    validate_with(subject, payload, prefix, true)
}

/// [`validate`] without its fast path: the full validator alone, which must come to the
/// same verdict, with the same digest, on every message (the property tests compare
/// them on generated and arbitrary payloads).
pub fn validate_without_fast_path(subject: &str, payload: &[u8], prefix: Option<&str>) -> Checked {
    validate_with(subject, payload, prefix, false)
}

fn validate_with(subject: &str, payload: &[u8], prefix: Option<&str>, fast: bool) -> Checked {
    let mut checked = Checked::default();
    if payload.len() > MAX_EVENT_BYTES {
        checked.problems.push(Problem::new(
            ProblemCode::PayloadTooLarge,
            format!(
                "payload is {} bytes, more than the {} an extraction event can plausibly need",
                payload.len(),
                MAX_EVENT_BYTES
            ),
        ));
        return checked;
    }
    if let Some(digest) = fast.then(|| fast_valid(subject, payload, prefix)).flatten() {
        checked.is_object = true;
        checked.digest = digest;
        return checked;
    }
    validate_fully(subject, payload, prefix, checked)
}

/// The validator that words every problem; `validate` calls it for whatever the fast
/// path did not accept.
fn validate_fully(
    subject: &str,
    payload: &[u8],
    prefix: Option<&str>,
    mut checked: Checked,
) -> Checked {
    let value: Value = match serde_json::from_slice(payload) {
        Ok(value) => value,
        Err(error) => {
            checked.problems.push(Problem::new(
                ProblemCode::NotJson,
                format!("payload is not JSON: {error}"),
            ));
            return checked;
        }
    };
    let Value::Object(object) = value else {
        checked.problems.push(Problem::new(
            ProblemCode::NotObject,
            format!("payload is a JSON {}, not an object", json_kind(&value)),
        ));
        return checked;
    };
    checked.is_object = true;
    let mut validator = Validator {
        problems: Vec::new(),
        symbols_listed: None,
    };
    checked.digest = validator.object(&object);
    validator.subject(subject, prefix, &checked.digest);
    checked.problems = validator.problems;
    checked
}

/// The digest of a message that is certainly valid, or `None` when any check fails or
/// cannot be decided this way. `watch` must keep up with bursts, and reading into the
/// borrowed [`Event`] is several times cheaper than building a `Value`; every message
/// this does not accept goes through the full validator, which alone words the
/// problems.
fn fast_valid(subject: &str, payload: &[u8], prefix: Option<&str>) -> Option<EventDigest> {
    let event: Event<'_> = serde_json::from_slice(payload).ok()?;
    let metrics = &event.metrics;
    let kind = EventKind::of(&event.event_type)?;
    let mut counts = kind.counts().iter().map(|(_, count)| count(metrics));
    let records_fetched = counts.next()??;
    let records_written = counts.next()??;
    if counts.any(|count| count.is_none()) {
        return None;
    }
    let symbols: Vec<String> = match kind {
        EventKind::Single => vec![event.symbol?.into_owned()],
        EventKind::Batch => {
            let symbols: Vec<String> = event.symbols?.into_iter().map(Cow::into_owned).collect();
            if metrics.symbols_processed? != symbols.len() as u64 {
                return None;
            }
            symbols
        }
    };
    let duration = metrics.duration_seconds;
    let plausible = EXTRACTION_TYPES.contains(&event.extraction_type.as_ref())
        && duration.is_finite()
        && duration >= 0.0
        && (event.success || !event.errors.is_empty())
        && rfc3339::parse(&event.timestamp).is_ok();
    if !plausible {
        return None;
    }
    let digest = EventDigest {
        event_type: Some(event.event_type.into_owned()),
        extraction_type: Some(event.extraction_type.into_owned()),
        symbols,
        period: Some(event.period.into_owned()),
        records_fetched: Some(records_fetched),
        records_written: Some(records_written),
        duration_seconds: Some(duration),
        success: Some(event.success),
    };
    let mut validator = Validator {
        problems: Vec::new(),
        symbols_listed: None,
    };
    validator.subject(subject, prefix, &digest);
    validator.problems.is_empty().then_some(digest)
}

struct Validator {
    problems: Vec<Problem>,
    /// Length of a batch event's `symbols` array, once it was read as an array.
    symbols_listed: Option<usize>,
}

impl Validator {
    fn push(&mut self, code: ProblemCode, message: String) {
        self.problems.push(Problem::new(code, message));
    }

    /// The field if present; a `field-missing` problem otherwise.
    fn required<'v>(&mut self, object: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
        let name = path.rsplit('.').next().unwrap_or(path);
        let value = object.get(name);
        if value.is_none() {
            self.push(
                ProblemCode::FieldMissing,
                format!("required field `{path}` is missing"),
            );
        }
        value
    }

    fn wrong_type(&mut self, path: &str, expected: &str, value: &Value) {
        self.push(
            ProblemCode::FieldWrongType,
            format!(
                "`{path}` must be {expected}, found {} {}",
                json_kind(value),
                preview(value)
            ),
        );
    }

    fn string(&mut self, object: &Map<String, Value>, path: &str) -> Option<String> {
        match self.required(object, path)? {
            Value::String(text) => Some(text.clone()),
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    fn bool(&mut self, object: &Map<String, Value>, path: &str) -> Option<bool> {
        match self.required(object, path)? {
            Value::Bool(flag) => Some(*flag),
            other => {
                self.wrong_type(path, "true or false", other);
                None
            }
        }
    }

    fn strings(&mut self, object: &Map<String, Value>, path: &str) -> Option<Vec<String>> {
        match self.required(object, path)? {
            Value::Array(items) => {
                let mut strings = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::String(text) => strings.push(text.clone()),
                        other => self.wrong_type(&format!("{path}[{index}]"), "a string", other),
                    }
                }
                Some(strings)
            }
            other => {
                self.wrong_type(path, "an array of strings", other);
                None
            }
        }
    }

    /// A non-negative integer count.
    fn count(&mut self, object: &Map<String, Value>, path: &str) -> Option<u64> {
        match self.required(object, path)? {
            Value::Number(number) => {
                if let Some(count) = number.as_u64() {
                    Some(count)
                } else if number.as_i64().is_some() {
                    self.push(
                        ProblemCode::CountNegative,
                        format!("`{path}` is {number}; counts cannot be negative"),
                    );
                    None
                } else {
                    self.push(
                        ProblemCode::CountNotInteger,
                        format!("`{path}` is {number}; counts are whole numbers"),
                    );
                    None
                }
            }
            other => {
                self.wrong_type(path, "a non-negative integer", other);
                None
            }
        }
    }

    fn duration(&mut self, object: &Map<String, Value>, path: &str) -> Option<f64> {
        match self.required(object, path)? {
            Value::Number(number) => {
                let seconds = number.as_f64().unwrap_or(f64::NAN);
                if seconds.is_finite() && seconds >= 0.0 {
                    Some(seconds)
                } else {
                    self.push(
                        ProblemCode::DurationNegative,
                        format!("`{path}` is {number}; a duration cannot be negative"),
                    );
                    None
                }
            }
            other => {
                self.wrong_type(path, "a number of seconds", other);
                None
            }
        }
    }

    fn object(&mut self, object: &Map<String, Value>) -> EventDigest {
        let mut digest = EventDigest::default();
        let kind = match self.string(object, "event_type") {
            Some(event_type) => {
                let kind = match EventKind::of(&event_type) {
                    Some(kind) => Some(kind),
                    None => {
                        self.push(
                            ProblemCode::EventTypeUnknown,
                            format!(
                                "`event_type` is {event_type:?}, expected \
                                 {EVENT_TYPE_SINGLE:?} or {EVENT_TYPE_BATCH:?}"
                            ),
                        );
                        None
                    }
                };
                digest.event_type = Some(event_type);
                kind
            }
            None => None,
        };
        if let Some(extraction_type) = self.string(object, "extraction_type") {
            if !EXTRACTION_TYPES.contains(&extraction_type.as_str()) {
                self.push(
                    ProblemCode::ExtractionTypeUnknown,
                    format!(
                        "`extraction_type` is {extraction_type:?}, expected one of {}",
                        EXTRACTION_TYPES.join(", ")
                    ),
                );
            }
            digest.extraction_type = Some(extraction_type);
        }
        match kind {
            Some(EventKind::Single) => {
                if let Some(symbol) = self.string(object, "symbol") {
                    digest.symbols = vec![symbol];
                }
            }
            Some(EventKind::Batch) => {
                if let Some(symbols) = self.strings(object, "symbols") {
                    self.symbols_listed = object
                        .get("symbols")
                        .and_then(Value::as_array)
                        .map(Vec::len);
                    digest.symbols = symbols;
                }
            }
            // Without a known event type the symbol fields cannot be required; show
            // whichever is there.
            None => {
                if let Some(Value::String(symbol)) = object.get("symbol") {
                    digest.symbols = vec![symbol.clone()];
                }
            }
        }
        digest.period = self.string(object, "period");
        if let Some(timestamp) = self.string(object, "timestamp") {
            if let Err(error) = rfc3339::parse(&timestamp) {
                self.push(
                    ProblemCode::TimestampInvalid,
                    format!("`timestamp` {timestamp:?} is not RFC 3339: it {error}"),
                );
            }
        }
        digest.success = self.bool(object, "success");
        let errors = self.strings(object, "errors");
        if digest.success == Some(false) && errors.as_ref().is_some_and(Vec::is_empty) {
            self.push(
                ProblemCode::ErrorsMissing,
                "`success` is false but `errors` is empty".to_string(),
            );
        }
        match self.required(object, "metrics") {
            Some(Value::Object(metrics)) => self.metrics(metrics, kind, &mut digest),
            Some(other) => self.wrong_type("metrics", "an object", other),
            None => {}
        }
        digest
    }

    fn metrics(
        &mut self,
        metrics: &Map<String, Value>,
        kind: Option<EventKind>,
        digest: &mut EventDigest,
    ) {
        digest.duration_seconds = self.duration(metrics, "metrics.duration_seconds");
        let Some(kind) = kind else {
            return;
        };
        let counts: Vec<Option<u64>> = kind
            .counts()
            .iter()
            .map(|(path, _)| self.count(metrics, path))
            .collect();
        digest.records_fetched = counts[0];
        digest.records_written = counts[1];
        if kind == EventKind::Batch {
            let processed = counts.last().copied().flatten();
            if let (Some(processed), Some(listed)) = (processed, self.symbols_listed) {
                if processed != listed as u64 {
                    self.push(
                        ProblemCode::SymbolsCountMismatch,
                        format!(
                            "`metrics.symbols_processed` is {processed} but `symbols` \
                             lists {listed}"
                        ),
                    );
                }
            }
        }
    }

    fn subject(&mut self, subject: &str, prefix: Option<&str>, digest: &EventDigest) {
        let tokens: Vec<&str> = subject.split('.').collect();
        let under_prefix = prefix
            .filter(|prefix| {
                subject.len() > prefix.len()
                    && subject.starts_with(prefix)
                    && subject.as_bytes()[prefix.len()] == b'.'
            })
            .map(|prefix| subject[prefix.len() + 1..].split('.').count());
        let layout_ok = match under_prefix {
            Some(after_prefix) => after_prefix == 3,
            None => tokens.len() >= 4,
        };
        if !layout_ok {
            let expected = match prefix {
                Some(prefix) => format!("{prefix}.{{type}}.{{symbol|batch}}.{{period}}"),
                None => "{prefix}.{type}.{symbol|batch}.{period}".to_string(),
            };
            self.push(
                ProblemCode::SubjectLayout,
                format!("subject `{subject}` does not have the layout `{expected}`"),
            );
            return;
        }
        let [type_token, symbol_token, period_token] = [
            tokens[tokens.len() - 3],
            tokens[tokens.len() - 2],
            tokens[tokens.len() - 1],
        ];
        if let Some(extraction_type) = &digest.extraction_type {
            if extraction_type != type_token {
                self.push(
                    ProblemCode::SubjectMismatch,
                    format!(
                        "subject type token `{type_token}` but `extraction_type` is \
                         {extraction_type:?}"
                    ),
                );
            }
        }
        let expected_symbol_token = match digest.event_type.as_deref() {
            Some(EVENT_TYPE_BATCH) => Some(BATCH_TOKEN.to_string()),
            Some(EVENT_TYPE_SINGLE) => digest.symbols.first().cloned(),
            _ => None,
        };
        if let Some(expected) = expected_symbol_token {
            if expected != symbol_token {
                let what = if expected == BATCH_TOKEN {
                    "a batch event belongs under `batch`".to_string()
                } else {
                    format!("`symbol` is {expected:?}")
                };
                self.push(
                    ProblemCode::SubjectMismatch,
                    format!("subject symbol token `{symbol_token}` but {what}"),
                );
            }
        }
        if let Some(period) = &digest.period {
            if period != period_token {
                self.push(
                    ProblemCode::SubjectMismatch,
                    format!("subject period token `{period_token}` but `period` is {period:?}"),
                );
            }
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A short rendering of a value for messages; long strings and containers are elided.
fn preview(value: &Value) -> String {
    match value {
        Value::Array(_) => "[…]".to_string(),
        Value::Object(_) => "{…}".to_string(),
        Value::String(text) if text.chars().count() > 40 => {
            let head: String = text.chars().take(40).collect();
            format!("{head:?}…")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
