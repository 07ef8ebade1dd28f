//! `.env` files: `KEY=value`, `export KEY=value`, single and double quotes, comments.

use crate::diagnostic::{FileName, Location};
use crate::manifest::model::{EnvSource, EnvVar, Value};

/// A line that is not `KEY=value`, a comment or blank.
#[derive(Debug, PartialEq, Eq)]
pub struct DotenvError {
    pub line: u32,
    /// Where the statement starts (its first character that is not white space).
    pub column: u32,
    pub message: String,
}

/// Parses an env file into variables located at their values.
pub fn parse(file: &FileName, text: &str) -> (Vec<EnvVar>, Vec<DotenvError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut vars = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let content = raw.trim_end_matches('\r');
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let statement_column = char_column(content, content.len() - trimmed.len());
        let statement = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let Some((key, rest)) = statement.split_once('=') else {
            errors.push(DotenvError {
                line,
                column: statement_column,
                message: "expected KEY=value".to_string(),
            });
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            errors.push(DotenvError {
                line,
                column: statement_column,
                message: format!("`{key}` is not a variable name"),
            });
            continue;
        }
        let rest = rest.trim_start();
        let value_start = content.len() - rest.len();
        let column = char_column(content, value_start);
        let (value, width) = unquote(rest);
        vars.push(EnvVar {
            name: key.into(),
            name_location: Location::new(
                file,
                line,
                char_column(content, content.len() - trimmed.len()),
            ),
            name_width: u32::try_from(key.chars().count()).unwrap_or(1),
            source: EnvSource::Value(Value {
                text: value.into(),
                location: Location::new(file, line, column),
                width,
                style: None,
                not_scalar: false,
            }),
        });
    }
    (vars, errors)
}

fn char_column(line: &str, byte: usize) -> u32 {
    u32::try_from(line[..byte].chars().count() + 1).unwrap_or(u32::MAX)
}

fn unquote(rest: &str) -> (String, u32) {
    let width = |s: &str| u32::try_from(s.chars().count().max(1)).unwrap_or(1);
    let mut chars = rest.chars();
    match chars.next() {
        Some(quote @ ('"' | '\'')) => {
            let body = &rest[1..];
            let mut out = String::new();
            let mut escaped = false;
            for (at, c) in body.char_indices() {
                if escaped {
                    out.push(match c {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                    escaped = false;
                } else if c == '\\' && quote == '"' {
                    escaped = true;
                } else if c == quote {
                    return (out, width(&rest[..at + 2]));
                } else {
                    out.push(c);
                }
            }
            (out, width(rest))
        }
        _ => {
            let value = match rest.find(" #") {
                Some(at) => &rest[..at],
                None => rest,
            }
            .trim_end();
            (value.to_string(), width(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(String, String, u32)> {
        let file = crate::diagnostic::FileName::from(".env");
        parse(&file, text)
            .0
            .into_iter()
            .map(|var| match var.source {
                EnvSource::Value(value) => {
                    (var.name.into(), value.text.into(), value.location.column)
                }
                _ => unreachable!("env files hold values"),
            })
            .collect()
    }

    #[test]
    fn reads_quotes_exports_and_comments() {
        let parsed = values(
            "# comment\nexport NATS_URL=\"nats://a:4222\"\nNATS_ENABLED=true # on\r\nP='x y'\n",
        );
        assert_eq!(
            parsed,
            [
                ("NATS_URL".into(), "nats://a:4222".into(), 17),
                ("NATS_ENABLED".into(), "true".into(), 14),
                ("P".into(), "x y".into(), 3),
            ]
        );
    }

    #[test]
    fn reports_lines_that_are_not_assignments() {
        let file = crate::diagnostic::FileName::from(".env");
        let (_, errors) = parse(&file, "OK=1\n  just words\n");
        assert_eq!((errors[0].line, errors[0].column), (2, 3));
    }
}
