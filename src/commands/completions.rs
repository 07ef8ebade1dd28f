//! `nats-doctor completions SHELL`.

use super::{Stdout, EXIT_OK};
use crate::cli::{Cli, CompletionsArgs, Shell};
use crate::report;
use anyhow::Context as _;
use clap::CommandFactory;

pub(super) fn run(args: &CompletionsArgs, out: &mut Stdout) -> anyhow::Result<u8> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Zsh => clap_complete::Shell::Zsh,
    };
    let written = report::completions::write(out, Cli::command(), shell);
    out.done(written).context("writing the completion script")?;
    Ok(EXIT_OK)
}
