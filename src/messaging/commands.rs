//! The edge of the messaging commands: flags to settings, a runtime, the output format,
//! and the exit code. Errors become `anyhow` here and nowhere deeper.

use crate::cli::{MessagingFormat, TestMessagingArgs, WatchArgs};
use crate::connection::{self, Connection};
use crate::messaging::session::SessionError;
use crate::messaging::test_messaging;
use crate::messaging::watch::{self, WatchError, WatchOptions, WatchSink};
use crate::report::{messaging_json, messaging_text, print_error};
use crate::{EXIT_FINDINGS, EXIT_OK};
use anyhow::Context as _;
use std::io::{self, Write};
use std::time::Duration;

/// How long the end of a command waits for work it no longer needs (a name lookup on
/// a blocking thread that a deadline already gave up on).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // One thread: the commands wait on the network, and their verdicts rely on the
    // connection's in-order processing, not on parallelism.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn settings(args: &connection::ConnectArgs) -> anyhow::Result<Connection> {
    connection::resolve(args, &connection::process_environment).context("reading the settings")
}

pub fn test_messaging(
    args: &TestMessagingArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let connection = settings(&args.connect)?;
    let runtime = runtime()?;
    let result = runtime.block_on(test_messaging::run(&connection, args.live));
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    // Only settings errors come back as errors: they exit 2, as usage errors do.
    let report = result?;
    let written = match args.format {
        MessagingFormat::Text => messaging_text::write_test_messaging(out, &report, quiet),
        MessagingFormat::Json => {
            // Machine-readable output has cases only; say why there are none.
            if let test_messaging::Outcome::Disabled { value } = &report.outcome {
                print_error(&format!(
                    "messaging is disabled (NATS_ENABLED=\"{value}\"): nothing published"
                ));
            }
            if let test_messaging::Outcome::NotConnected { error } = &report.outcome {
                print_error(error);
            }
            messaging_json::write_test_messaging(out, &report)
        }
    };
    match written {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the report")?,
    }
    Ok(if report.ok() { EXIT_OK } else { EXIT_FINDINGS })
}

pub fn watch(args: &WatchArgs, quiet: bool) -> anyhow::Result<u8> {
    let connection = settings(&args.connect)?;
    if !connection.settings.messaging_enabled() && !quiet {
        print_error(&format!(
            "note: NATS_ENABLED=\"{}\", so the services publish nothing; watching anyway",
            connection.settings.enabled.value
        ));
    }
    let options = WatchOptions {
        subject: args.subject.clone(),
        count: args.count,
        duration: args.duration,
        reconnect_window: args.reconnect_window,
    };
    let stdout = io::stdout();
    // Large buffer: under a burst the output is written in big blocks; `idle` flushes
    // as soon as nothing more is queued, so a terminal still sees every line at once.
    let handle = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut sink: Box<dyn WatchSink> = match args.format {
        MessagingFormat::Text => Box::new(messaging_text::WatchText::new(handle, quiet)),
        MessagingFormat::Json => Box::new(messaging_json::WatchJson::new(handle, quiet)),
    };
    let runtime = runtime()?;
    let result = runtime.block_on(watch::run(
        &connection,
        &options,
        sink.as_mut(),
        stop_signal(),
    ));
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    match result {
        Ok(summary) => Ok(if summary.ok() { EXIT_OK } else { EXIT_FINDINGS }),
        Err(WatchError::Session(SessionError::Connect { attempts })) => {
            print_error(&attempts.join("; "));
            print_error("`nats-doctor check` diagnoses the connection");
            Ok(EXIT_FINDINGS)
        }
        // Settings no client could use exit 2, as usage errors do.
        Err(error) if error.is_settings() => Err(error.into()),
        Err(error @ WatchError::SubscribeDenied { .. }) => {
            print_error(&error.to_string());
            Ok(EXIT_FINDINGS)
        }
        Err(WatchError::Output(error)) if error.kind() == io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(error) => Err(error).context("watch"),
    }
}

/// Resolves on Ctrl-C, or SIGTERM (what `kubectl delete` and `timeout` send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
