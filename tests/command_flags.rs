//! What a first run meets at the command line: each command lists the flags that mean
//! something to it (`--color`, `-q`) and refuses the others, `lint --help` speaks of
//! lint, and an error is printed once. The binary is run as a user runs it.
mod support;

use std::process::{Command, Output, Stdio};

fn run(args: &[&str]) -> Output {
    Command::new(support::binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .expect("run nats-doctor")
}

fn help(command: &str) -> String {
    let output = run(&[command, "--help"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn each_command_lists_the_display_flags_it_uses() {
    for (command, color, quiet) in [
        ("lint", true, true),
        ("check", true, true),
        ("test-messaging", true, true),
        ("watch", true, true),
        ("rules", true, false),
        ("explain", false, false),
        ("man", false, false),
        ("completions", false, false),
    ] {
        let text = help(command);
        assert_eq!(text.contains("--color <WHEN>"), color, "{command}:\n{text}");
        assert_eq!(text.contains("-q, --quiet"), quiet, "{command}:\n{text}");
    }
    let top = String::from_utf8(run(&["--help"]).stdout).expect("utf-8");
    assert!(
        !top.contains("--quiet") && !top.contains("--color"),
        "{top}"
    );
}

#[test]
fn quiet_says_what_it_leaves_out_for_each_command() {
    assert!(help("lint").contains("Findings only: no summary line"));
    assert!(help("check").contains("only the steps that failed or warned"));
    assert!(help("test-messaging").contains("only the cases that failed"));
    assert!(help("watch").contains("Only the invalid messages"));
}

#[test]
fn lint_help_speaks_of_lint_only() {
    let text = help("lint");
    assert!(!text.contains("check"), "{text}");
    assert!(text.contains("1  findings at or above --fail-on"), "{text}");
}

#[test]
fn flags_before_the_command_name_still_work_where_they_mean_something() {
    let before = run(&["--color", "never", "-q", "lint", "fixtures/examples/"]);
    let after = run(&["lint", "--color", "never", "-q", "fixtures/examples/"]);
    assert_eq!(before.status.code(), Some(1), "{before:?}");
    assert_eq!(before.stdout, after.stdout);
    assert!(String::from_utf8_lossy(&before.stdout).contains("error[ND101]"));
    // Colour on: the flag after the name wins over the one before it.
    let coloured = run(&[
        "--color",
        "never",
        "lint",
        "--color",
        "always",
        "fixtures/examples/",
    ]);
    assert!(coloured.stdout.contains(&0x1b), "{coloured:?}");
    let rules = run(&["--color", "always", "rules"]);
    assert_eq!(rules.status.code(), Some(0), "{rules:?}");
    assert!(rules.stdout.contains(&0x1b));
}

#[test]
fn flags_that_mean_nothing_to_a_command_are_a_usage_error() {
    for (args, flag) in [
        (&["-q", "man"][..], "--quiet"),
        (&["--color", "never", "explain", "ND101"][..], "--color"),
        (&["--quiet", "completions", "bash"][..], "--quiet"),
        (&["-q", "rules"][..], "--quiet"),
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("`{flag}` means nothing to `nats-doctor")),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty());
    }
    for args in [
        &["man", "-q"][..],
        &["explain", "ND101", "--color", "never"][..],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
}

#[test]
fn an_unreadable_env_file_is_reported_once() {
    let dir = tempfile::tempdir().expect("a directory");
    let missing = dir.path().join("missing.env");
    let missing = missing.to_str().expect("path");
    let directory = dir.path().to_str().expect("path");
    for command in ["check", "test-messaging", "watch"] {
        for (path, why) in [
            (missing, "no such file or directory"),
            (directory, "a directory, not a file"),
        ] {
            let output = run(&[command, "--env-file", path]);
            assert_eq!(output.status.code(), Some(2), "{command}: {output:?}");
            assert!(output.stdout.is_empty(), "{command}: {output:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                stderr,
                format!("nats-doctor: cannot read --env-file {path}: {why}\n"),
                "{command}"
            );
        }
    }
    // nagios reads the first line of standard output: the same words, once.
    let output = run(&["check", "--format", "nagios", "--env-file", missing]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "UNKNOWN nats-doctor cannot read --env-file {missing}: no such file or directory\n"
        )
    );
}

#[test]
fn an_error_that_quotes_its_cause_is_not_followed_by_it_again() {
    let dir = tempfile::tempdir().expect("a directory");
    let missing = dir.path().join("ca.pem");
    let missing = missing.to_str().expect("path");
    let port = support::free_port().to_string();
    let url = format!("nats://127.0.0.1:{port}");
    let output = run(&["test-messaging", "--url", &url, "--tls-ca", missing]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--tls-ca {missing}")), "{stderr}");
}
