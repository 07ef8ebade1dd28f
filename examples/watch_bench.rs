//! A bounded benchmark publisher for `nats-doctor watch`: publishes `--count` extraction
//! events (the four documented samples in turn) to a loopback server at `--rate`
//! messages per second (0 = as fast as possible), then prints what it did as one JSON
//! line. `scripts/bench-watch` runs it against a watch writing JSON to /dev/null.
//!
//!     cargo run --release --example watch_bench -- --url nats://127.0.0.1:4222 \
//!         --count 1000000 --rate 100000

use anyhow::{bail, Context};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// Messages published between two looks at the clock.
const BATCH: u64 = 1000;

struct Options {
    url: String,
    count: u64,
    rate: u64,
    prefix: String,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        url: "nats://127.0.0.1:4222".to_string(),
        count: 1_000_000,
        rate: 100_000,
        prefix: "binance.extraction".to_string(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => options.url = value,
            "--count" => options.count = value.parse().context("--count")?,
            "--rate" => options.rate = value.parse().context("--rate")?,
            "--prefix" => options.prefix = value,
            other => bail!("unknown flag {other}"),
        }
    }
    // The benchmark must never leave the machine.
    let host = options
        .url
        .split("://")
        .nth(1)
        .unwrap_or(&options.url)
        .rsplit_once(':')
        .map_or(options.url.as_str(), |(host, _)| host);
    if !(host.starts_with("127.") || host == "[::1]" || host == "localhost") {
        bail!("refusing to benchmark against {host}: loopback only");
    }
    Ok(options)
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = async_nats::connect(options.url.as_str()).await?;
        let samples = nats_doctor::events::sample_events(
            &options.prefix,
            &nats_doctor::rfc3339::format_utc_millis(std::time::SystemTime::now()),
        )?;
        let payloads: Vec<(String, Bytes)> = samples
            .into_iter()
            .map(|sample| (sample.subject, Bytes::from(sample.payload)))
            .collect();
        let started = Instant::now();
        let mut sent = 0u64;
        while sent < options.count {
            let batch_end = (sent + BATCH).min(options.count);
            while sent < batch_end {
                let (subject, payload) = &payloads[(sent % payloads.len() as u64) as usize];
                client.publish(subject.clone(), payload.clone()).await?;
                sent += 1;
            }
            if options.rate > 0 {
                // Pace to the target rate: publish a batch, then wait until the schedule
                // catches up.
                let due = started + Duration::from_secs_f64(sent as f64 / options.rate as f64);
                tokio::time::sleep_until(due.into()).await;
            }
        }
        client.flush().await?;
        let elapsed = started.elapsed();
        println!(
            "{{\"published\":{sent},\"seconds\":{:.3},\"rate\":{:.0}}}",
            elapsed.as_secs_f64(),
            sent as f64 / elapsed.as_secs_f64()
        );
        anyhow::Ok(())
    })
}
