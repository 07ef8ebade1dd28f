//! The verdict of a check: the numbers that monitoring formats (`nagios`, `prometheus`)
//! take from a report, and the Nagios-style status built from them, the step statuses
//! and the warning and critical limits.
//!
//! The measures follow `nats server check connection`: `connect_time` is what it took
//! to get a NATS connection (the dns, tcp and nats steps), `rtt` one PING/PONG, and
//! `request_time` one message through the server and back (the round trip's median).

use crate::probe::nats::AddressResult;
use crate::probe::{CheckReport, Status, StepHeader};
use std::time::Duration;

/// Warning and critical limits (as `nats server check connection`): a value at or
/// above the limit gives that status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    pub connect_warn: Duration,
    pub connect_critical: Duration,
    pub rtt_warn: Duration,
    pub rtt_critical: Duration,
}

/// Nagios plugin states, in order of severity; the exit code is the discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NagiosStatus {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl NagiosStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NagiosStatus::Ok => "OK",
            NagiosStatus::Warning => "WARNING",
            NagiosStatus::Critical => "CRITICAL",
            NagiosStatus::Unknown => "UNKNOWN",
        }
    }

    /// The conventional plugin exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Timings taken from the steps; `None` where the step did not get that far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Measures {
    pub connect: Option<Duration>,
    pub rtt: Option<Duration>,
    pub request: Option<Duration>,
    pub roundtrip_min: Option<Duration>,
    pub roundtrip_p50: Option<Duration>,
    pub roundtrip_p99: Option<Duration>,
    pub roundtrip_max: Option<Duration>,
    pub messages_sent: Option<u64>,
    pub messages_received: Option<u64>,
}

fn milliseconds(value: Option<f64>) -> Option<Duration> {
    value
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
}

impl Measures {
    pub fn of(report: &CheckReport) -> Measures {
        let mut measures = Measures::default();
        let reached = |step: StepHeader<'_>| matches!(step.status, Status::Pass | Status::Warn);
        if reached(report.nats.header()) {
            measures.connect =
                Some(report.dns.duration + report.tcp.duration + report.nats.duration);
            measures.rtt = report.nats.detail.found().and_then(|nats| {
                nats.addresses
                    .iter()
                    .find_map(|address| match address.result {
                        AddressResult::Pass { rtt_ms } => milliseconds(rtt_ms),
                        AddressResult::Fail { .. } => None,
                    })
            });
        }
        if report.roundtrip.status != Status::Skip {
            if let Some(roundtrip) = report.roundtrip.detail.found() {
                let rtt = &roundtrip.rtt_ms;
                measures.roundtrip_min = milliseconds(rtt.min);
                measures.roundtrip_p50 = milliseconds(rtt.p50);
                measures.roundtrip_p99 = milliseconds(rtt.p99);
                measures.roundtrip_max = milliseconds(rtt.max);
                measures.messages_sent = u64::try_from(roundtrip.count).ok();
                measures.messages_received = u64::try_from(roundtrip.received).ok();
            }
            if report.roundtrip.status == Status::Pass {
                measures.request = measures.roundtrip_p50;
            }
            // The PING could not be timed on its own (TLS, nkey or creds handshake):
            // the fastest message through the server is the closest measure.
            if measures.rtt.is_none() {
                measures.rtt = measures.roundtrip_min;
            }
        }
        measures
    }
}

/// One perf-data item: `name=value;warn;crit` in seconds, as natscli prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct PerfItem {
    pub name: &'static str,
    pub value: Duration,
    pub thresholds: Option<(Duration, Duration)>,
}

/// The verdict of a check in Nagios terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub status: NagiosStatus,
    pub criticals: Vec<String>,
    pub warnings: Vec<String>,
    pub oks: Vec<String>,
    pub perf: Vec<PerfItem>,
}

fn seconds(duration: Duration) -> String {
    format!("{:.4}s", duration.as_secs_f64())
}

/// Step statuses and the thresholds, turned into OK / WARNING / CRITICAL. A failed step
/// is CRITICAL, a warning step WARNING; a measure at or above its critical (warning)
/// limit is CRITICAL (WARNING).
pub fn verdict(report: &CheckReport, thresholds: &Thresholds) -> Verdict {
    let measures = Measures::of(report);
    let mut criticals = Vec::new();
    let mut warnings = Vec::new();
    let mut oks = Vec::new();
    let mut perf = Vec::new();
    for step in report.steps() {
        match step.status {
            Status::Fail => criticals.push(format!("{}: {}", step.name, step.summary)),
            Status::Warn => warnings.push(format!("{}: {}", step.name, step.summary)),
            Status::Pass | Status::Skip => {}
        }
    }
    let limited = [
        (
            "connect_time",
            "connect time",
            measures.connect,
            thresholds.connect_warn,
            thresholds.connect_critical,
        ),
        (
            "rtt",
            "rtt",
            measures.rtt,
            thresholds.rtt_warn,
            thresholds.rtt_critical,
        ),
    ];
    for (name, label, value, warn, critical) in limited {
        let Some(value) = value else { continue };
        if value >= critical {
            criticals.push(format!(
                "{label} {} >= {}",
                seconds(value),
                seconds(critical)
            ));
        } else if value >= warn {
            warnings.push(format!("{label} {} >= {}", seconds(value), seconds(warn)));
        }
        perf.push(PerfItem {
            name,
            value,
            thresholds: Some((warn, critical)),
        });
    }
    if let Some(request) = measures.request {
        perf.push(PerfItem {
            name: "request_time",
            value: request,
            thresholds: None,
        });
    }
    let status = if !criticals.is_empty() {
        NagiosStatus::Critical
    } else if !warnings.is_empty() {
        NagiosStatus::Warning
    } else {
        NagiosStatus::Ok
    };
    if status == NagiosStatus::Ok {
        if report.disabled {
            oks.push("messaging is disabled (NATS_ENABLED), nothing to check".to_string());
        } else {
            let mut text = format!("{} reached", report.masked_url);
            if let (Some(received), Some(sent)) =
                (measures.messages_received, measures.messages_sent)
            {
                text.push_str(&format!(", {received}/{sent} messages round trip"));
            }
            oks.push(text);
        }
    }
    Verdict {
        status,
        criticals,
        warnings,
        oks,
        perf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::nats::{NatsAddress, NatsDetail};
    use crate::probe::roundtrip::{RoundtripDetail, RttStatistics};
    use crate::probe::{Detail, StepOutcome};

    fn outcome<D>(
        name: &'static str,
        status: Status,
        ms: u64,
        detail: Detail<D>,
    ) -> StepOutcome<D> {
        StepOutcome {
            name,
            status,
            duration: Duration::from_millis(ms),
            summary: format!("{name} summary"),
            detail,
        }
    }

    fn address(result: AddressResult) -> NatsAddress {
        NatsAddress {
            address: "10.0.0.1:4222".to_string(),
            auth: "none".to_string(),
            auth_source: "none".to_string(),
            info: None,
            result,
            duration_ms: 1.0,
            sniffed: false,
        }
    }

    fn healthy(rtt_ms: f64) -> CheckReport {
        CheckReport {
            masked_url: "nats://nats-server.nats:4222".to_string(),
            disabled: false,
            config: outcome("config", Status::Pass, 0, Detail::NotRun),
            url: outcome("url", Status::Pass, 0, Detail::NotRun),
            dns: outcome("dns", Status::Pass, 100, Detail::NotRun),
            tcp: outcome("tcp", Status::Pass, 200, Detail::NotRun),
            nats: outcome(
                "nats",
                Status::Pass,
                300,
                Detail::Found(NatsDetail {
                    addresses: vec![
                        address(AddressResult::Fail {
                            diagnosis: crate::probe::nats::Diagnosis::Timeout,
                            error: "timed out".to_string(),
                        }),
                        address(AddressResult::Pass {
                            rtt_ms: Some(rtt_ms),
                        }),
                    ],
                    diagnoses: Vec::new(),
                }),
            ),
            roundtrip: outcome(
                "roundtrip",
                Status::Pass,
                5,
                Detail::Found(RoundtripDetail {
                    address: "10.0.0.1:4222".to_string(),
                    subject: "_nats_doctor.x".to_string(),
                    count: 10,
                    received: 10,
                    payload_bytes: 64,
                    rtt_ms: RttStatistics {
                        min: Some(0.1),
                        p50: Some(0.2),
                        p99: Some(0.9),
                        max: Some(1.0),
                    },
                    problem: None,
                    server_errors: Vec::new(),
                }),
            ),
            runbook: Vec::new(),
            duration: Duration::from_millis(605),
        }
    }

    fn limits(warn_ms: u64, critical_ms: u64) -> Thresholds {
        Thresholds {
            connect_warn: Duration::from_millis(warn_ms),
            connect_critical: Duration::from_millis(critical_ms),
            rtt_warn: Duration::from_millis(warn_ms),
            rtt_critical: Duration::from_millis(critical_ms),
        }
    }

    #[test]
    fn measures_come_from_the_passing_address_and_the_steps() {
        let measures = Measures::of(&healthy(2.0));
        assert_eq!(measures.connect, Some(Duration::from_millis(600)));
        assert_eq!(measures.rtt, Some(Duration::from_millis(2)));
        assert_eq!(measures.request, Some(Duration::from_micros(200)));
        assert_eq!(measures.messages_received, Some(10));
    }

    #[test]
    fn limits_are_inclusive() {
        // connect 600 ms: at the warning limit is WARNING, at the critical one CRITICAL.
        assert_eq!(
            verdict(&healthy(1.0), &limits(601, 1000)).status,
            NagiosStatus::Ok
        );
        assert_eq!(
            verdict(&healthy(1.0), &limits(600, 1000)).status,
            NagiosStatus::Warning
        );
        let critical = verdict(&healthy(1.0), &limits(100, 600));
        assert_eq!(critical.status, NagiosStatus::Critical);
        assert_eq!(critical.criticals, ["connect time 0.6000s >= 0.6000s"]);
        assert_eq!(critical.perf.len(), 3);
    }

    #[test]
    fn a_failed_step_is_critical_and_a_warning_step_a_warning() {
        let mut report = healthy(1.0);
        report.dns.status = Status::Warn;
        let warned = verdict(&report, &limits(5000, 10000));
        assert_eq!(warned.status, NagiosStatus::Warning);
        assert_eq!(warned.warnings, ["dns: dns summary"]);
        assert!(warned.oks.is_empty());
        report.roundtrip.status = Status::Fail;
        let failed = verdict(&report, &limits(5000, 10000));
        assert_eq!(failed.status, NagiosStatus::Critical);
        assert_eq!(failed.criticals, ["roundtrip: roundtrip summary"]);
        // A failed round trip has no request time.
        assert!(failed.perf.iter().all(|item| item.name != "request_time"));
    }

    #[test]
    fn the_rtt_falls_back_to_the_fastest_message() {
        let mut report = healthy(1.0);
        report.nats.detail = Detail::Found(NatsDetail {
            addresses: vec![address(AddressResult::Pass { rtt_ms: None })],
            diagnoses: Vec::new(),
        });
        assert_eq!(Measures::of(&report).rtt, Some(Duration::from_micros(100)));
    }

    #[test]
    fn nothing_reached_means_no_measures() {
        let mut report = healthy(1.0);
        report.tcp.status = Status::Fail;
        report.nats = StepOutcome::skipped("nats", "no address");
        report.roundtrip = StepOutcome::skipped("roundtrip", "no connection");
        let verdict = verdict(&report, &limits(1, 2));
        assert_eq!(verdict.status, NagiosStatus::Critical);
        assert!(verdict.perf.is_empty());
        assert_eq!(verdict.status.code(), 2);
    }
}
