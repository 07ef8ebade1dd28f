//! Which variables hold secrets by their name, and how their values are kept out of
//! output. URL credentials are found by `natsurl`; a Secret's data is hidden because of
//! where it is stored; this covers the rest: `NATS_PASSWORD: 12345` in a ConfigMap, a
//! token in a compose file, the path in `NATS_CREDS`.

/// Words that make a variable's value a secret, matched anywhere in its name without
/// regard to case: PASSWORD, PASSWD and PASSPHRASE (PASS), PWD, TOKEN, SECRET, KEY
/// (API_KEY, NKEY, PRIVATE_KEY), CREDS and CREDENTIALS (CRED), JWT. A name that merely
/// contains one (`KEYCLOAK_URL`) is hidden too: hiding a harmless value costs little,
/// printing a secret cannot be undone. Words that also name ordinary settings (SEED as
/// in seed servers, AUTH as in an auth service's URL) are left out.
pub const SECRET_NAME_WORDS: &[&str] = &["PASS", "PWD", "TOKEN", "SECRET", "KEY", "CRED", "JWT"];

/// What is shown instead of a secret value.
pub const MASK: &str = "***";

/// Whether a variable (or ConfigMap key) named `name` holds a secret. Asked for every
/// NATS setting of every container, so it neither allocates nor searches once per word.
pub fn is_secret_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (0..bytes.len()).any(|at| {
        // Every word starts with one of these letters; most positions stop here.
        matches!(
            bytes[at].to_ascii_uppercase(),
            b'P' | b'T' | b'S' | b'K' | b'C' | b'J'
        ) && SECRET_NAME_WORDS.iter().any(|word| {
            bytes
                .get(at..at + word.len())
                .is_some_and(|piece| piece.eq_ignore_ascii_case(word.as_bytes()))
        })
    })
}

/// Free text (one source line) with the value of every secret-named assignment replaced
/// by [`MASK`]: `NATS_PASSWORD=12345`, `NATS_PASSWORD: 12345`, `"nats_token": "x"`,
/// `export NATS_TOKEN='x'`, and the value of a flow entry `{name: NATS_PASSWORD, value:
/// x}`. The value ends at the end of the line, or at its closing quote, or at `,`, `}` or
/// `]` when it is unquoted inside brackets.
pub fn mask_assignments_in_text(line: &str) -> String {
    let spans = assignment_values(line);
    if spans.is_empty() {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    for (start, end) in spans {
        out.push_str(&line[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&line[copied..]);
    out
}

/// The byte ranges of the values [`mask_assignments_in_text`] replaces, in order.
pub fn assignment_values(line: &str) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let bytes = line.as_bytes();
    let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let in_brackets = line.contains(['{', '[']);
    let mut at = 0;
    let mut secret_name_seen = false;
    while at < bytes.len() {
        if !is_name_byte(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && is_name_byte(bytes[at]) {
            at += 1;
        }
        let name = &line[start..at];
        // A quoted key: `"NATS_TOKEN": "x"`.
        let mut after = at;
        if after < bytes.len() && matches!(bytes[after], b'"' | b'\'') {
            after += 1;
        }
        let separator = match bytes.get(after) {
            Some(b'=') => Some(after + 1),
            Some(b':')
                if bytes
                    .get(after + 1)
                    .is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'')) =>
            {
                Some(after + 1)
            }
            _ => None,
        };
        let Some(value_from) = separator else {
            continue;
        };
        let secret_name = is_secret_name(name) && !is_reference_field(name);
        // `name: NATS_PASSWORD` names the variable whose `value:` follows on the line.
        let names_secret = name == "name" && {
            let value = line[value_from..].trim_start();
            let end = value.find([',', '}', ' ']).unwrap_or(value.len());
            is_secret_name(value[..end].trim_matches(['"', '\'']))
        };
        if name == "name" {
            secret_name_seen = names_secret;
            at = value_from;
            continue;
        }
        let named_value = secret_name_seen && name == "value";
        if !(secret_name || named_value) {
            at = value_from;
            continue;
        }
        if named_value {
            secret_name_seen = false;
        }
        let (value_start, value_end) = value_extent(line, value_from, in_brackets);
        if value_end > value_start {
            spans.push((value_start, value_end));
        }
        at = value_end.max(value_from);
    }
    spans
}

/// Fields of references that name a key or an object rather than hold a value
/// (`secretKeyRef: {name: creds, key: password}`).
fn is_reference_field(name: &str) -> bool {
    matches!(
        name,
        "key" | "secretKeyRef" | "secretRef" | "configMapKeyRef" | "keyRef"
    )
}

/// Where the value after an assignment starts and ends on the line.
fn value_extent(line: &str, from: usize, in_brackets: bool) -> (usize, usize) {
    let rest = &line[from..];
    let start = from + (rest.len() - rest.trim_start().len());
    let value = &line[start..];
    match value.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            // To the closing quote (a backslash escapes one in double quotes), or the
            // end of the line for a value that goes on.
            let mut escaped = false;
            for (offset, character) in value.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if character == '\\' && quote == '"' {
                    escaped = true;
                } else if character == quote {
                    return (start, start + offset + 1);
                }
            }
            (start, line.len())
        }
        Some('{' | '[') | None => (start, start),
        Some(_) => {
            let end = if in_brackets {
                value.find([',', '}', ']']).unwrap_or(value.len())
            } else {
                value.len()
            };
            let trimmed = value[..end].trim_end();
            (start, start + trimmed.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        // The first-letter filter lets every word through.
        for word in SECRET_NAME_WORDS {
            assert!(is_secret_name(word) && is_secret_name(&word.to_lowercase()));
        }
        for name in [
            "NATS_PASSWORD",
            "nats_token",
            "DB_PASSWD",
            "API_KEY",
            "NATS_NKEY",
            "NATS_CREDS",
            "CLIENT_CREDENTIALS",
            "JWT",
            "appSecret",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "NATS_URL",
            "NATS_ENABLED",
            "NATS_SUBJECT_PREFIX",
            "NATS_USER",
            "SEED_NATS_URL",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn assignments_are_masked() {
        for (line, masked) in [
            ("NATS_PASSWORD=12345", "NATS_PASSWORD=***"),
            ("export NATS_TOKEN='a b'  # x", "export NATS_TOKEN=***  # x"),
            ("  NATS_PASSWORD: 12345", "  NATS_PASSWORD: ***"),
            ("  \"nats_token\": \"x\\\"y\",", "  \"nats_token\": ***,"),
            ("  - NATS_PASSWORD=hunter2", "  - NATS_PASSWORD=***"),
            (
                "- {name: NATS_PASSWORD, value: 12345}",
                "- {name: NATS_PASSWORD, value: ***}",
            ),
            (
                "- {name: NATS_PASSWORD, value: \"a,b\"}",
                "- {name: NATS_PASSWORD, value: ***}",
            ),
            ("  key: password", "  key: password"),
            (
                r#"{"name":"NATS_TOKEN","value":"t0k"},{"name":"NATS_URL","value":"nats://h"}"#,
                r#"{"name":"NATS_TOKEN","value":***},{"name":"NATS_URL","value":"nats://h"}"#,
            ),
            ("  NATS_URL: nats://h:4222", "  NATS_URL: nats://h:4222"),
            ("  NATS_PASSWORD:", "  NATS_PASSWORD:"),
        ] {
            assert_eq!(mask_assignments_in_text(line), masked, "{line}");
        }
    }
}
