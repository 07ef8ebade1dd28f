//! Errors of the command-line parser, made safe before they are printed. clap repeats
//! argument values in its errors (`unexpected argument 'nats://u:pw@host' found`, an
//! invalid value, a tip with the value in it): every such value has the userinfo of its
//! URLs masked, the values of secret flags (`--password`, `--token`, any flag whose
//! name `crate::secret` calls secret) replaced by `***`, and its control characters
//! escaped. clap's own styling is kept.

use crate::natsurl;
use crate::report::escape;
use crate::secret;
use clap::error::{ContextKind, ContextValue};
use std::ffi::OsString;

/// What is known about the arguments that may be echoed.
struct Arguments {
    /// Values given to secret flags.
    secrets: Vec<String>,
    /// Every argument as written and as it may be shown, longest first.
    replacements: Vec<(String, String)>,
}

impl Arguments {
    fn new(command: &clap::Command, arguments: &[OsString]) -> Arguments {
        let mut secret_flags: Vec<String> = Vec::new();
        collect_secret_flags(command, &mut secret_flags);
        let texts: Vec<String> = arguments
            .iter()
            .map(|argument| argument.to_string_lossy().into_owned())
            .collect();
        let mut secrets = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            for flag in &secret_flags {
                if text == flag {
                    if let Some(value) = texts.get(index + 1) {
                        secrets.push(value.clone());
                    }
                } else if let Some(value) = text
                    .strip_prefix(flag.as_str())
                    .and_then(|rest| rest.strip_prefix('='))
                {
                    secrets.push(value.to_string());
                }
            }
        }
        secrets.retain(|value| !value.is_empty());
        let mut replacements: Vec<(String, String)> = texts
            .iter()
            .filter(|text| !text.is_empty())
            .map(|text| (text.clone(), natsurl::mask_credentials(text)))
            .filter(|(text, masked)| text != masked)
            .collect();
        replacements.sort_by_key(|(text, _)| std::cmp::Reverse(text.len()));
        Arguments {
            secrets,
            replacements,
        }
    }

    /// `value` (something clap echoes) as it may be printed.
    fn clean(&self, value: &str) -> String {
        let mut text = value.to_string();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), secret::MASK);
        }
        // A password that starts with `-` is taken for short flags, and clap repeats the
        // first of them (`-p` of `-pw`): such a piece of a secret is hidden too.
        let is_delimiter = |c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '=');
        let mut rebuilt = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let end = rest.find(is_delimiter).unwrap_or(rest.len());
            let piece = &rest[..end];
            let secret_piece = piece.len() >= 2
                && piece.starts_with('-')
                && self.secrets.iter().any(|secret| secret.starts_with(piece));
            rebuilt.push_str(if secret_piece { secret::MASK } else { piece });
            let delimiter = rest[end..].chars().next().map_or(0, char::len_utf8);
            rebuilt.push_str(&rest[end..end + delimiter]);
            rest = &rest[end + delimiter..];
        }
        let mut text = rebuilt;
        for (written, masked) in &self.replacements {
            text = text.replace(written.as_str(), masked);
        }
        escape::text(&natsurl::mask_credentials_in_text(&text)).into_owned()
    }
}

/// Long flags (`--password`) whose names say they take a secret, in every subcommand.
fn collect_secret_flags(command: &clap::Command, out: &mut Vec<String>) {
    for argument in command.get_arguments() {
        if let Some(long) = argument.get_long() {
            if secret::is_secret_name(long) && !out.iter().any(|flag| flag == long) {
                out.push(format!("--{long}"));
            }
        }
    }
    for subcommand in command.get_subcommands() {
        collect_secret_flags(subcommand, out);
    }
}

/// `error` with every value it would echo made safe. `arguments` is the command line
/// it came from (program name included).
pub fn sanitize(
    mut error: clap::Error,
    command: &clap::Command,
    arguments: &[OsString],
) -> clap::Error {
    let arguments = Arguments::new(command, arguments);
    let context: Vec<(ContextKind, ContextValue)> = error
        .context()
        .map(|(kind, value)| (kind, value.clone()))
        .collect();
    for (kind, value) in context {
        let cleaned = match value {
            ContextValue::String(text) => ContextValue::String(arguments.clean(&text)),
            ContextValue::Strings(texts) => {
                ContextValue::Strings(texts.iter().map(|text| arguments.clean(text)).collect())
            }
            ContextValue::StyledStr(text) => {
                ContextValue::StyledStr(arguments.clean(&text.to_string()).into())
            }
            ContextValue::StyledStrs(texts) => ContextValue::StyledStrs(
                texts
                    .iter()
                    .map(|text| arguments.clean(&text.to_string()).into())
                    .collect(),
            ),
            other => other,
        };
        error.insert(kind, cleaned);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn rendered(arguments: &[&str]) -> String {
        let arguments: Vec<OsString> = arguments.iter().map(OsString::from).collect();
        let command = crate::cli::Cli::command();
        let error = <crate::cli::Cli as clap::Parser>::try_parse_from(&arguments)
            .expect_err("a usage error");
        sanitize(error, &command, &arguments).render().to_string()
    }

    #[test]
    fn echoed_values_are_masked_and_escaped() {
        let text = rendered(&["nats-doctor", "lint", "--fail-on", "\u{1b}]0;x\u{7}"]);
        assert!(text.contains("'\\x1b]0;x\\x07'"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        let text = rendered(&["nats-doctor", "check", "--password", "-pw"]);
        assert!(!text.contains("-p'"), "{text}");
        let text = rendered(&[
            "nats-doctor",
            "check",
            "--nameserver",
            "u:Hunter2#x@1.2.3.4",
        ]);
        assert!(!text.contains("Hunter2"), "{text}");
        let text = rendered(&["nats-doctor", "check", "nats://a", "nats://u:Hunter2@h"]);
        assert!(text.contains("'nats://u:***@h'"), "{text}");
        let text = rendered(&["nats-doctor", "check", "--url", "nats://a", "u:Hunter2,x@h"]);
        assert!(!text.contains("Hunter2"), "{text}");
        let text = rendered(&[
            "nats-doctor",
            "check",
            "--token=s3cr3t",
            "--token",
            "s3cr3t",
        ]);
        assert!(!text.contains("s3cr3t"), "{text}");
    }
}
