//! `nats-doctor completions <shell>` and `nats-doctor man [COMMAND]`: produced from the
//! clap definitions, so every command and every long flag must be in them.
mod support;

use clap::CommandFactory;
use nats_doctor::cli::Cli;
use std::process::Command;
use support::nats_doctor;

fn stdout(args: &[&str]) -> String {
    nats_doctor(args).code(0).run().stdout
}

/// (command name, its long flags), for every command.
fn commands() -> Vec<(String, Vec<String>)> {
    let mut root = Cli::command();
    root.build();
    root.get_subcommands()
        // `help` is clap's own, added by `build`.
        .filter(|command| command.get_name() != "help")
        .map(|command| {
            let flags = command
                .get_arguments()
                .filter_map(|argument| argument.get_long())
                .map(str::to_string)
                .collect();
            (command.get_name().to_string(), flags)
        })
        .collect()
}

#[test]
fn commands_are_sorted() {
    let names: Vec<String> = commands().into_iter().map(|(name, _)| name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for expected in ["check", "completions", "lint", "man"] {
        assert!(names.iter().any(|name| name == expected), "{names:?}");
    }
}

#[test]
fn completions_name_every_command_and_flag() {
    for shell in ["bash", "fish", "zsh"] {
        let script = stdout(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: {script}");
        for (command, flags) in commands() {
            assert!(script.contains(&command), "{shell}: no {command}");
            for flag in flags {
                // fish writes `-l format`, bash and zsh `--format`.
                let found =
                    script.contains(&format!("--{flag}")) || script.contains(&format!("-l {flag}"));
                assert!(found, "{shell}: no --{flag} of {command}");
            }
        }
        // The format values of check, for `--format <TAB>`.
        for value in ["nagios", "prometheus"] {
            assert!(script.contains(value), "{shell}: no {value}");
        }
    }
}

#[test]
fn bash_completion_is_valid_bash() {
    let script = stdout(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nats-doctor.bash");
    std::fs::write(&path, &script).expect("write");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run bash -n");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // Loaded into a shell, it registers a completion for the binary.
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(r#"source "$1" && complete -p nats-doctor"#)
        .arg("bash")
        .arg(&path)
        .output()
        .expect("run bash");
    let registered = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        loaded.status.success() && registered.contains("nats-doctor"),
        "{registered}{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let output = nats_doctor(["completions", "powershell-core"]).run();
    assert_eq!(output.code, 2);
}

/// roff escapes `-` as `\-`.
fn roff(text: &str) -> String {
    text.replace('-', "\\-")
}

#[test]
fn man_page_lists_every_command() {
    let page = stdout(&["man"]);
    assert!(page.contains(".TH nats-doctor 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for (command, _) in commands() {
        assert!(
            page.contains(&roff(&format!("nats-doctor-{command}(1)"))),
            "no {command}"
        );
    }
}

#[test]
fn man_page_of_each_command_has_its_flags() {
    for (command, flags) in commands() {
        let page = stdout(&["man", &command]);
        assert!(
            page.contains(&format!(".TH nats-doctor-{command} 1")),
            "{command}: {page}"
        );
        for flag in flags {
            assert!(
                page.contains(&roff(&format!("--{flag}"))),
                "{command}: no --{flag}"
            );
        }
    }
}

#[test]
fn man_page_snapshot() {
    // A small command, so that new flags elsewhere do not churn the snapshot.
    let page = stdout(&["man", "explain"]);
    insta::with_settings!({filters => vec![(r"nats-doctor \d+\.\d+\.\d+[0-9A-Za-z.+-]*", "nats-doctor [version]")]}, {
        insta::assert_snapshot!(page);
    });
}

#[test]
fn man_page_of_an_unknown_command_is_an_error() {
    let output = nats_doctor(["man", "nonsense"]).run();
    assert_eq!(output.code, 2);
    let stderr = output.stderr.as_str();
    assert!(stderr.contains("no command `nonsense`"), "{stderr}");
    assert!(output.stdout.is_empty());
}
