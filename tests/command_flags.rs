//! What a first run meets at the command line: each command lists the flags that mean
//! something to it (`--color`, `-q`) and refuses the others, `lint --help` speaks of
//! lint, and an error is printed once. The binary is run as a user runs it.
mod support;

use support::Run;

fn run(args: &[&str]) -> Run {
    support::nats_doctor(args).run()
}

/// A run whose output may hold nats-doctor's own colours.
fn run_coloured(args: &[&str]) -> Run {
    support::nats_doctor(args).colours().run()
}

fn help(command: &str) -> String {
    let output = run(&[command, "--help"]);
    assert_eq!(output.code, 0, "{output:?}");
    output.stdout
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
    let top = run(&["--help"]).stdout;
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
    assert_eq!(before.code, 1, "{before:?}");
    assert_eq!(before.stdout, after.stdout);
    assert!(before.stdout.contains("error[ND101]"));
    // Colour on: the flag after the name wins over the one before it.
    let coloured = run_coloured(&[
        "--color",
        "never",
        "lint",
        "--color",
        "always",
        "fixtures/examples/",
    ]);
    assert!(coloured.stdout.contains('\x1b'), "{coloured:?}");
    let rules = run_coloured(&["--color", "always", "rules"]);
    assert_eq!(rules.code, 0, "{rules:?}");
    assert!(rules.stdout.contains('\x1b'));
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
        assert_eq!(output.code, 2, "{args:?}: {output:?}");
        let stderr = output.stderr.clone();
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
        assert_eq!(output.code, 2, "{args:?}: {output:?}");
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
            assert_eq!(output.code, 2, "{command}: {output:?}");
            assert!(output.stdout.is_empty(), "{command}: {output:?}");
            let stderr = output.stderr.clone();
            assert_eq!(
                stderr,
                format!("nats-doctor: cannot read --env-file {path}: {why}\n"),
                "{command}"
            );
        }
    }
    // nagios reads the first line of standard output: the same words, once.
    let output = run(&["check", "--format", "nagios", "--env-file", missing]);
    assert_eq!(output.code, 3, "{output:?}");
    assert_eq!(
        output.stdout.clone(),
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
    // A port that refuses connections, held for the whole test.
    let (port, _held) = support::listener::closed_port();
    let url = format!("nats://127.0.0.1:{port}");
    let output = run(&["test-messaging", "--url", &url, "--tls-ca", missing]);
    assert_eq!(output.code, 2, "{output:?}");
    let stderr = output.stderr.clone();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--tls-ca {missing}")), "{stderr}");
}
