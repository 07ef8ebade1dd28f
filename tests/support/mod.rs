//! Real components for the integration tests: `nats-server` processes, a DNS server and
//! a raw DNS responder on loopback, and network namespaces that emulate a pod and its
//! cluster. Nothing here sends a packet outside 127.0.0.0/8, except to documentation
//! addresses inside namespaces a test created.
#![allow(dead_code)]

pub mod dns_server;
pub mod nats_server;
pub mod netns;
pub mod raw_dns;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A loopback address with that port.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Secrets used by the test servers; no output may contain them.
pub const SECRETS: &[&str] = &[
    nats_server::TOKEN,
    nats_server::PASSWORD,
    nats_server::LIMITED_PASSWORD,
];

/// One run of the real binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: std::time::Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// The step called `name` in the JSON report.
    pub fn step(&self, name: &str) -> serde_json::Value {
        self.json()["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|step| step["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no step {name} in {}", self.stdout))
    }

    pub fn status(&self, name: &str) -> String {
        self.step(name)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Titles of the runbook entries.
    pub fn runbook(&self) -> Vec<String> {
        self.json()["runbook"]
            .as_array()
            .expect("runbook")
            .iter()
            .map(|entry| entry["title"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// All runbook commands, one string.
    pub fn runbook_commands(&self) -> String {
        self.json()["runbook"]
            .as_array()
            .expect("runbook")
            .iter()
            .flat_map(|entry| entry["commands"].as_array().cloned().unwrap_or_default())
            .filter_map(|command| command.as_str().map(str::to_string))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The binary under test: `NATS_DOCTOR_BIN` when set (scripts/build-static points it at
/// the static build), else the one cargo built for these tests.
pub fn binary() -> std::path::PathBuf {
    std::env::var_os("NATS_DOCTOR_BIN")
        .filter(|path| !path.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_BIN_EXE_nats-doctor")))
}

/// Runs `nats-doctor check ARGS` with exactly `env` as its environment (plus PATH), and
/// checks that no secret appears in its output.
pub fn check(args: &[&str], env: &[(&str, &str)]) -> Run {
    check_through(&[], args, env)
}

/// `check`, started through `wrapper` (for example `ip netns exec NAME`).
pub fn check_through(wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = match wrapper.split_first() {
        Some((program, wrapper_args)) => {
            let mut command = std::process::Command::new(program);
            command.args(wrapper_args).arg(binary());
            command
        }
        None => std::process::Command::new(binary()),
    };
    command
        .arg("check")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    let started = std::time::Instant::now();
    let output = command.output().expect("run nats-doctor");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    for secret in SECRETS {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret was printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

/// Asserts the run ended within `limit` (a step's time limit plus a margin).
pub fn assert_within(run: &Run, limit: std::time::Duration) {
    assert!(
        run.elapsed <= limit,
        "took {:?}, more than {limit:?}:\n{}",
        run.elapsed,
        run.stdout
    );
}
