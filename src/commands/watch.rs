//! `nats-doctor watch [SUBJECT]`: settings, the subscription, one verdict per message
//! through the sink of the chosen format (standard output, flushed as it goes), and the
//! exit code (0 every message valid, 1 an invalid message, a drop, a lost connection
//! or none at all, 2 settings no client could use). Ctrl-C and SIGTERM end the watch
//! with its summary.

use super::settings;
use super::test_messaging::SHUTDOWN_GRACE;
use super::{EXIT_FINDINGS, EXIT_OK};
use crate::cli::{MessagingFormat, WatchArgs};
use crate::messaging::session::SessionError;
use crate::messaging::watch::{self, WatchError, WatchOptions, WatchSink};
use crate::report::messaging::{json::WatchJson, text::WatchText};
use crate::report::print_error;
use anyhow::Context as _;
use std::io;

pub(super) fn run(args: &WatchArgs, quiet: bool) -> anyhow::Result<u8> {
    // Its errors name the flag or file at fault, as `check` prints them.
    let connection = settings::connection(&args.connect, &settings::process_environment)?;
    if !connection.settings.messaging_enabled() && !quiet {
        print_error(&format!(
            "note: NATS_ENABLED=\"{}\", so the services publish nothing; watching anyway",
            connection.settings.enabled.value
        ));
    }
    let options = WatchOptions {
        subject: args.subject.clone(),
        sandbox: args.sandbox,
        count: args.count,
        duration: args.duration,
        reconnect_window: args.reconnect_window,
    };
    // Large buffer: under a burst the output is written in big blocks; `idle` flushes
    // as soon as nothing more is queued, so a terminal still sees every line at once.
    let handle = io::BufWriter::with_capacity(super::STDOUT_BUFFER, io::stdout().lock());
    let mut sink: Box<dyn WatchSink> = match args.format {
        MessagingFormat::Text => Box::new(WatchText::new(handle, quiet)),
        MessagingFormat::Json => Box::new(WatchJson::new(handle, quiet)),
    };
    let runtime = super::runtime()?;
    // The handlers are installed before the subscription is announced: a Ctrl-C that
    // follows the announcement at once still ends the run with its summary.
    let stop = {
        let _entered = runtime.enter();
        stop_signal()
    };
    let result = runtime.block_on(watch::run(&connection, &options, sink.as_mut(), stop));
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
        Err(WatchError::OutputClosed) => Ok(EXIT_OK),
        Err(error) => Err(error).context("watch"),
    }
}

/// Installs the handlers of Ctrl-C and SIGTERM (what `kubectl delete` and `timeout`
/// send) now, inside the runtime, and resolves on either.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        async fn received(signal: Option<Signal>) {
            match signal {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            tokio::select! {
                () = received(interrupt) => {}
                () = received(terminate) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
