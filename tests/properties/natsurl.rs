//! The one URL parser and its masking (`natsurl`): no input makes them panic; for
//! generated server lists with generated passwords (any printable character, URL and
//! list delimiters, quotes, non-ASCII), no piece of a password appears in the masked
//! value, in any entry or error, in any lint finding, source line or report made for the
//! value, or in `check --format json` against a closed port; and a parsed URL written
//! out and parsed again is the same server.
//!
//! "A piece" is three characters in a row of the password that the same output does not
//! also hold when the password is replaced by a stand-in of the same shape (letters and
//! digits replaced, punctuation kept): so a password `nats` is not said to leak through
//! the scheme `nats://`, while one that is printed whole or in part is caught.

use crate::strategies::{config, double_quoted, hostile_string, printable_char};
use nats_doctor::lint::context::LintOptions;
use nats_doctor::manifest::LoadOptions;
use nats_doctor::natsurl::{
    find_userinfo, mask_credentials, mask_credentials_in_text, parse_server, parse_server_list,
    Entry,
};
use nats_doctor::report;
use nats_doctor::rules::{self, Selection};
use proptest::prelude::*;
use std::process::{Command, Stdio};

/// One entry of a generated server list.
#[derive(Clone, Debug)]
struct Server {
    scheme: Option<&'static str>,
    user: Option<String>,
    host: String,
    port: Option<u16>,
}

fn server() -> impl Strategy<Value = Server> {
    let host = prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9-]{0,8}){0,3}\\.?",
        (0u8..=255, 0u8..=255).prop_map(|(a, b)| format!("10.{a}.{b}.7")),
        Just("[::1]".to_string()),
        Just("[2001:db8::4]".to_string()),
    ];
    (
        prop::option::of(prop::sample::select(
            &["nats", "tls", "ws", "wss", "NATS", "http"][..],
        )),
        prop::option::of("[a-z][a-z0-9_]{0,6}"),
        host,
        prop::option::of(1u16..),
    )
        .prop_map(|(scheme, user, host, port)| Server {
            scheme,
            user,
            host,
            port,
        })
}

/// A password: printable characters, weighted towards delimiters and quotes. At least
/// three characters, so that it has a piece to look for.
fn password() -> impl Strategy<Value = String> {
    prop::collection::vec(printable_char(), 3..16).prop_map(String::from_iter)
}

/// A server list in which the entry at `secret_index` has `user:password@` (or
/// `password@`, a token, when it has no user).
fn list(servers: &[Server], secret_index: usize, password: &str, separator: &str) -> String {
    servers
        .iter()
        .enumerate()
        .map(|(index, server)| {
            let mut entry = String::new();
            if let Some(scheme) = server.scheme {
                entry.push_str(scheme);
                entry.push_str("://");
            }
            if index == secret_index {
                if let Some(user) = &server.user {
                    entry.push_str(user);
                    entry.push(':');
                }
                entry.push_str(password);
                entry.push('@');
            }
            entry.push_str(&server.host);
            if let Some(port) = server.port {
                entry.push_str(&format!(":{port}"));
            }
            entry
        })
        .collect::<Vec<_>>()
        .join(separator)
}

/// The password of a server: a token (no user) cannot hold a `:`, which would make it a
/// user and a password.
fn secret_of(server: &Server, password: &str) -> String {
    match server.user {
        Some(_) => password.to_string(),
        None => password.replace(':', "="),
    }
}

/// Whether a value with this password can be read as a list in which the password is
/// not one: it holds a `scheme://` after a separator (`,` `;` white space, a quote, `=`,
/// a bracket …) and what comes before that is a complete entry: `nats://u:1,nats://x@h`
/// is a server `u:1` and a token `x`, `nats://t,nats://x@h` a server `t`, whatever was
/// meant. No reader can tell, and those are left out.
fn reads_as_a_list(password: &str, token: bool) -> bool {
    let bytes = password.as_bytes();
    let separator = |b: u8| b.is_ascii_whitespace() || b",;\"'`=([{<|>".contains(&b);
    password.match_indices("://").any(|(at, _)| {
        let mut start = at;
        while start > 0
            && (bytes[start - 1].is_ascii_alphanumeric() || b"+-.".contains(&bytes[start - 1]))
        {
            start -= 1;
        }
        if start == 0
            || !separator(bytes[start - 1])
            || !bytes[start..at]
                .first()
                .is_some_and(u8::is_ascii_alphabetic)
        {
            return false;
        }
        let before =
            password[..start].trim_end_matches(|c: char| c.is_ascii() && separator(c as u8));
        let entry = if token {
            before.to_string()
        } else {
            format!("u:{before}")
        };
        // As the masking decides whether an entry ends there.
        let tail = entry
            .rfind(']')
            .map_or(entry.as_str(), |at| &entry[at + 1..]);
        entry.contains('@')
            || tail.rfind(':').is_none_or(|at| {
                let port = &tail[at + 1..];
                port.bytes().all(|b| b.is_ascii_digit()) || port.starts_with('$')
            })
    })
}

/// The password with its letters and digits replaced: the same delimiters in the same
/// places, none of its pieces.
fn stand_in(password: &str) -> String {
    password
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() => 'Z',
            c if c.is_alphanumeric() => 'Ж',
            c => c,
        })
        .collect()
}

/// The pieces of `password` in `output` that `reference` (the output for the stand-in)
/// does not hold.
fn leaked(password: &str, output: &str, reference: &str) -> Vec<String> {
    let characters: Vec<char> = password.chars().collect();
    characters
        .windows(3)
        .map(String::from_iter)
        .filter(|piece| output.contains(piece.as_str()) && !reference.contains(piece.as_str()))
        .collect()
}

/// The lines of `output` that hold one of `pieces`.
fn lines_with(output: &str, pieces: &[String]) -> String {
    output
        .lines()
        .filter(|line| pieces.iter().any(|piece| line.contains(piece.as_str())))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything the parser says about a value: each entry's fields and masked form, each
/// error's message and help.
fn parsed_output(value: &str) -> String {
    let mut out = String::new();
    for entry in parse_server_list(value) {
        match entry {
            Entry::Server(server) => {
                out.push_str(&format!(
                    "{server:?} {} {}\n",
                    server.masked(),
                    server.without_credentials()
                ));
            }
            Entry::Invalid { offset, error } => {
                out.push_str(&format!("{offset} {error} {error:?} {:?}\n", error.help()));
            }
        }
    }
    out
}

/// The masked value, what the parser says, and (when every entry has a scheme, which
/// is how free text marks a URL) the value masked as free text.
fn library_output(value: &str, free_text: bool) -> String {
    let mut out = format!("{}\n{}", mask_credentials(value), parsed_output(value));
    if free_text {
        out.push_str(&mask_credentials_in_text(&format!(
            "  NATS_URL: \"{value}\" # {value}"
        )));
    }
    out
}

/// Every report `lint` writes for a ConfigMap and a Deployment that hold the value.
fn lint_output(value: &str) -> String {
    colored::control::set_override(false);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let quoted = double_quoted(value);
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: apps\ndata:\n  NATS_URL: {quoted}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: apps\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        envFrom:\n        - configMapRef:\n            name: cfg\n        env:\n        - name: NATS_SERVERS\n          value: {quoted}\n"
    );
    let path = dir.path().join("app.yaml");
    std::fs::write(&path, manifest).expect("write the manifest");
    let env_path = dir.path().join("app.env");
    // Plain when the value reads back as itself, else double-quoted.
    let plain = !value.contains(" #") && !value.starts_with(['"', '\'']) && value.trim() == value;
    let env_value = if plain {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    };
    std::fs::write(&env_path, format!("NATS_URL={env_value}\n")).expect("write the env file");
    let outcome = rules::run(
        &[path, env_path],
        false,
        &LintOptions::default(),
        &LoadOptions::default(),
        &Selection::all(),
    );
    let mut out = Vec::new();
    for error in &outcome.errors {
        report::lint::text::write_input_error(&mut out, error).expect("write");
    }
    report::lint::text::write_lint(&mut out, &outcome, false).expect("write");
    report::lint::json::write_lint(&mut out, &outcome).expect("write");
    report::lint::sarif::write_lint(&mut out, &outcome).expect("write");
    report::lint::github::write_lint(&mut out, &outcome).expect("write");
    let mut text = String::from_utf8_lossy(&out).into_owned();
    // The findings themselves, before any printer masks or escapes them.
    for finding in &outcome.findings {
        text.push_str(&format!(
            "\n{} {:?} {:?} {:?}",
            finding.message, finding.help, finding.variable, finding.runbook
        ));
    }
    // Paths differ between runs; they hold no secret.
    text.replace(&dir.path().display().to_string(), "DIR")
}

/// Standard output and error of `check --format json --url VALUE`.
fn check_output(value: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_nats-doctor"))
        .args(["check", "--format", "json", "--count", "1", "--url", value])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .expect("run nats-doctor check");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

/// `text` with every digit `0`: durations and times differ between runs.
fn without_numbers(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}

/// A loopback port that nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&[",", ",", ", ", ";", " "][..])
}

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn any_value_is_parsed_and_masked_without_panic(value in hostile_string(80)) {
        let entries = parse_server_list(&value);
        prop_assert!(!entries.is_empty());
        for entry in &entries {
            let offset = match entry {
                Entry::Server(server) => server.offset,
                Entry::Invalid { offset, .. } => *offset,
            };
            prop_assert!(offset <= value.len() && value.is_char_boundary(offset), "{entry:?}");
        }
        for span in find_userinfo(&value) {
            prop_assert!(span.start <= span.secret && span.secret <= span.end && span.end <= value.len());
        }
        let _ = mask_credentials(&value);
        let _ = mask_credentials_in_text(&value);
    }

    #[test]
    fn no_piece_of_a_password_is_in_the_masked_value_or_any_error(
        servers in prop::collection::vec(server(), 1..4),
        secret in any::<prop::sample::Index>(),
        password in password(),
        separator in separator(),
    ) {
        let secret = secret.index(servers.len());
        let password = secret_of(&servers[secret], &password);
        prop_assume!(!reads_as_a_list(&password, servers[secret].user.is_none()));
        // `app:` and a password `//x` without a scheme is `app://x`, a URL of scheme `app`.
        prop_assume!(servers[secret].scheme.is_some() || !password.starts_with("//"));
        let value = list(&servers, secret, &password, separator);
        let reference = list(&servers, secret, &stand_in(&password), separator);
        let free_text = servers.iter().all(|server| server.scheme.is_some());
        let output = library_output(&value, free_text);
        let pieces = leaked(&password, &output, &library_output(&reference, free_text));
        prop_assert!(
            pieces.is_empty(),
            "{pieces:?} of the password shown for {value:?}:\n{}",
            lines_with(&output, &pieces)
        );
    }

    /// A parsed server, written out and parsed again, is the same server.
    #[test]
    fn a_written_server_parses_back_to_itself(
        server in server(),
        password in prop::option::of("[a-zA-Z0-9%!$&*+=~-]{1,10}"),
    ) {
        let value = list(&[server], 0, password.as_deref().unwrap_or(""), ",");
        let value = match password {
            Some(_) => value,
            // No userinfo at all.
            None => value.replacen('@', "", 1),
        };
        let Ok(parsed) = parse_server(&value, 0) else {
            return Ok(());
        };
        for written in [parsed.without_credentials(), parsed.masked()] {
            let again = parse_server(&written, 0);
            prop_assert!(again.is_ok(), "{value:?} was written as {written:?}: {again:?}");
            let again = again.unwrap_or_else(|_| parsed.clone());
            prop_assert_eq!(&again.host, &parsed.host, "{}", written);
            prop_assert_eq!(again.port.number(), parsed.port.number(), "{}", written);
            prop_assert_eq!(again.scheme.effective(), parsed.scheme.effective(), "{}", written);
            prop_assert_eq!(again.without_credentials(), parsed.without_credentials());
        }
        let masked_again = parse_server(&parsed.masked(), 0).map(|server| server.masked());
        prop_assert_eq!(masked_again, Ok(parsed.masked()));
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// The real lint, on a ConfigMap, a Deployment and an env file that hold the value.
    #[test]
    fn no_piece_of_a_password_is_in_any_lint_report(
        servers in prop::collection::vec(server(), 1..3),
        secret in any::<prop::sample::Index>(),
        password in password(),
        separator in separator(),
    ) {
        let secret = secret.index(servers.len());
        let password = secret_of(&servers[secret], &password);
        prop_assume!(!reads_as_a_list(&password, servers[secret].user.is_none()));
        // `app:` and a password `//x` without a scheme is `app://x`, a URL of scheme `app`.
        prop_assume!(servers[secret].scheme.is_some() || !password.starts_with("//"));
        let value = list(&servers, secret, &password, separator);
        let reference = list(&servers, secret, &stand_in(&password), separator);
        let output = lint_output(&value);
        let pieces = leaked(&password, &output, &lint_output(&reference));
        prop_assert!(
            pieces.is_empty(),
            "{pieces:?} of the password shown for {value:?}:\n{}",
            lines_with(&output, &pieces)
        );
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// `check --format json --url VALUE` against a closed loopback port.
    #[test]
    fn no_piece_of_a_password_is_in_check_output(
        user in prop::option::of("[a-z][a-z0-9_]{0,6}"),
        password in password(),
    ) {
        let password = match user {
            Some(_) => password,
            None => password.replace(':', "="),
        };
        let port = closed_port();
        let url = |password: &str| {
            let user = user.as_deref().map(|user| format!("{user}:")).unwrap_or_default();
            format!("nats://{user}{password}@127.0.0.1:{port}")
        };
        let output = without_numbers(&check_output(&url(&password)));
        let reference = without_numbers(&check_output(&url(&stand_in(&password))));
        let pieces = leaked(&without_numbers(&password), &output, &reference);
        prop_assert!(pieces.is_empty(), "{pieces:?} of the password shown:\n{}", lines_with(&output, &pieces));
    }
}
