//! `nats-doctor explain CODE|NAME`: a rule's documentation, from its own file.

use super::{Stdout, EXIT_OK};
use crate::cli::ExplainArgs;
use crate::{report, rules};
use anyhow::{bail, Context as _};

pub(super) fn run(args: &ExplainArgs, out: &mut Stdout) -> anyhow::Result<u8> {
    let Some(rule) = rules::find(&args.rule) else {
        bail!("unknown rule `{}` (see `nats-doctor rules`)", args.rule);
    };
    let written = report::rules::write_explanation(out, rule);
    out.done(written).context("writing the explanation")?;
    Ok(EXIT_OK)
}
