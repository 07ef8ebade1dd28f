//! `nats-doctor man [COMMAND]`.

use super::{Stdout, EXIT_OK};
use crate::cli::{Cli, ManArgs};
use crate::report;
use anyhow::{bail, Context as _};
use clap::CommandFactory;

pub(super) fn run(args: &ManArgs, out: &mut Stdout) -> anyhow::Result<u8> {
    let command = args.command.as_deref();
    let written = report::man::write(out, Cli::command(), command);
    match written {
        Ok(None) => bail!(
            "no command `{}` (one of: {})",
            command.unwrap_or_default(),
            report::man::commands(&Cli::command()).join(", ")
        ),
        Ok(Some(())) => Ok(EXIT_OK),
        Err(error) => {
            out.done(Err(error)).context("writing the man page")?;
            Ok(EXIT_OK)
        }
    }
}
