//! A `nats-doctor watch` running in the background, started once its subscription is
//! live: what `watch` tests and the tests of what it sees share.

use super::run::{Doctor, Running};

/// A running `watch` whose subscription is live.
pub struct Watch {
    pub running: Running,
}

impl Watch {
    /// Starts `command` (a `watch` command line) and waits until it announces its
    /// subscription on standard error; kills it and fails the test if it never does.
    pub fn start(command: Doctor) -> Watch {
        let mut running = command.spawn();
        if running
            .stderr_line(|line| line.contains("watching "))
            .is_none()
        {
            running.kill();
            panic!("watch did not announce its subscription");
        }
        Watch { running }
    }

    /// Waits for a line on standard error.
    pub fn stderr_line(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        self.running.stderr_line(wanted)
    }

    /// Waits for a line on standard output.
    pub fn stdout_line(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        self.running.stdout_line(wanted)
    }

    /// Waits for the exit; the exit code (none after a signal) and standard output.
    pub fn finish(self) -> (Option<i32>, String) {
        let (code, stdout, _) = self.finish_with_stderr();
        (code, stdout)
    }

    /// Waits for the exit; the exit code (none after a signal), standard output and
    /// standard error.
    pub fn finish_with_stderr(self) -> (Option<i32>, String, String) {
        let run = self.running.finish();
        let code = (run.signal.is_none()).then_some(run.code);
        (code, run.stdout, run.stderr)
    }
}
