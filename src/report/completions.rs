//! `nats-doctor completions <shell>`: the completion script clap_complete generates from
//! the command-line definition, so it cannot drift from the flags.

use crate::cli::{Cli, Shell};
use clap::CommandFactory;
use std::io::{self, Write};

pub fn write(out: &mut dyn Write, shell: Shell) -> io::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Zsh => clap_complete::Shell::Zsh,
    };
    // clap_complete panics when a write fails; into memory it cannot, and a closed pipe
    // is then an ordinary error.
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut command, name, &mut script);
    out.write_all(&script)
}
