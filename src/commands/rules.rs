//! `nats-doctor rules`: every rule of the registry, one line each (or JSON).

use super::{Stdout, EXIT_OK};
use crate::cli::{ListFormat, RulesArgs};
use crate::report;
use anyhow::Context as _;

pub(super) fn run(args: &RulesArgs, out: &mut Stdout) -> anyhow::Result<u8> {
    let written = match args.format {
        ListFormat::Json => report::rules::write_list_json(out),
        ListFormat::Text => report::rules::write_list_text(out),
    };
    out.done(written).context("writing the rules")?;
    Ok(EXIT_OK)
}
