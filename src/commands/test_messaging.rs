//! `nats-doctor test-messaging`: settings, the four cases on one connection, the report
//! in the chosen format, and the exit code (0 every case passed or messaging is
//! disabled, 1 a case failed or no connection, 2 settings no client could use).

use super::{settings, Stdout, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{MessagingFormat, TestMessagingArgs};
use crate::messaging::test_messaging::{self, Publishing};
use crate::report::{self, print_error};
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
    let written = match args.format {
        MessagingFormat::Text => report::messaging::text::write_test_messaging(out, &report, quiet),
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
            report::messaging::json::write_test_messaging(out, &report)
        }
    };
    out.done(written).context("writing the report")?;
    Ok(if report.ok() { EXIT_OK } else { EXIT_FINDINGS })
}
