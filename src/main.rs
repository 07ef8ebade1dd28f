use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = nats_doctor::cli::Cli::parse();
    match nats_doctor::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("nats-doctor: {error:#}");
            ExitCode::from(2)
        }
    }
}
