//! `nats-doctor test-messaging`: settings, the four cases on one connection, the report
//! in the chosen format, and the exit code (0 every case passed or messaging is
//! disabled, 1 a case failed or no connection, 2 settings no client could use).

use super::{settings, Stdout, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{MessagingFormat, TestMessagingArgs};
use crate::connection::{ConnectionSettings, Source};
use crate::messaging::test_messaging::{self, Publishing};
use crate::report::{self, print_error};
use crate::{probe, runbook};
use anyhow::Context as _;
use std::time::Duration;

/// How long the end of a command waits for work it no longer needs (a name lookup on
/// a blocking thread that a deadline already gave up on).
pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);

pub(super) fn run(args: &TestMessagingArgs, quiet: bool, out: &mut Stdout) -> anyhow::Result<u8> {
    // Its errors name the flag or file at fault, as `check` prints them.
    let connection = settings::connection(&args.connect, &settings::process_environment)?;
    let runtime = super::runtime()?;
    let result = runtime.block_on(test_messaging::run(&connection, args.live));
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    // Only settings errors come back as errors: they exit 2, as usage errors do.
    let report = result?;
    let watch = watch_command(args, &connection);
    let written = match args.format {
        MessagingFormat::Text => {
            report::messaging::text::write_test_messaging(out, &report, &watch, quiet)
        }
        MessagingFormat::Json => {
            // Machine-readable output has cases only; say why there are none.
            if let Publishing::Disabled { value } = &report.publishing {
                print_error(&format!(
                    "messaging is disabled (NATS_ENABLED=\"{value}\"): nothing published"
                ));
            }
            if let Publishing::NotConnected { error } = &report.publishing {
                print_error(error);
            }
            report::messaging::json::write_test_messaging(out, &report, &watch)
        }
    };
    out.done(written).context("writing the report")?;
    Ok(if report.ok() { EXIT_OK } else { EXIT_FINDINGS })
}

/// The `watch` command that sees what this run publishes: `--sandbox` unless the run
/// was `--live`, and the flags that chose the server and the settings (the URL with its
/// credentials masked). `--password` and `--token` are left out, to be typed again:
/// their values are never printed.
fn watch_command(args: &TestMessagingArgs, connection: &ConnectionSettings) -> String {
    let flags = &args.connect;
    let mut words = vec!["nats-doctor".to_string(), "watch".to_string()];
    if !args.live {
        words.push("--sandbox".to_string());
    }
    let mut flag = |name: &str, value: String| {
        words.push(name.to_string());
        words.push(runbook::shell_word(&value));
    };
    if connection.settings.url.source == Source::Flag {
        flag("--url", probe::masked_list(&connection.settings.url.value));
    }
    let paths = [
        ("--env-file", &flags.env_file),
        ("--creds", &flags.creds),
        ("--nkey", &flags.nkey),
        ("--tls-ca", &flags.tls_ca),
        ("--tls-cert", &flags.tls_cert),
        ("--tls-key", &flags.tls_key),
    ];
    for (name, path) in paths {
        if let Some(path) = path {
            flag(name, path.display().to_string());
        }
    }
    if let Some(user) = &flags.user {
        flag("--user", user.clone());
    }
    let mut command = words.join(" ");
    let secret = match (&flags.password, &flags.token) {
        (Some(_), _) => Some("--password"),
        (None, Some(_)) => Some("--token"),
        (None, None) => None,
    };
    if let Some(secret) = secret {
        command.push_str(&format!("   # and the {secret} you gave"));
    }
    command
}
