//! The one way the tests run the binary. A run starts with an empty environment (only
//! PATH, HOME and TMPDIR are kept, and what the test sets), runs `NATS_DOCTOR_BIN` when
//! it is set (so the suite can test another build, such as the static one), is killed
//! with its process group if it outlives its deadline, and has both of its streams
//! scanned: no secret the tests know of or the test declared, and no raw control
//! character (unless the test opts out for that run), may be in them.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run may take before it is killed (and the test fails): far longer than
/// any run here takes, so only a hang reaches it.
const KILL_AFTER: Duration = Duration::from_secs(120);
/// How long a test waits for a line from a running process.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The variables of the test's environment a run keeps; every other one is cleared.
pub const KEPT_ENVIRONMENT: &[&str] = &["PATH", "HOME", "TMPDIR"];

/// Secrets of the test servers: no run may print them, whatever it is given.
pub const KNOWN_SECRETS: &[&str] = &[
    super::nats_server::TOKEN,
    super::nats_server::PASSWORD,
    super::nats_server::LIMITED_PASSWORD,
];

/// The binary under test: `NATS_DOCTOR_BIN` when set (scripts/build-static points it at
/// the static build), else the one cargo built for these tests.
pub fn binary() -> PathBuf {
    std::env::var_os("NATS_DOCTOR_BIN")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_nats-doctor")))
}

/// `nats-doctor ARGS` (the subcommand included), to be set up and run.
pub fn nats_doctor<I, S>(args: I) -> Doctor
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Doctor {
        args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        env: Vec::new(),
        stdin: None,
        current_dir: None,
        wrapper: Vec::new(),
        secrets: Vec::new(),
        what: None,
        control: Control::Forbidden,
        expected_code: None,
        kill_after: KILL_AFTER,
        measure_memory: false,
        address_space: None,
        cpu_seconds: None,
    }
}

/// What a run may write besides text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    /// No control character but line feeds.
    Forbidden,
    /// Also the SGR sequences of nats-doctor's own colours (`ESC [ 1;31 m`).
    Colours,
    /// Anything (the test checks the bytes itself).
    Allowed,
}

/// A run being set up.
#[must_use]
pub struct Doctor {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    current_dir: Option<PathBuf>,
    wrapper: Vec<OsString>,
    secrets: Vec<String>,
    what: Option<String>,
    control: Control,
    expected_code: Option<i32>,
    kill_after: Duration,
    measure_memory: bool,
    address_space: Option<u64>,
    cpu_seconds: Option<u64>,
}

impl Doctor {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Doctor {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Doctor
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// One variable of the run's environment (PATH too: it replaces the kept one).
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Doctor {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn envs(mut self, pairs: &[(&str, &str)]) -> Doctor {
        for (name, value) in pairs {
            self = self.env(name, value);
        }
        self
    }

    /// Bytes for standard input (without, standard input is /dev/null).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Doctor {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Doctor {
        self.current_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Starts the binary through `wrapper` (`ip netns exec NAME`, or `bash -c SCRIPT`,
    /// which gets the binary as `$0` and the arguments as `$@`).
    pub fn through<I, S>(mut self, wrapper: I) -> Doctor
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.wrapper = wrapper.into_iter().map(|a| a.as_ref().to_owned()).collect();
        self
    }

    /// A text that must not appear in either stream (a password, a token, or a piece
    /// of one).
    pub fn secret(mut self, secret: impl Into<String>) -> Doctor {
        self.secrets.push(secret.into());
        self
    }

    pub fn secrets(mut self, secrets: &[&str]) -> Doctor {
        self.secrets.extend(secrets.iter().map(|s| s.to_string()));
        self
    }

    /// What the run is, for failure messages (by default its arguments).
    pub fn describe(mut self, what: impl Into<String>) -> Doctor {
        self.what = Some(what.into());
        self
    }

    /// The run writes colours: nats-doctor's own SGR sequences are allowed, no other
    /// control character is.
    pub fn colours(mut self) -> Doctor {
        self.control = Control::Colours;
        self
    }

    /// The run may write any bytes (a test that checks them itself).
    pub fn allow_control_characters(mut self) -> Doctor {
        self.control = Control::Allowed;
        self
    }

    /// The exit code the run must end with.
    pub fn code(mut self, code: i32) -> Doctor {
        self.expected_code = Some(code);
        self
    }

    /// Kills the run (and fails the test) after `limit` instead of the default.
    pub fn kill_after(mut self, limit: Duration) -> Doctor {
        self.kill_after = limit;
        self
    }

    /// Runs under an address-space limit, so that a run that would take the machine's
    /// memory fails instead.
    pub fn address_space_limit(mut self, bytes: u64) -> Doctor {
        self.address_space = Some(bytes);
        self
    }

    /// Runs under a limit of processor time, after which the kernel ends the run with
    /// SIGXCPU: it catches a run that spins whatever the machine's load is, which a
    /// deadline of wall time cannot tell from a slow run on a busy machine.
    pub fn cpu_limit(mut self, seconds: u64) -> Doctor {
        self.cpu_seconds = Some(seconds);
        self
    }

    /// Runs it to the end.
    pub fn run(self) -> Run {
        self.start(false).finish()
    }

    /// Runs it under GNU time, which reports the peak memory of exactly that process.
    /// (The test process cannot ask wait4 itself: a child spawned with a shared address
    /// space, as std spawns, inherits the parent's peak until it executes the binary.)
    pub fn measured(mut self) -> Measured {
        self.measure_memory = true;
        let run = self.run();
        Measured {
            max_rss_kib: run
                .max_rss_kib
                .unwrap_or_else(|| panic!("GNU time reported no peak:\n{}", run.stderr)),
            output_bytes: run.output_bytes,
            run,
        }
    }

    /// Starts it; the test reads its lines as they come and then calls `finish`.
    pub fn spawn(self) -> Running {
        self.start(true)
    }

    /// Starts it; with `lines`, each line is also handed to the test as it comes.
    fn start(self, lines: bool) -> Running {
        let report = self
            .measure_memory
            .then(|| tempfile::NamedTempFile::new().expect("a file for GNU time's report"));
        let mut program: Vec<OsString> = Vec::new();
        if let Some(report) = &report {
            program.push(gnu_time().into());
            program.push("--format=%M".into());
            program.push("--output".into());
            program.push(report.path().into());
        }
        program.extend(self.wrapper.iter().cloned());
        program.push(binary().into());
        let mut command = Command::new(&program[0]);
        command
            .args(&program[1..])
            .args(&self.args)
            .env_clear()
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so that a run that hangs is killed whole.
            .process_group(0);
        for kept in KEPT_ENVIRONMENT {
            if let Some(value) = std::env::var_os(kept) {
                command.env(kept, value);
            }
        }
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        // (resource, soft, hard): past the soft limit of processor time the kernel sends
        // SIGXCPU, which names the cause; SIGKILL only past the hard one.
        let limits: Vec<(libc::__rlimit_resource_t, u64, u64)> = [
            self.address_space
                .map(|bytes| (libc::RLIMIT_AS, bytes, bytes)),
            self.cpu_seconds
                .map(|seconds| (libc::RLIMIT_CPU, seconds, seconds + 10)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !limits.is_empty() {
            // SAFETY: setrlimit is async-signal-safe and touches nothing of the parent.
            unsafe {
                command.pre_exec(move || {
                    for &(resource, soft, hard) in &limits {
                        let limit = libc::rlimit {
                            rlim_cur: soft,
                            rlim_max: hard,
                        };
                        if libc::setrlimit(resource, &limit) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {:?}: {error}", program));
        let feeder = self.stdin.clone().map(|bytes| {
            let mut input = child.stdin.take().expect("standard input");
            // On a thread of its own, so that a large input cannot block on a full pipe
            // while the output is not read.
            std::thread::spawn(move || {
                let _ = input.write_all(&bytes);
            })
        });
        let stdout = Stream::read(child.stdout.take().expect("standard output"), lines);
        let stderr = Stream::read(child.stderr.take().expect("standard error"), lines);
        Running {
            description: self
                .what
                .clone()
                .unwrap_or_else(|| format!("nats-doctor {:?}", self.args)),
            child: ChildGuard(Some(child)),
            stdout,
            stderr,
            feeder,
            started,
            report,
            settings: self,
        }
    }
}

/// GNU time, at /usr/bin/time; a test without it fails with instructions.
fn gnu_time() -> PathBuf {
    let path = PathBuf::from("/usr/bin/time");
    assert!(
        path.is_file(),
        "GNU time is not installed at /usr/bin/time; install it: apt-get install time"
    );
    path
}

/// One output stream, read on a thread as it is written: every byte is kept, and every
/// complete line is also sent to the test as it arrives.
struct Stream {
    bytes: Arc<Mutex<Vec<u8>>>,
    lines: mpsc::Receiver<String>,
    /// Lines already taken from `lines`.
    seen: Vec<String>,
    reader: Option<JoinHandle<()>>,
}

impl Stream {
    fn read(mut from: impl Read + Send + 'static, lines_wanted: bool) -> Stream {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (sender, lines) = mpsc::channel();
        let kept = Arc::clone(&bytes);
        let reader = std::thread::spawn(move || {
            let mut chunk = vec![0u8; 64 * 1024];
            let mut line = Vec::new();
            // Ends with the stream, when every writer has closed it.
            while let Ok(read) = from.read(&mut chunk) {
                if read == 0 {
                    break;
                }
                kept.lock()
                    .expect("output buffer")
                    .extend_from_slice(&chunk[..read]);
                if !lines_wanted {
                    continue;
                }
                for &byte in &chunk[..read] {
                    if byte == b'\n' {
                        let _ = sender.send(String::from_utf8_lossy(&line).into_owned());
                        line.clear();
                    } else if line.len() < 1 << 20 {
                        line.push(byte);
                    }
                }
            }
        });
        Stream {
            bytes,
            lines,
            seen: Vec::new(),
            reader: Some(reader),
        }
    }

    /// Waits (at most `PATIENCE`) for a line that satisfies `wanted`.
    fn line(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        if let Some(line) = self.seen.iter().find(|line| wanted(line)) {
            return Some(line.clone());
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if wanted(&line) {
                return Some(line);
            }
        }
    }

    /// Everything written, once the stream has ended.
    fn finish(mut self) -> Vec<u8> {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        std::mem::take(&mut *self.bytes.lock().expect("output buffer"))
    }
}

/// A run in progress.
pub struct Running {
    description: String,
    child: ChildGuard,
    stdout: Stream,
    stderr: Stream,
    feeder: Option<JoinHandle<()>>,
    started: Instant,
    report: Option<tempfile::NamedTempFile>,
    settings: Doctor,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.0.as_ref().map_or(0, Child::id)
    }

    /// Waits (bounded) for a line on standard output that satisfies `wanted`.
    pub fn stdout_line(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        self.stdout.line(wanted)
    }

    /// Waits (bounded) for a line on standard error that satisfies `wanted`.
    pub fn stderr_line(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        self.stderr.line(wanted)
    }

    /// Sends `signal` to the process (SIGINT is Ctrl-C).
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.pid()).expect("a pid");
        // SAFETY: sends a signal to the process this test started; no memory is touched.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Kills the whole process group now.
    pub fn kill(&self) {
        let group = libc::pid_t::try_from(self.pid()).expect("a pid");
        // SAFETY: sends a signal to the process group this test created.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }

    /// Waits for the end (killing the run at its deadline), collects and scans both
    /// streams, and checks the exit code when one was asked for.
    pub fn finish(mut self) -> Run {
        let mut child = self.child.0.take().expect("a child");
        let pid = child.id();
        let (sender, exited) = mpsc::channel::<std::io::Result<ExitStatus>>();
        // The wait is blocking, on a thread, so that the deadline is a wait on the exit
        // itself, not a loop.
        let waiter = std::thread::spawn(move || {
            let _ = sender.send(child.wait());
        });
        let left = self
            .settings
            .kill_after
            .saturating_sub(self.started.elapsed());
        let (status, killed) = match exited.recv_timeout(left) {
            Ok(status) => (status.expect("wait for nats-doctor"), false),
            Err(_) => {
                let group = libc::pid_t::try_from(pid).expect("a pid");
                // SAFETY: sends a signal to the process group this test created.
                unsafe { libc::kill(-group, libc::SIGKILL) };
                let status = exited
                    .recv()
                    .expect("the waiter")
                    .expect("wait for nats-doctor");
                (status, true)
            }
        };
        let elapsed = self.started.elapsed();
        let _ = waiter.join();
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
        let Running {
            description,
            stdout,
            stderr,
            report,
            settings,
            ..
        } = self;
        let stdout = stdout.finish();
        let stderr = stderr.finish();
        assert!(
            !killed,
            "{description} ran longer than {:?} and was killed:\n{}\n{}",
            settings.kill_after,
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        );
        use std::os::unix::process::ExitStatusExt;
        let mut run = Run {
            code: status.code().unwrap_or(-1),
            signal: status.signal(),
            output_bytes: stdout.len() + stderr.len(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
            max_rss_kib: None,
        };
        if let Some(report) = report {
            read_time_report(&mut run, report.path());
        }
        scan(&description, &settings, &run, &stdout, &stderr);
        if let Some(code) = settings.expected_code {
            assert_eq!(
                run.code, code,
                "{description} exited {} instead of {code}:\n--- stdout\n{}\n--- stderr\n{}",
                run.code, run.stdout, run.stderr
            );
        }
        run
    }
}

/// The process of a run; killed with its group when a test fails before `finish`.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            if let Ok(group) = libc::pid_t::try_from(child.id()) {
                // SAFETY: sends a signal to the process group this test created.
                unsafe { libc::kill(-group, libc::SIGKILL) };
            }
            let _ = child.wait();
        }
    }
}

/// GNU time's report ends with the peak; before it, a line says when the command failed
/// or was killed by a signal (GNU time itself then exits with its own code).
fn read_time_report(run: &mut Run, path: &Path) {
    let report = std::fs::read_to_string(path).expect("GNU time's report");
    run.max_rss_kib = report
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok());
    for line in report.lines() {
        if let Some(signal) = line.strip_prefix("Command terminated by signal ") {
            run.signal = signal.trim().parse().ok();
            run.code = -1;
        }
    }
}

/// Characters that must never reach a terminal raw (line feeds end lines): C0 and C1
/// controls, DEL, and the characters that reorder or break a line on screen.
pub fn forbidden(character: char) -> bool {
    matches!(
        character,
        '\u{0}'..='\u{9}'
            | '\u{b}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Fails when `bytes` are not UTF-8 or hold a forbidden character, except, when
/// `colours`, the SGR sequences (`ESC [ digits ; m`) of nats-doctor's own colours.
pub fn assert_terminal_safe(what: &str, bytes: &[u8], colours: bool) {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => panic!(
            "{what}: not UTF-8 ({error}):\n{}",
            String::from_utf8_lossy(bytes)
        ),
    };
    let mut characters = text.char_indices().peekable();
    while let Some((at, character)) = characters.next() {
        if character == '\u{1b}' && colours {
            let rest = &text[at + 1..];
            if let Some(sequence) = rest.strip_prefix('[') {
                let length = sequence
                    .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                    .unwrap_or(sequence.len());
                if sequence[length..].starts_with('m') {
                    for _ in 0..length + 2 {
                        characters.next();
                    }
                    continue;
                }
            }
        }
        assert!(
            !forbidden(character),
            "{what}: raw {character:?} at byte {at}:\n{text}"
        );
    }
}

fn scan(description: &str, settings: &Doctor, run: &Run, stdout: &[u8], stderr: &[u8]) {
    let declared = settings.secrets.iter().map(String::as_str);
    for secret in KNOWN_SECRETS.iter().copied().chain(declared) {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{description}: `{secret}` was printed\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout,
            run.stderr
        );
    }
    if settings.control != Control::Allowed {
        let colours = settings.control == Control::Colours;
        assert_terminal_safe(&format!("{description} (stdout)"), stdout, colours);
        assert_terminal_safe(&format!("{description} (stderr)"), stderr, colours);
    }
}

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    /// The exit code; -1 when a signal ended the run.
    pub code: i32,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The peak resident set size in KiB, when measured.
    pub max_rss_kib: Option<u64>,
    /// Bytes written to standard output and standard error together.
    pub output_bytes: usize,
}

/// A run with its peak memory and output size.
#[derive(Debug)]
pub struct Measured {
    pub run: Run,
    /// Peak resident set size of the process, in KiB, as GNU time reports it.
    pub max_rss_kib: u64,
    pub output_bytes: usize,
}

impl Run {
    /// Standard output as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// Standard output, then standard error.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The findings of a lint JSON report: (code, file, line, column).
    pub fn findings(&self) -> Vec<(String, String, u64, u64)> {
        findings(&self.json())
    }

    /// The step called `name` in the JSON report of check.
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

    /// The first diagnosis of the nats step.
    pub fn diagnosis(&self) -> String {
        self.step("nats")["detail"]["diagnoses"][0]
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

/// The findings of a lint JSON report: (code, file, line, column).
pub fn findings(report: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_string(),
                f["file"].as_str().expect("file").to_string(),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
            )
        })
        .collect()
}

/// Runs `nats-doctor check ARGS` with exactly `env` as its environment.
pub fn check(args: &[&str], env: &[(&str, &str)]) -> Run {
    nats_doctor(["check"]).args(args).envs(env).run()
}

/// `check --format json` as a pod of namespace `petrosa-apps` runs it: the pod's
/// resolv.conf (its search list, `ndots:5`), only `nameserver` asked, and `NATS_URL` set
/// to `url`.
pub fn check_as_pod(nameserver: &str, url: &str, timeout: &str) -> Run {
    let dir = tempfile::tempdir().expect("a directory for resolv.conf");
    let resolv = super::dns_server::pod_resolv_conf(dir.path(), "petrosa-apps");
    check(
        &[
            "--format",
            "json",
            "--timeout",
            timeout,
            "--resolv-conf",
            resolv.to_str().expect("a UTF-8 path"),
            "--nameserver",
            nameserver,
            "--no-system-resolver",
        ],
        &[("NATS_URL", url), ("POD_NAMESPACE", "petrosa-apps")],
    )
}

/// `check`, started through `wrapper` (for example `ip netns exec NAME`).
pub fn check_through(wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    nats_doctor(["check"])
        .args(args)
        .envs(env)
        .through(wrapper)
        .run()
}

/// Asserts the run ended within `limit` (a step's time limit plus a margin).
pub fn assert_within(run: &Run, limit: Duration) {
    assert!(
        run.elapsed <= limit,
        "took {:?}, more than {limit:?}:\n{}",
        run.elapsed,
        run.stdout
    );
}

/// Runs `nats-doctor ARGS` with exactly `env` as its environment under GNU time, killed
/// after `limit`.
pub fn run_measured(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Measured {
    nats_doctor(args).envs(env).kill_after(limit).measured()
}
