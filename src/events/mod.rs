//! The extraction-event schema of the messaging documentation, in one place for both
//! `test-messaging` (which publishes the four sample events and validates what comes
//! back) and `watch` (which validates live events).
//!
//! One schema: [`Event`] is the documented JSON shape (serde derives both ways), and
//! [`EventKind`] says which of its fields each event type requires. The samples are
//! [`Event`]s written out ([`samples`]); the validator ([`validate`]) reads a payload
//! into an [`Event`] first — the fast path a burst of valid events takes — and walks it
//! as a JSON tree only when that fails, to word every problem with its path. The walk
//! cannot be derived: serde stops at the first mismatch and words it its own way,
//! while a report must name every problem by its permanent code; it takes its field
//! lists from [`EventKind`], so the two readers cannot disagree on what is required.
//!
//! It also owns the subject layout (`{prefix}.{type}.{symbol}.{period}` and
//! `{prefix}.{type}.batch.{period}`) and the permanent problem codes (the `by_problem`
//! keys of `watch --format json`).

pub mod samples;
pub mod validate;

pub use samples::{sample_events, SampleEvent};
pub use validate::{
    validate, validate_without_fast_path, Checked, EventDigest, Problem, ProblemCode,
};

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

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

/// One extraction event, as the services publish it. Fields that only one event type
/// has are optional; [`EventKind`] says which each type requires. Strings borrow from
/// the payload where they can.
#[derive(Debug, Deserialize, Serialize)]
pub struct Event<'a> {
    #[serde(borrow)]
    pub event_type: Cow<'a, str>,
    #[serde(borrow)]
    pub extraction_type: Cow<'a, str>,
    /// A single event's symbol.
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<Cow<'a, str>>,
    /// A batch event's symbols.
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub symbols: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    pub period: Cow<'a, str>,
    /// RFC 3339.
    #[serde(borrow)]
    pub timestamp: Cow<'a, str>,
    pub success: bool,
    pub metrics: Metrics,
    #[serde(borrow)]
    pub errors: Vec<Cow<'a, str>>,
}

/// The `metrics` of an event, in the documented order of each type (fields of the other
/// type are left out when written).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Metrics {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records_fetched: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records_written: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_records_fetched: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_records_written: Option<u64>,
    pub duration_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gaps_found: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gaps_filled: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_gaps_found: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_gaps_filled: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbols_processed: Option<u64>,
}

/// A count of the metrics: its path in the event (`metrics.records_fetched`), and where
/// [`Metrics`] holds it.
pub type Count = (&'static str, fn(&Metrics) -> Option<u64>);

/// The two event types, and what each requires beyond the fields both have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Single,
    Batch,
}

impl EventKind {
    pub fn of(event_type: &str) -> Option<EventKind> {
        match event_type {
            EVENT_TYPE_SINGLE => Some(EventKind::Single),
            EVENT_TYPE_BATCH => Some(EventKind::Batch),
            _ => None,
        }
    }

    /// The counts its `metrics` must have, in the documented order: records fetched,
    /// records written, then the others.
    pub fn counts(self) -> &'static [Count] {
        match self {
            EventKind::Single => &[
                ("metrics.records_fetched", |m| m.records_fetched),
                ("metrics.records_written", |m| m.records_written),
                ("metrics.gaps_found", |m| m.gaps_found),
                ("metrics.gaps_filled", |m| m.gaps_filled),
            ],
            EventKind::Batch => &[
                ("metrics.total_records_fetched", |m| m.total_records_fetched),
                ("metrics.total_records_written", |m| m.total_records_written),
                ("metrics.total_gaps_found", |m| m.total_gaps_found),
                ("metrics.total_gaps_filled", |m| m.total_gaps_filled),
                ("metrics.symbols_processed", |m| m.symbols_processed),
            ],
        }
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
