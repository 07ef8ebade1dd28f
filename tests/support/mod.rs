//! Real components for the integration tests: `nats-server` processes, a DNS server and
//! a raw DNS responder on loopback, and network namespaces that emulate a pod and its
//! cluster. Nothing here sends a packet outside 127.0.0.0/8, except to documentation
//! addresses inside namespaces a test created.
#![allow(dead_code)]

pub mod client;
pub mod dns_server;
pub mod hostile;
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

/// A run of the real binary with its peak memory and output size.
#[derive(Debug)]
pub struct Measured {
    pub run: Run,
    /// Peak resident set size of the process, in KiB, as GNU time reports it.
    pub max_rss_kib: u64,
    /// Bytes written to standard output and standard error together.
    pub output_bytes: usize,
}

/// GNU time, which reports the peak memory of exactly the process it runs. (The test
/// process cannot ask wait4 itself: a child spawned with a shared address space, as
/// std spawns, inherits the parent's peak until it executes the binary.)
fn gnu_time() -> std::path::PathBuf {
    let path = std::path::PathBuf::from("/usr/bin/time");
    assert!(
        path.is_file(),
        "GNU time is not installed at /usr/bin/time; install it: apt-get install time"
    );
    path
}

/// Runs `nats-doctor ARGS` (the subcommand included) with exactly `env` as its
/// environment, and measures it. A run that has not ended after `limit` is killed (and
/// the test fails on it).
pub fn run_measured(args: &[&str], env: &[(&str, &str)], limit: std::time::Duration) -> Measured {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let report = tempfile::NamedTempFile::new().expect("a file for GNU time's report");
    let mut command = Command::new(gnu_time());
    command
        .arg("--format=%M")
        .arg("--output")
        .arg(report.path())
        .arg(binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a run that hangs can be killed whole.
        .process_group(0);
    for (name, value) in env {
        command.env(name, value);
    }
    let started = std::time::Instant::now();
    let mut child = command.spawn().expect("run nats-doctor under GNU time");
    let reader = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut stream) = stream {
                let _ = stream.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let mut killed = false;
    // Bounded: polls every 5 ms; after `limit` the process group is killed.
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit && !killed {
            let group = libc::pid_t::try_from(child.id()).expect("a pid");
            // SAFETY: sends a signal to the process group this test created; no memory
            // is touched.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(!killed, "nats-doctor {args:?} ran longer than {limit:?}");
    // The report ends with the number; a failing command adds a line before it.
    let report = std::fs::read_to_string(report.path()).expect("GNU time's report");
    let max_rss_kib = report
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time reported {report:?}"));
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed,
    };
    Measured {
        output_bytes: stdout.len() + stderr.len(),
        max_rss_kib,
        run,
    }
}
