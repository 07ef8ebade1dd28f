//! The four sample events of the old test script, written from the one schema
//! ([`Event`]) with the documented fields in the documented order.

use super::{subject, Event, Metrics, BATCH_TOKEN, EVENT_TYPE_BATCH, EVENT_TYPE_SINGLE};
use std::borrow::Cow;

/// One of the documented sample events, ready to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleEvent {
    pub name: &'static str,
    pub subject: String,
    pub payload: Vec<u8>,
}

const PERIOD: &str = "15m";

/// A single event's fields (`symbol`, and the counts of one symbol).
struct Single {
    extraction_type: &'static str,
    symbol: &'static str,
    success: bool,
    records: u64,
    duration_seconds: f64,
    gaps: u64,
    errors: &'static [&'static str],
}

fn single<'a>(fields: &Single, timestamp: &'a str) -> Event<'a> {
    Event {
        event_type: Cow::Borrowed(EVENT_TYPE_SINGLE),
        extraction_type: Cow::Borrowed(fields.extraction_type),
        symbol: Some(Cow::Borrowed(fields.symbol)),
        symbols: None,
        period: Cow::Borrowed(PERIOD),
        timestamp: Cow::Borrowed(timestamp),
        success: fields.success,
        metrics: Metrics {
            records_fetched: Some(fields.records),
            records_written: Some(fields.records),
            duration_seconds: fields.duration_seconds,
            gaps_found: Some(fields.gaps),
            gaps_filled: Some(fields.gaps),
            ..Metrics::default()
        },
        errors: fields.errors.iter().map(|e| Cow::Borrowed(*e)).collect(),
    }
}

/// The four samples: single (klines BTCUSDT 15m), batch (BTCUSDT/ETHUSDT/BNBUSDT),
/// error (INVALIDUSDT, success=false, two errors) and gap filling (3 gaps).
/// `timestamp` is stamped into each, e.g. [`crate::rfc3339::format_utc_millis`] of now.
pub fn sample_events(prefix: &str, timestamp: &str) -> Result<Vec<SampleEvent>, serde_json::Error> {
    let batch_symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT"];
    let batch = Event {
        event_type: Cow::Borrowed(EVENT_TYPE_BATCH),
        extraction_type: Cow::Borrowed("klines"),
        symbol: None,
        symbols: Some(batch_symbols.iter().map(|s| Cow::Borrowed(*s)).collect()),
        period: Cow::Borrowed(PERIOD),
        timestamp: Cow::Borrowed(timestamp),
        success: true,
        metrics: Metrics {
            total_records_fetched: Some(450),
            total_records_written: Some(450),
            duration_seconds: 12.5,
            total_gaps_found: Some(0),
            total_gaps_filled: Some(0),
            symbols_processed: Some(batch_symbols.len() as u64),
            ..Metrics::default()
        },
        errors: Vec::new(),
    };
    let singles = [
        (
            "single",
            Single {
                extraction_type: "klines",
                symbol: "BTCUSDT",
                success: true,
                records: 150,
                duration_seconds: 3.5,
                gaps: 0,
                errors: &[],
            },
        ),
        (
            "error",
            Single {
                extraction_type: "klines",
                symbol: "INVALIDUSDT",
                success: false,
                records: 0,
                duration_seconds: 0.5,
                gaps: 0,
                errors: &[
                    "Invalid symbol: INVALIDUSDT",
                    "Failed to fetch klines from Binance API",
                ],
            },
        ),
        (
            "gap-filling",
            Single {
                extraction_type: "klines_gap_filling",
                symbol: "BTCUSDT",
                success: true,
                records: 45,
                duration_seconds: 8.2,
                gaps: 3,
                errors: &[],
            },
        ),
    ];
    let written = |name: &'static str, fields: &Single| -> Result<SampleEvent, serde_json::Error> {
        Ok(SampleEvent {
            name,
            subject: subject(prefix, fields.extraction_type, fields.symbol, PERIOD),
            payload: serde_json::to_vec(&single(fields, timestamp))?,
        })
    };
    let [(single_name, single_fields), (error_name, error_fields), (gap_name, gap_fields)] =
        &singles;
    Ok(vec![
        written(single_name, single_fields)?,
        SampleEvent {
            name: "batch",
            subject: subject(prefix, "klines", BATCH_TOKEN, PERIOD),
            payload: serde_json::to_vec(&batch)?,
        },
        written(error_name, error_fields)?,
        written(gap_name, gap_fields)?,
    ])
}
