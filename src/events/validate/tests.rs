//! The schema, case by case: every problem code, the fast path agreeing with the full
//! one, and the samples valid and as documented.

use super::*;
use crate::events::{monitoring_subjects, sample_events};
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
