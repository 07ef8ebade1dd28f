//! The extraction-event schema of the messaging documentation, in one place for both
//! `test-messaging` (which publishes the four sample events and validates what comes
//! back) and `watch` (which validates live events).
//!
//! It owns the subject layout (`{prefix}.{type}.{symbol}.{period}` and
//! `{prefix}.{type}.batch.{period}`), the documented JSON shapes, and the validator with
//! its permanent problem codes (the `by_problem` keys of `watch --format json`).

use crate::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// Payloads above this size are reported as `payload-too-large` and not parsed: the
/// documented events are a few hundred bytes, a batch of every Binance symbol is still
/// far below it, and `watch` must not stall or flood the terminal on a stray blob.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// The `extraction_type` values the documentation lists.
pub const EXTRACTION_TYPES: [&str; 4] = ["klines", "klines_gap_filling", "trades", "funding"];

pub const EVENT_TYPE_SINGLE: &str = "extraction_completed";
pub const EVENT_TYPE_BATCH: &str = "batch_extraction_completed";

/// The subject token that stands where a batch event has no single symbol.
pub const BATCH_TOKEN: &str = "batch";

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

/// The shape of a well-formed event, borrowed from the payload where possible. Fields
/// that only one event type has are optional here; the checks below require them.
#[derive(Deserialize)]
struct FastEvent<'a> {
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    extraction_type: Cow<'a, str>,
    #[serde(borrow)]
    symbol: Option<Cow<'a, str>>,
    #[serde(borrow)]
    symbols: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    period: Cow<'a, str>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    success: bool,
    metrics: FastMetrics,
    #[serde(borrow)]
    errors: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct FastMetrics {
    duration_seconds: f64,
    records_fetched: Option<u64>,
    records_written: Option<u64>,
    gaps_found: Option<u64>,
    gaps_filled: Option<u64>,
    total_records_fetched: Option<u64>,
    total_records_written: Option<u64>,
    total_gaps_found: Option<u64>,
    total_gaps_filled: Option<u64>,
    symbols_processed: Option<u64>,
}

/// The digest of a message that is certainly valid, or `None` when any check fails or
/// cannot be decided this way. `watch` must keep up with bursts, and parsing into a
/// borrowed struct is several times cheaper than building a `Value`; every message this
/// does not accept goes through the full validator, which alone words the problems.
fn fast_valid(subject: &str, payload: &[u8], prefix: Option<&str>) -> Option<EventDigest> {
    let event: FastEvent<'_> = serde_json::from_slice(payload).ok()?;
    let metrics = &event.metrics;
    let (symbols, records_fetched, records_written) = match event.event_type.as_ref() {
        EVENT_TYPE_SINGLE => {
            metrics.gaps_found?;
            metrics.gaps_filled?;
            (
                vec![event.symbol?.into_owned()],
                metrics.records_fetched?,
                metrics.records_written?,
            )
        }
        EVENT_TYPE_BATCH => {
            metrics.total_gaps_found?;
            metrics.total_gaps_filled?;
            let symbols: Vec<String> = event.symbols?.into_iter().map(Cow::into_owned).collect();
            if metrics.symbols_processed? != symbols.len() as u64 {
                return None;
            }
            (
                symbols,
                metrics.total_records_fetched?,
                metrics.total_records_written?,
            )
        }
        _ => return None,
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Single,
    Batch,
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
                let kind = match event_type.as_str() {
                    EVENT_TYPE_SINGLE => Some(Kind::Single),
                    EVENT_TYPE_BATCH => Some(Kind::Batch),
                    _ => {
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
            Some(Kind::Single) => {
                if let Some(symbol) = self.string(object, "symbol") {
                    digest.symbols = vec![symbol];
                }
            }
            Some(Kind::Batch) => {
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
        kind: Option<Kind>,
        digest: &mut EventDigest,
    ) {
        digest.duration_seconds = self.duration(metrics, "metrics.duration_seconds");
        match kind {
            Some(Kind::Single) => {
                digest.records_fetched = self.count(metrics, "metrics.records_fetched");
                digest.records_written = self.count(metrics, "metrics.records_written");
                self.count(metrics, "metrics.gaps_found");
                self.count(metrics, "metrics.gaps_filled");
            }
            Some(Kind::Batch) => {
                digest.records_fetched = self.count(metrics, "metrics.total_records_fetched");
                digest.records_written = self.count(metrics, "metrics.total_records_written");
                self.count(metrics, "metrics.total_gaps_found");
                self.count(metrics, "metrics.total_gaps_filled");
                let processed = self.count(metrics, "metrics.symbols_processed");
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
            None => {}
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

/// Builds an event subject. `symbol` is the symbol of a single event or `batch`.
pub fn subject(prefix: &str, extraction_type: &str, symbol: &str, period: &str) -> String {
    format!("{prefix}.{extraction_type}.{symbol}.{period}")
}

/// The monitoring subjects of the documentation, in the order it lists them, with one
/// correction: the docs write `{prefix}.klines.*` and `{prefix}.klines_gap_filling.*`,
/// but a single `*` matches exactly one token and every event subject has two after the
/// type (`{symbol}.{period}`), so those patterns match nothing the producers publish.
/// `{prefix}.klines.batch.*` is right as documented.
pub fn monitoring_subjects(prefix: &str) -> [String; 3] {
    [
        format!("{prefix}.klines.*.*"),
        format!("{prefix}.klines_gap_filling.*.*"),
        format!("{prefix}.klines.batch.*"),
    ]
}

/// One of the documented sample events, ready to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleEvent {
    pub name: &'static str,
    pub subject: String,
    pub payload: Vec<u8>,
}

#[derive(Serialize)]
struct SingleEvent<'a> {
    event_type: &'a str,
    extraction_type: &'a str,
    symbol: &'a str,
    period: &'a str,
    timestamp: &'a str,
    success: bool,
    metrics: SingleMetrics,
    errors: &'a [&'a str],
}

#[derive(Serialize)]
struct SingleMetrics {
    records_fetched: u64,
    records_written: u64,
    duration_seconds: f64,
    gaps_found: u64,
    gaps_filled: u64,
}

#[derive(Serialize)]
struct BatchEvent<'a> {
    event_type: &'a str,
    extraction_type: &'a str,
    symbols: &'a [&'a str],
    period: &'a str,
    timestamp: &'a str,
    success: bool,
    metrics: BatchMetrics,
    errors: &'a [&'a str],
}

#[derive(Serialize)]
struct BatchMetrics {
    total_records_fetched: u64,
    total_records_written: u64,
    duration_seconds: f64,
    total_gaps_found: u64,
    total_gaps_filled: u64,
    symbols_processed: u64,
}

/// The four sample events of the old test script, with the documented fields in the
/// documented order: single (klines BTCUSDT 15m), batch (BTCUSDT/ETHUSDT/BNBUSDT),
/// error (INVALIDUSDT, success=false, two errors) and gap filling (3 gaps).
/// `timestamp` is stamped into each, e.g. [`rfc3339::format_utc_millis`] of now.
pub fn sample_events(prefix: &str, timestamp: &str) -> Result<Vec<SampleEvent>, serde_json::Error> {
    const PERIOD: &str = "15m";
    let batch_symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT"];
    let single = SingleEvent {
        event_type: EVENT_TYPE_SINGLE,
        extraction_type: "klines",
        symbol: "BTCUSDT",
        period: PERIOD,
        timestamp,
        success: true,
        metrics: SingleMetrics {
            records_fetched: 150,
            records_written: 150,
            duration_seconds: 3.5,
            gaps_found: 0,
            gaps_filled: 0,
        },
        errors: &[],
    };
    let batch = BatchEvent {
        event_type: EVENT_TYPE_BATCH,
        extraction_type: "klines",
        symbols: &batch_symbols,
        period: PERIOD,
        timestamp,
        success: true,
        metrics: BatchMetrics {
            total_records_fetched: 450,
            total_records_written: 450,
            duration_seconds: 12.5,
            total_gaps_found: 0,
            total_gaps_filled: 0,
            symbols_processed: batch_symbols.len() as u64,
        },
        errors: &[],
    };
    let error = SingleEvent {
        event_type: EVENT_TYPE_SINGLE,
        extraction_type: "klines",
        symbol: "INVALIDUSDT",
        period: PERIOD,
        timestamp,
        success: false,
        metrics: SingleMetrics {
            records_fetched: 0,
            records_written: 0,
            duration_seconds: 0.5,
            gaps_found: 0,
            gaps_filled: 0,
        },
        errors: &[
            "Invalid symbol: INVALIDUSDT",
            "Failed to fetch klines from Binance API",
        ],
    };
    let gap_filling = SingleEvent {
        event_type: EVENT_TYPE_SINGLE,
        extraction_type: "klines_gap_filling",
        symbol: "BTCUSDT",
        period: PERIOD,
        timestamp,
        success: true,
        metrics: SingleMetrics {
            records_fetched: 45,
            records_written: 45,
            duration_seconds: 8.2,
            gaps_found: 3,
            gaps_filled: 3,
        },
        errors: &[],
    };
    Ok(vec![
        SampleEvent {
            name: "single",
            subject: subject(prefix, single.extraction_type, single.symbol, PERIOD),
            payload: serde_json::to_vec(&single)?,
        },
        SampleEvent {
            name: "batch",
            subject: subject(prefix, batch.extraction_type, BATCH_TOKEN, PERIOD),
            payload: serde_json::to_vec(&batch)?,
        },
        SampleEvent {
            name: "error",
            subject: subject(prefix, error.extraction_type, error.symbol, PERIOD),
            payload: serde_json::to_vec(&error)?,
        },
        SampleEvent {
            name: "gap-filling",
            subject: subject(
                prefix,
                gap_filling.extraction_type,
                gap_filling.symbol,
                PERIOD,
            ),
            payload: serde_json::to_vec(&gap_filling)?,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PREFIX: &str = "binance.extraction";
    const NOW: &str = "2024-01-15T10:30:00.000Z";

    fn single() -> Value {
        json!({
            "event_type": "extraction_completed",
            "extraction_type": "klines",
            "symbol": "BTCUSDT",
            "period": "15m",
            "timestamp": NOW,
            "success": true,
            "metrics": {
                "records_fetched": 150,
                "records_written": 150,
                "duration_seconds": 3.5,
                "gaps_found": 0,
                "gaps_filled": 0
            },
            "errors": []
        })
    }

    fn batch() -> Value {
        json!({
            "event_type": "batch_extraction_completed",
            "extraction_type": "klines",
            "symbols": ["BTCUSDT", "ETHUSDT", "BNBUSDT"],
            "period": "15m",
            "timestamp": NOW,
            "success": true,
            "metrics": {
                "total_records_fetched": 450,
                "total_records_written": 450,
                "duration_seconds": 12.5,
                "total_gaps_found": 0,
                "total_gaps_filled": 0,
                "symbols_processed": 3
            },
            "errors": []
        })
    }

    const SINGLE_SUBJECT: &str = "binance.extraction.klines.BTCUSDT.15m";
    const BATCH_SUBJECT: &str = "binance.extraction.klines.batch.15m";

    fn codes(subject: &str, value: &Value) -> Vec<ProblemCode> {
        let payload = serde_json::to_vec(value).expect("serialize");
        // The fast path may only accept what the full validator finds valid, with the
        // same digest.
        let full = validate_fully(subject, &payload, Some(PREFIX), Checked::default());
        match fast_valid(subject, &payload, Some(PREFIX)) {
            Some(digest) => {
                assert!(full.is_valid(), "fast path accepted {:?}", full.problems);
                assert_eq!(digest, full.digest);
            }
            None => assert!(!full.is_valid(), "fast path missed a valid event: {value}"),
        }
        validate(subject, &payload, Some(PREFIX))
            .problems
            .iter()
            .map(|problem| problem.code)
            .collect()
    }

    fn with(mut value: Value, pointer: &str, replacement: Value) -> Value {
        *value.pointer_mut(pointer).expect("pointer exists") = replacement;
        value
    }

    fn without(mut value: Value, pointer: &str) -> Value {
        let (parent, name) = pointer.rsplit_once('/').expect("pointer has a parent");
        let parent = if parent.is_empty() {
            &mut value
        } else {
            value.pointer_mut(parent).expect("parent exists")
        };
        parent
            .as_object_mut()
            .expect("parent is an object")
            .remove(name)
            .expect("field exists");
        value
    }

    #[test]
    fn documented_examples_are_valid() {
        assert_eq!(codes(SINGLE_SUBJECT, &single()), vec![]);
        assert_eq!(codes(BATCH_SUBJECT, &batch()), vec![]);
    }

    #[test]
    fn digest_reads_the_display_fields() {
        let payload = serde_json::to_vec(&batch()).expect("serialize");
        let checked = validate(BATCH_SUBJECT, &payload, Some(PREFIX));
        assert!(checked.is_valid());
        assert!(checked.is_object);
        assert_eq!(
            checked.digest,
            EventDigest {
                event_type: Some("batch_extraction_completed".into()),
                extraction_type: Some("klines".into()),
                symbols: vec!["BTCUSDT".into(), "ETHUSDT".into(), "BNBUSDT".into()],
                period: Some("15m".into()),
                records_fetched: Some(450),
                records_written: Some(450),
                duration_seconds: Some(12.5),
                success: Some(true),
            }
        );
    }

    #[test]
    fn unknown_extra_fields_are_allowed() {
        let mut value = single();
        value["trace_id"] = json!("4bf92f3577b34da6a3ce929d0e0e4736");
        value["metrics"]["retries"] = json!(2);
        assert_eq!(codes(SINGLE_SUBJECT, &value), vec![]);
    }

    #[test]
    fn not_json() {
        for payload in [
            &b"hello"[..],
            b"{\"event_type\":",
            b"{} trailing",
            b"\xff\xfe{}",
        ] {
            let checked = validate(SINGLE_SUBJECT, payload, Some(PREFIX));
            let codes: Vec<_> = checked.problems.iter().map(|p| p.code).collect();
            assert_eq!(codes, vec![ProblemCode::NotJson]);
            assert!(!checked.is_object);
        }
    }

    #[test]
    fn not_object() {
        for value in [json!([1, 2]), json!("event"), json!(null), json!(42)] {
            assert_eq!(codes(SINGLE_SUBJECT, &value), vec![ProblemCode::NotObject]);
        }
    }

    #[test]
    fn payload_too_large() {
        let payload = vec![b' '; MAX_EVENT_BYTES + 1];
        let checked = validate(SINGLE_SUBJECT, &payload, Some(PREFIX));
        assert_eq!(checked.problems[0].code, ProblemCode::PayloadTooLarge);
        assert_eq!(checked.problems.len(), 1);
    }

    #[test]
    fn event_type_unknown() {
        let value = with(single(), "/event_type", json!("extraction_started"));
        assert_eq!(
            codes(SINGLE_SUBJECT, &value),
            vec![ProblemCode::EventTypeUnknown]
        );
    }

    #[test]
    fn extraction_type_unknown() {
        let value = with(single(), "/extraction_type", json!("candles"));
        let subject = "binance.extraction.candles.BTCUSDT.15m";
        assert_eq!(
            codes(subject, &value),
            vec![ProblemCode::ExtractionTypeUnknown]
        );
    }

    #[test]
    fn every_documented_extraction_type_is_accepted() {
        for extraction_type in EXTRACTION_TYPES {
            let value = with(single(), "/extraction_type", json!(extraction_type));
            let subject = format!("binance.extraction.{extraction_type}.BTCUSDT.15m");
            assert_eq!(codes(&subject, &value), vec![], "{extraction_type}");
        }
    }

    #[test]
    fn field_missing_for_each_required_field() {
        for field in [
            "/event_type",
            "/extraction_type",
            "/symbol",
            "/period",
            "/timestamp",
            "/success",
            "/metrics",
            "/errors",
            "/metrics/records_fetched",
            "/metrics/records_written",
            "/metrics/duration_seconds",
            "/metrics/gaps_found",
            "/metrics/gaps_filled",
        ] {
            let got = codes(SINGLE_SUBJECT, &without(single(), field));
            assert!(got.contains(&ProblemCode::FieldMissing), "{field}: {got:?}");
        }
        for field in [
            "/symbols",
            "/metrics/total_records_fetched",
            "/metrics/total_records_written",
            "/metrics/total_gaps_found",
            "/metrics/total_gaps_filled",
            "/metrics/symbols_processed",
        ] {
            let got = codes(BATCH_SUBJECT, &without(batch(), field));
            assert_eq!(got, vec![ProblemCode::FieldMissing], "{field}");
        }
    }

    #[test]
    fn missing_field_message_names_the_path() {
        let payload = serde_json::to_vec(&without(single(), "/metrics/gaps_found")).expect("json");
        let checked = validate(SINGLE_SUBJECT, &payload, Some(PREFIX));
        assert_eq!(
            checked.problems[0].message,
            "required field `metrics.gaps_found` is missing"
        );
    }

    #[test]
    fn field_wrong_type() {
        for (pointer, replacement) in [
            ("/event_type", json!(1)),
            ("/symbol", json!(["BTCUSDT"])),
            ("/period", json!(15)),
            ("/timestamp", json!(1705314600)),
            ("/success", json!("true")),
            ("/errors", json!("boom")),
            ("/errors", json!(null)),
            ("/errors", json!([1])),
            ("/metrics", json!([])),
            ("/metrics/records_fetched", json!("150")),
            ("/metrics/duration_seconds", json!("3.5")),
        ] {
            let got = codes(SINGLE_SUBJECT, &with(single(), pointer, replacement));
            assert!(
                got.contains(&ProblemCode::FieldWrongType),
                "{pointer}: {got:?}"
            );
        }
        let value = with(batch(), "/symbols", json!("BTCUSDT,ETHUSDT"));
        assert_eq!(
            codes(BATCH_SUBJECT, &value),
            vec![ProblemCode::FieldWrongType]
        );
    }

    #[test]
    fn timestamp_invalid() {
        for timestamp in [
            "2024-01-15T10:30:00+00:00Z",
            "2024-01-15T10:30:00",
            "2024-01-15 10:30:00",
            "2024-02-30T10:30:00Z",
        ] {
            let value = with(single(), "/timestamp", json!(timestamp));
            assert_eq!(
                codes(SINGLE_SUBJECT, &value),
                vec![ProblemCode::TimestampInvalid],
                "{timestamp}"
            );
        }
        let value = with(single(), "/timestamp", json!("2024-01-15T10:30:00+00:00Z"));
        let payload = serde_json::to_vec(&value).expect("json");
        let message = &validate(SINGLE_SUBJECT, &payload, Some(PREFIX)).problems[0].message;
        assert!(message.contains("+00:00Z"), "{message}");
    }

    #[test]
    fn count_negative() {
        let value = with(single(), "/metrics/records_written", json!(-1));
        assert_eq!(
            codes(SINGLE_SUBJECT, &value),
            vec![ProblemCode::CountNegative]
        );
        let value = with(batch(), "/metrics/total_gaps_found", json!(-3));
        assert_eq!(
            codes(BATCH_SUBJECT, &value),
            vec![ProblemCode::CountNegative]
        );
    }

    #[test]
    fn count_not_integer() {
        for number in [json!(150.5), json!(150.0), json!(1e3)] {
            let value = with(single(), "/metrics/records_fetched", number);
            assert_eq!(
                codes(SINGLE_SUBJECT, &value),
                vec![ProblemCode::CountNotInteger]
            );
        }
    }

    #[test]
    fn duration_negative() {
        let value = with(single(), "/metrics/duration_seconds", json!(-0.5));
        assert_eq!(
            codes(SINGLE_SUBJECT, &value),
            vec![ProblemCode::DurationNegative]
        );
        let value = with(single(), "/metrics/duration_seconds", json!(4));
        assert_eq!(codes(SINGLE_SUBJECT, &value), vec![]);
    }

    #[test]
    fn symbols_count_mismatch() {
        let value = with(batch(), "/metrics/symbols_processed", json!(2));
        assert_eq!(
            codes(BATCH_SUBJECT, &value),
            vec![ProblemCode::SymbolsCountMismatch]
        );
        let value = with(batch(), "/symbols", json!([]));
        assert_eq!(
            codes(BATCH_SUBJECT, &value),
            vec![ProblemCode::SymbolsCountMismatch]
        );
    }

    #[test]
    fn errors_missing() {
        let value = with(single(), "/success", json!(false));
        assert_eq!(
            codes(SINGLE_SUBJECT, &value),
            vec![ProblemCode::ErrorsMissing]
        );
        let value = with(value, "/errors", json!(["Invalid symbol"]));
        assert_eq!(codes(SINGLE_SUBJECT, &value), vec![]);
    }

    #[test]
    fn subject_mismatch_on_each_token() {
        for subject in [
            "binance.extraction.klines_gap_filling.BTCUSDT.15m",
            "binance.extraction.klines.ETHUSDT.15m",
            "binance.extraction.klines.batch.15m",
            "binance.extraction.klines.BTCUSDT.1h",
        ] {
            assert_eq!(
                codes(subject, &single()),
                vec![ProblemCode::SubjectMismatch],
                "{subject}"
            );
        }
        assert_eq!(
            codes("binance.extraction.klines.BTCUSDT.15m", &batch()),
            vec![ProblemCode::SubjectMismatch]
        );
    }

    #[test]
    fn subject_layout() {
        for subject in [
            "binance.extraction.klines.BTCUSDT",
            "binance.extraction.x.klines.BTCUSDT.15m",
            "klines.BTCUSDT.15m",
        ] {
            assert_eq!(
                codes(subject, &single()),
                vec![ProblemCode::SubjectLayout],
                "{subject}"
            );
        }
        // Outside the configured prefix only the last three tokens are compared.
        let payload = serde_json::to_vec(&single()).expect("json");
        let checked = validate("other.prefix.klines.BTCUSDT.15m", &payload, Some(PREFIX));
        assert!(checked.is_valid(), "{:?}", checked.problems);
        let checked = validate(SINGLE_SUBJECT, &payload, None);
        assert!(checked.is_valid(), "{:?}", checked.problems);
    }

    #[test]
    fn several_problems_are_all_reported() {
        let value = with(single(), "/timestamp", json!("2024-01-15T10:30:00+00:00Z"));
        let value = with(value, "/metrics/records_fetched", json!(-5));
        let value = with(value, "/period", json!("1h"));
        let mut got = codes(SINGLE_SUBJECT, &value);
        got.sort();
        assert_eq!(
            got,
            vec![
                ProblemCode::CountNegative,
                ProblemCode::SubjectMismatch,
                ProblemCode::TimestampInvalid
            ]
        );
    }

    #[test]
    fn problem_codes_are_unique_sorted_kebab_case() {
        let names: Vec<&str> = ProblemCode::ALL.iter().map(|code| code.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        for name in names {
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{name}"
            );
        }
    }

    #[test]
    fn sample_events_have_documented_subjects_and_shapes() {
        let prefix = "_nats_doctor.abc.binance.extraction";
        let samples = sample_events(prefix, NOW).expect("samples");
        let summary: Vec<(&str, &str)> = samples
            .iter()
            .map(|sample| (sample.name, sample.subject.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "single",
                    "_nats_doctor.abc.binance.extraction.klines.BTCUSDT.15m"
                ),
                (
                    "batch",
                    "_nats_doctor.abc.binance.extraction.klines.batch.15m"
                ),
                (
                    "error",
                    "_nats_doctor.abc.binance.extraction.klines.INVALIDUSDT.15m"
                ),
                (
                    "gap-filling",
                    "_nats_doctor.abc.binance.extraction.klines_gap_filling.BTCUSDT.15m"
                ),
            ]
        );
        // The single sample is the documented example, byte for byte in field order.
        assert_eq!(
            String::from_utf8(samples[0].payload.clone()).expect("utf-8"),
            concat!(
                r#"{"event_type":"extraction_completed","extraction_type":"klines","#,
                r#""symbol":"BTCUSDT","period":"15m","timestamp":"2024-01-15T10:30:00.000Z","#,
                r#""success":true,"metrics":{"records_fetched":150,"records_written":150,"#,
                r#""duration_seconds":3.5,"gaps_found":0,"gaps_filled":0},"errors":[]}"#
            )
        );
        let parsed: Vec<Value> = samples
            .iter()
            .map(|sample| serde_json::from_slice(&sample.payload).expect("json"))
            .collect();
        assert_eq!(parsed[1], batch());
        assert_eq!(parsed[2]["success"], json!(false));
        assert_eq!(parsed[2]["errors"].as_array().map(Vec::len), Some(2));
        assert_eq!(parsed[3]["extraction_type"], json!("klines_gap_filling"));
        assert_eq!(parsed[3]["metrics"]["gaps_found"], json!(3));
        for sample in &samples {
            let checked = validate(&sample.subject, &sample.payload, Some(prefix));
            assert!(
                checked.is_valid(),
                "{}: {:?}",
                sample.name,
                checked.problems
            );
        }
    }

    #[test]
    fn sample_events_match_the_monitoring_subjects() {
        let samples = sample_events(PREFIX, NOW).expect("samples");
        let [klines, gap_filling, batch] = monitoring_subjects(PREFIX);
        assert_eq!(klines, "binance.extraction.klines.*.*");
        assert_eq!(gap_filling, "binance.extraction.klines_gap_filling.*.*");
        assert_eq!(batch, "binance.extraction.klines.batch.*");
        assert!(samples[1]
            .subject
            .starts_with("binance.extraction.klines.batch."));
    }
}
