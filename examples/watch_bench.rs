//! A bounded benchmark publisher for `nats-doctor watch`: publishes `--count` extraction
//! events (the four documented samples in turn) to a loopback server at `--rate`
//! messages per second (0 = as fast as possible), then prints what it did as one JSON
//! line. `scripts/bench-watch` runs it against a watch writing JSON to /dev/null.
//!
//!     cargo run --release --example watch_bench -- --url nats://127.0.0.1:4222 \
//!         --count 1000000 --rate 100000

use anyhow::{bail, Context};
use nats_doctor::nats::connect::connect_plain;
use nats_doctor::nats::Incoming;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Messages published between two looks at the clock.
const BATCH: u64 = 1000;

struct Options {
    address: SocketAddr,
    count: u64,
    rate: u64,
    prefix: String,
}

fn options() -> anyhow::Result<Options> {
    let mut url = "nats://127.0.0.1:4222".to_string();
    let mut options = Options {
        address: SocketAddr::from(([127, 0, 0, 1], 4222)),
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
            "--url" => url = value,
            "--count" => options.count = value.parse().context("--count")?,
            "--rate" => options.rate = value.parse().context("--rate")?,
            "--prefix" => options.prefix = value,
            other => bail!("unknown flag {other}"),
        }
    }
    // The benchmark must never leave the machine: a loopback address, written as such.
    let address = url.strip_prefix("nats://").unwrap_or(&url);
    options.address = address
        .parse()
        .with_context(|| format!("--url {url}: nats://IP:PORT"))?;
    if !options.address.ip().is_loopback() {
        bail!("refusing to benchmark against {address}: loopback only");
    }
    Ok(options)
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut client = connect_plain(options.address, Duration::from_secs(5)).await?;
        let samples = nats_doctor::events::sample_events(
            &options.prefix,
            &nats_doctor::rfc3339::format_utc_millis(std::time::SystemTime::now()),
        )?;
        let started = Instant::now();
        let mut sent = 0u64;
        while sent < options.count {
            let batch_end = (sent + BATCH).min(options.count);
            while sent < batch_end {
                let sample = &samples[(sent % samples.len() as u64) as usize];
                client.publish(&sample.subject, &[], &sample.payload)?;
                sent += 1;
            }
            client.write_queued().await?;
            if options.rate > 0 {
                // Pace to the target rate: publish a batch, then wait until the schedule
                // catches up.
                let due = started + Duration::from_secs_f64(sent as f64 / options.rate as f64);
                tokio::time::sleep_until(due.into()).await;
            }
        }
        // The server has processed every publication once our PING is answered.
        client.ping();
        tokio::time::timeout(Duration::from_secs(30), async {
            // Bounded: the timeout ends the wait.
            loop {
                if let Incoming::Pong = client.next().await? {
                    return anyhow::Ok(());
                }
            }
        })
        .await
        .context("no PONG within 30 s")??;
        let elapsed = started.elapsed();
        println!(
            "{{\"published\":{sent},\"seconds\":{:.3},\"rate\":{:.0}}}",
            elapsed.as_secs_f64(),
            sent as f64 / elapsed.as_secs_f64()
        );
        anyhow::Ok(())
    })
}
