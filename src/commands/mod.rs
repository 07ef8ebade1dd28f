//! The command edge: the one place that reads settings (flags, the environment, env
//! files), runs a command, prints through `crate::report` and maps the result to an
//! exit code. Each command starts in its own file here; `main.rs` only parses the
//! command line and hands it over.
//!
//! Errors become `anyhow` here and nowhere deeper, and are printed once, by [`run`],
//! through `report::print_error` (credentials masked, control characters escaped).

mod check;
mod completions;
mod explain;
mod lint;
mod man;
mod rules;
pub(crate) mod settings;
mod test_messaging;
mod watch;

use crate::cli::{Cli, ColorChoice, Command};
use crate::report::{self, Output};
use anyhow::Context as _;
use clap::{CommandFactory, Parser};
use std::ffi::OsString;
use std::io::{self, IsTerminal};

/// Nothing to report, every step passed, every case arrived.
pub const EXIT_OK: u8 = 0;
/// Findings, a failed step, a lost case, an invalid event.
pub const EXIT_FINDINGS: u8 = 1;
/// A usage error, settings that cannot be read, an input that cannot be read.
pub const EXIT_ERROR: u8 = 2;

/// Standard output, buffered, through the writer that stops at a closed pipe.
pub(crate) type Stdout = Output<io::BufWriter<io::StdoutLock<'static>>>;

/// The command line as typed. A usage error (or `--help`, `--version`) is printed and
/// ends the process here, with clap's exit code; the values clap would echo are masked
/// and escaped first.
pub fn parse(arguments: &[OsString]) -> Cli {
    match Cli::try_parse_from(arguments) {
        Ok(cli) => cli,
        Err(error) => report::command_line::sanitize(error, &Cli::command(), arguments).exit(),
    }
}

/// Runs a command and returns its exit code; an error is printed here.
pub fn run(cli: Cli) -> u8 {
    match dispatch(&cli) {
        Ok(code) => code,
        Err(error) => {
            report::print_error(&format!("{error:#}"));
            EXIT_ERROR
        }
    }
}

fn dispatch(cli: &Cli) -> anyhow::Result<u8> {
    configure_color(cli.color);
    let mut out: Stdout = Output::new(io::BufWriter::new(io::stdout().lock()));
    let code = match &cli.command {
        Command::Check(args) => check::run(args, cli.quiet, &mut out)?,
        Command::Completions(args) => completions::run(args, &mut out)?,
        Command::Explain(args) => explain::run(args, &mut out)?,
        Command::Lint(args) => lint::run(args, cli.quiet, &mut out)?,
        Command::Man(args) => man::run(args, &mut out)?,
        Command::Rules(args) => rules::run(args, &mut out)?,
        Command::TestMessaging(args) => test_messaging::run(args, cli.quiet, &mut out)?,
        Command::Watch(args) => {
            // watch streams: it writes through its own handle and flushes as it goes.
            out.finish().context("writing output")?;
            drop(out);
            return watch::run(args, cli.quiet);
        }
    };
    out.finish().context("writing output")?;
    Ok(code)
}

fn configure_color(choice: ColorChoice) {
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    };
    colored::control::set_override(enabled);
}

/// One thread: the network commands wait on the network, and their verdicts rely on a
/// connection's in-order processing, not on parallelism.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
