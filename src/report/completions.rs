//! `nats-doctor completions <shell>`: the completion script clap_complete generates from
//! the command-line definition, so it cannot drift from the flags.

use std::io::{self, Write};

pub fn write(
    out: &mut dyn Write,
    mut command: clap::Command,
    shell: clap_complete::Shell,
) -> io::Result<()> {
    let name = command.get_name().to_string();
    // clap_complete panics when a write fails; into memory it cannot, and a closed pipe
    // is then an ordinary error.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    out.write_all(&script)
}
