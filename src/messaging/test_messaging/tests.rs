//! The judgement of cases on exchanges built by hand: clean, lost, duplicated,
//! corrupted, flooded, refused.

use super::*;

const PREFIX: &str = "_nats_doctor.test.binance.extraction";

fn samples() -> Vec<SampleEvent> {
    events::sample_events(PREFIX, "2024-01-15T10:30:00.000Z").expect("samples")
}

/// An exchange in which every sample arrived once on each matching subscription.
fn clean_exchange(samples: &[SampleEvent]) -> Exchange {
    let patterns = events::monitoring_subjects(PREFIX).to_vec();
    let start = Instant::now();
    let mut deliveries = Vec::new();
    for (case, sample) in samples.iter().enumerate() {
        for (subscription, pattern) in patterns.iter().enumerate() {
            if crate::subject::matches(pattern, &sample.subject) {
                deliveries.push(Delivery {
                    subscription,
                    case,
                    subject: sample.subject.clone(),
                    payload: Bytes::from(sample.payload.clone()),
                    test_header: Some("true".to_string()),
                    at: start + Duration::from_micros(300),
                });
            }
        }
    }
    Exchange {
        subscribe_errors: vec![None; patterns.len()],
        patterns,
        publish_errors: vec![None; samples.len()],
        published_at: vec![start; samples.len()],
        deliveries,
        extra_copies: Vec::new(),
        server_errors: Vec::new(),
        end: RoundTrip::Completed,
        foreign: 0,
    }
}

fn verdicts(samples: &[SampleEvent], exchange: &Exchange) -> Vec<Vec<&'static str>> {
    samples
        .iter()
        .enumerate()
        .map(|(index, sample)| {
            judge(index, sample, PREFIX, exchange, Duration::from_secs(3))
                .problems
                .iter()
                .map(|problem| problem.code)
                .collect()
        })
        .collect()
}

#[test]
fn clean_exchange_passes_and_batch_arrives_on_two_subscriptions() {
    let samples = samples();
    let exchange = clean_exchange(&samples);
    let batch_copies = exchange.deliveries.iter().filter(|d| d.case == 1).count();
    assert_eq!(batch_copies, 2);
    assert_eq!(verdicts(&samples, &exchange), vec![Vec::<&str>::new(); 4]);
    let report = judge(0, &samples[0], PREFIX, &exchange, Duration::from_secs(3));
    assert_eq!(report.latency, Some(Duration::from_micros(300)));
}

#[test]
fn lost_duplicate_corrupted_wrong_subject_header_missing() {
    let samples = samples();
    let mut exchange = clean_exchange(&samples);
    // single: lost; batch: duplicated on one subscription; error: corrupted;
    // gap filling: wrong subject and no test header.
    exchange.deliveries.retain(|d| d.case != 0);
    let copy = exchange
        .deliveries
        .iter()
        .find(|d| d.case == 1)
        .map(|d| Delivery {
            subscription: d.subscription,
            case: 1,
            subject: d.subject.clone(),
            payload: d.payload.clone(),
            test_header: d.test_header.clone(),
            at: d.at,
        })
        .expect("batch delivery");
    exchange.deliveries.push(copy);
    for delivery in exchange.deliveries.iter_mut() {
        if delivery.case == 2 {
            let mut bytes = delivery.payload.to_vec();
            bytes[10] ^= 0x20;
            delivery.payload = Bytes::from(bytes);
        }
        if delivery.case == 3 {
            delivery.subject = format!("{PREFIX}.klines_gap_filling.ETHUSDT.15m");
            delivery.test_header = None;
        }
    }
    let verdicts = verdicts(&samples, &exchange);
    assert_eq!(verdicts[0], ["lost"]);
    assert_eq!(verdicts[1], ["duplicate"]);
    assert!(verdicts[2].contains(&"corrupted"), "{:?}", verdicts[2]);
    assert!(verdicts[3].contains(&"wrong-subject"), "{:?}", verdicts[3]);
    assert!(verdicts[3].contains(&"header-missing"), "{:?}", verdicts[3]);
    // The copy on the wrong subject is also judged by the schema.
    assert!(
        verdicts[3].contains(&"subject-mismatch"),
        "{:?}",
        verdicts[3]
    );
}

#[test]
fn a_flood_of_copies_is_counted_not_kept() {
    let samples = samples();
    let mut exchange = clean_exchange(&samples);
    exchange.deliveries.clear();
    let start = Instant::now();
    for _ in 0..10_000 {
        let message = Message {
            subject: samples[0].subject.clone(),
            sid: 1,
            reply: None,
            headers: None,
            payload: Bytes::from(samples[0].payload.clone()),
        };
        record(&mut exchange, &samples, "run", 0, message, start);
    }
    assert_eq!(exchange.deliveries.len(), KEPT_COPIES);
    let report = judge(0, &samples[0], PREFIX, &exchange, Duration::from_secs(3));
    let duplicate = report
        .problems
        .iter()
        .find(|problem| problem.code == "duplicate")
        .expect("a duplicate");
    assert!(
        duplicate.message.contains("received 10000 times"),
        "{}",
        duplicate.message
    );
}

#[test]
fn server_errors_are_attached() {
    let samples = samples();
    let mut exchange = clean_exchange(&samples);
    exchange.deliveries.clear();
    exchange.server_errors.push(format!(
        "Permissions Violation for Publish to \"{}\"",
        samples[0].subject
    ));
    exchange.server_errors.push(format!(
        "Permissions Violation for Subscription to \"{}\"",
        exchange.patterns[1]
    ));
    let first = verdicts(&samples, &exchange);
    assert_eq!(first[0], ["publish-denied"]);
    assert_eq!(first[1], ["lost", "lost"]);
    assert_eq!(first[3], ["subscribe-denied"]);
    exchange
        .server_errors
        .push("Maximum Payload Violation".to_string());
    assert!(verdicts(&samples, &exchange)[2].contains(&"server-error"));
}

#[test]
fn prefix_of_sample_subject() {
    assert_eq!(
        prefix_of("_nats_doctor.x.binance.extraction.klines.batch.15m"),
        "_nats_doctor.x.binance.extraction"
    );
}
