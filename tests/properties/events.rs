//! The event validator (`events::validate`): no payload makes it panic; every sample
//! event validates under any prefix and any valid timestamp; a sample with one field
//! removed, of the wrong type, with a bad timestamp or a negative count is flagged with
//! exactly the problem code for it; and the fast path agrees with the full validator
//! (same problems, same digest) on every payload.

use crate::strategies::{config, hostile_string};
use nats_doctor::events::{
    sample_events, validate, validate_without_fast_path, Checked, ProblemCode, SampleEvent,
};
use proptest::prelude::*;
use serde_json::Value;

/// The validator and the full validator alone give the same verdict.
fn agree(subject: &str, payload: &[u8], prefix: Option<&str>) -> Result<Checked, TestCaseError> {
    let checked = validate(subject, payload, prefix);
    let full = validate_without_fast_path(subject, payload, prefix);
    prop_assert_eq!(&checked.problems, &full.problems);
    prop_assert_eq!(checked.is_object, full.is_object);
    prop_assert_eq!(&checked.digest, &full.digest);
    Ok(checked)
}

fn codes(checked: &Checked) -> Vec<ProblemCode> {
    let mut codes: Vec<ProblemCode> = checked.problems.iter().map(|p| p.code).collect();
    codes.dedup();
    codes
}

fn prefix() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9_-]{1,10}", 1..4).prop_map(|tokens| tokens.join("."))
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// A valid RFC 3339 date-time: any day of any month (February 29 in leap years), an
/// optional fraction, `Z`, `z` or a numeric offset.
fn timestamp() -> impl Strategy<Value = String> {
    (
        0u32..=9999,
        1u32..=12,
        0u32..31,
        (0u32..24, 0u32..60, 0u32..60),
        prop::option::of("[0-9]{1,9}"),
        prop_oneof![
            Just("Z".to_string()),
            Just("z".to_string()),
            (prop::sample::select(&['+', '-'][..]), 0u32..24, 0u32..60)
                .prop_map(|(sign, hours, minutes)| format!("{sign}{hours:02}:{minutes:02}")),
        ],
        prop::sample::select(&['T', 't'][..]),
    )
        .prop_map(|(year, month, day, (hour, minute, second), fraction, offset, separator)| {
            let days = match month {
                2 if is_leap(year) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let day = day % days + 1;
            let fraction = fraction.map(|digits| format!(".{digits}")).unwrap_or_default();
            format!("{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{offset}")
        })
}

fn samples(prefix: &str, timestamp: &str) -> Result<Vec<SampleEvent>, TestCaseError> {
    sample_events(prefix, timestamp).map_err(|error| TestCaseError::fail(error.to_string()))
}

/// The JSON pointers of the fields a sample event requires, with the JSON type each has.
fn required_fields(value: &Value) -> Vec<(String, &'static str)> {
    let mut fields = Vec::new();
    if let Value::Object(object) = value {
        for (key, field) in object {
            fields.push((format!("/{key}"), kind(field)));
            if let Value::Object(metrics) = field {
                for (key, metric) in metrics {
                    fields.push((format!("/metrics/{key}"), kind(metric)));
                }
            }
        }
    }
    fields
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value of another JSON type than `kind`.
fn other_type(kind: &str, choice: usize) -> Value {
    let values = [
        Value::Null,
        Value::Bool(true),
        serde_json::json!(42),
        Value::String("x".to_string()),
        serde_json::json!(["x"]),
        serde_json::json!({"x": 1}),
    ];
    let others: Vec<&Value> = values.iter().filter(|v| self::kind(v) != kind).collect();
    others[choice % others.len()].clone()
}

fn remove(value: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    if let Some(Value::Object(object)) = value.pointer_mut(parent) {
        object.remove(key);
    }
}

fn set(value: &mut Value, pointer: &str, replacement: Value) {
    if let Some(slot) = value.pointer_mut(pointer) {
        *slot = replacement;
    }
}

/// Any JSON value, its object keys often those of an event.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_string(12).prop_map(Value::String),
        prop::sample::select(
            &[
                "extraction_completed",
                "batch_extraction_completed",
                "klines",
                "BTCUSDT",
                "15m",
                "2024-01-15T10:30:00Z"
            ][..]
        )
        .prop_map(|text| Value::String(text.to_string())),
    ];
    let key = prop_oneof![
        prop::sample::select(
            &[
                "event_type",
                "extraction_type",
                "symbol",
                "symbols",
                "period",
                "timestamp",
                "success",
                "metrics",
                "errors",
                "records_fetched",
                "records_written",
                "duration_seconds",
                "gaps_found",
                "gaps_filled",
                "total_records_fetched",
                "total_records_written",
                "total_gaps_found",
                "total_gaps_filled",
                "symbols_processed",
            ][..]
        )
        .prop_map(str::to_string),
        "[a-z_]{1,8}",
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..10)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn any_bytes_are_judged_without_panic(
        payload in prop::collection::vec(any::<u8>(), 0..400),
        subject in hostile_string(40),
        prefix in prop::option::of(prefix()),
    ) {
        let checked = agree(&subject, &payload, prefix.as_deref())?;
        prop_assert!(!checked.is_valid() || checked.is_object);
    }

    #[test]
    fn any_json_is_judged_alike_by_both_paths(
        value in json(),
        subject in prop_oneof![
            hostile_string(40),
            Just("binance.extraction.klines.BTCUSDT.15m".to_string()),
            Just("binance.extraction.klines.batch.15m".to_string()),
        ],
        prefix in prop::option::of(Just("binance.extraction".to_string())),
    ) {
        let payload = serde_json::to_vec(&value).unwrap_or_default();
        agree(&subject, &payload, prefix.as_deref())?;
    }

    #[test]
    fn every_sample_event_is_valid(prefix in prefix(), timestamp in timestamp()) {
        for sample in samples(&prefix, &timestamp)? {
            for with_prefix in [Some(prefix.as_str()), None] {
                let checked = agree(&sample.subject, &sample.payload, with_prefix)?;
                prop_assert!(checked.is_valid(), "{} at {timestamp}: {:?}", sample.name, checked.problems);
            }
        }
    }

    /// One field of a sample removed, given another JSON type, or replaced by anything.
    #[test]
    fn a_broken_field_is_flagged_with_its_code(
        sample in 0usize..4,
        field in any::<prop::sample::Index>(),
        choice in 0usize..5,
        anything in json(),
        prefix in prefix(),
    ) {
        let samples = samples(&prefix, "2024-01-15T10:30:00.000Z")?;
        let sample = &samples[sample];
        let event: Value = serde_json::from_slice(&sample.payload).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let fields = required_fields(&event);
        let (pointer, field_kind) = &fields[field.index(fields.len())];
        let check = |value: &Value| {
            let payload = serde_json::to_vec(value).unwrap_or_default();
            agree(&sample.subject, &payload, Some(&prefix))
        };

        let mut removed = event.clone();
        remove(&mut removed, pointer);
        let checked = check(&removed)?;
        prop_assert_eq!(codes(&checked), vec![ProblemCode::FieldMissing], "{} without {}", sample.name, pointer);

        let mut wrong = event.clone();
        set(&mut wrong, pointer, other_type(field_kind, choice));
        let checked = check(&wrong)?;
        prop_assert_eq!(codes(&checked), vec![ProblemCode::FieldWrongType], "{} with {} of another type", sample.name, pointer);

        let mut replaced = event.clone();
        set(&mut replaced, pointer, anything);
        check(&replaced)?;
    }

    #[test]
    fn a_bad_timestamp_is_flagged(
        sample in 0usize..4,
        timestamp in timestamp(),
        how in 0usize..8,
        garbage in "[^0-9]{0,30}",
    ) {
        let offset_at = timestamp
            .rfind(['Z', 'z', '+', '-'])
            .filter(|at| *at > 18)
            .unwrap_or(timestamp.len());
        let local = &timestamp[..offset_at];
        let bad = match how {
            0 => local.to_string(),
            1 => format!("{local}+00:00Z"),
            2 => timestamp.replacen(['T', 't'], " ", 1),
            3 => format!("{}13{}", &timestamp[..5], &timestamp[7..]),
            4 => format!("{}32{}", &timestamp[..8], &timestamp[10..]),
            5 => format!("{}24{}", &timestamp[..11], &timestamp[13..]),
            6 => format!("{}60{}", &timestamp[..14], &timestamp[16..]),
            _ => garbage,
        };
        let samples = samples("binance.extraction", &bad)?;
        let checked = agree(&samples[sample].subject, &samples[sample].payload, None)?;
        prop_assert_eq!(codes(&checked), vec![ProblemCode::TimestampInvalid], "{:?}", bad);
    }

    #[test]
    fn a_negative_count_is_flagged(
        sample in 0usize..4,
        field in any::<prop::sample::Index>(),
        magnitude in 1i64..=i64::MAX,
        duration in 1e-9f64..1e300,
    ) {
        let samples = samples("binance.extraction", "2024-01-15T10:30:00Z")?;
        let sample = &samples[sample];
        let event: Value = serde_json::from_slice(&sample.payload).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let counts: Vec<String> = required_fields(&event)
            .into_iter()
            .filter(|(pointer, kind)| *kind == "number" && pointer.starts_with("/metrics/"))
            .map(|(pointer, _)| pointer)
            .collect();
        let pointer = &counts[field.index(counts.len())];
        let mut negative = event.clone();
        let (replacement, code) = if pointer.ends_with("duration_seconds") {
            (serde_json::json!(-duration), ProblemCode::DurationNegative)
        } else {
            (serde_json::json!(-magnitude), ProblemCode::CountNegative)
        };
        set(&mut negative, pointer, replacement);
        let payload = serde_json::to_vec(&negative).unwrap_or_default();
        let checked = agree(&sample.subject, &payload, None)?;
        prop_assert_eq!(codes(&checked), vec![code], "{} with {} below zero", sample.name, pointer);
    }
}
