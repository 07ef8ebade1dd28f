//! The command line as case files, run by trycmd: `tests/cmd/*.trycmd` are console
//! sessions (`$ nats-doctor ARGS`, then `? CODE` and what the run printed on both
//! streams) for the exit codes, the `--help` of every command, usage errors, `explain`
//! and `rules`. After a deliberate change of the command line,
//! `TRYCMD=overwrite cargo test --test cli_cases` rewrites them; review the diff.
//!
//! The runs get what every run of the binary gets (tests/support/run.rs): the binary is
//! `NATS_DOCTOR_BIN` when it is set, the environment holds only PATH, HOME and TMPDIR
//! (and what a case sets), and no known secret or raw control character may be in what
//! they print (the case files hold exactly that).

mod support;

use std::time::Duration;

const CASES: &str = "tests/cmd";

#[test]
fn command_line_cases() {
    let binary = support::binary();
    // trycmd starts each case with this process's environment: it is cleared first.
    // (This file has one test, so no other thread of it reads the environment.)
    for (name, _) in std::env::vars_os() {
        let keep = support::run::KEPT_ENVIRONMENT
            .iter()
            .chain(&["TRYCMD"])
            .any(|kept| name == *kept);
        if !keep {
            std::env::remove_var(&name);
        }
    }
    let mut files = 0;
    for entry in std::fs::read_dir(support::root().join(CASES)).expect("tests/cmd") {
        let path = entry.expect("a case file").path();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("trycmd"),
            "{} is not a case file: tests/cmd holds only *.trycmd",
            path.display()
        );
        let text = std::fs::read(&path).expect("read a case file");
        let shown = String::from_utf8_lossy(&text);
        support::run::assert_terminal_safe(&path.display().to_string(), &text, false);
        for secret in support::run::KNOWN_SECRETS {
            assert!(!shown.contains(secret), "{} shows a secret", path.display());
        }
        files += 1;
    }
    assert!(files > 0, "no case files in {CASES}");
    trycmd::TestCases::new()
        .register_bin("nats-doctor", binary)
        .timeout(Duration::from_secs(120))
        .case(format!("{CASES}/*.trycmd"));
}
