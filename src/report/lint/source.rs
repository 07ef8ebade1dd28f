//! Source lines for reports, read again on demand (the linter keeps no documents), with
//! every secret masked before a line is shown.
//!
//! The value a finding points at is masked over its own extent, which may run over
//! several lines (a quoted scalar, a block scalar, a plain scalar continued on more
//! indented lines): its URL userinfo is found as in a configured value
//! (`natsurl::find_userinfo`), so a password whose `@` is on the next line, or that a
//! scheme-less value starts with, is still masked; a value under a secret-named
//! variable is masked whole. The rest of the line, and every line shown without a
//! value (a related place), is masked as free text: URL userinfo after `scheme://`, and
//! the value of every secret-named assignment (`crate::secret`).

use crate::manifest::{ENVIRONMENT_NAME, STDIN_NAME};
use crate::natsurl;
use crate::secret;
use std::collections::HashMap;
use std::ops::Range;

/// Longest extent of one value that is scanned for its end (a quoted scalar that is
/// never closed, say).
const MAX_EXTENT: usize = 64 * 1024;

/// The value a shown line is about.
#[derive(Clone, Copy, Debug)]
pub struct Focus<'f> {
    /// 1-based column (in characters) where the value starts on the line.
    pub column: u32,
    /// The variable or key the value is written under, when the finding names one.
    pub variable: Option<&'f str>,
}

/// One input's text and where its lines start.
struct Text {
    text: String,
    line_starts: Vec<usize>,
}

impl Text {
    fn new(text: &str) -> Text {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).to_string();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        Text { text, line_starts }
    }

    /// Byte range of line `index` (0-based) without its line break.
    fn line(&self, index: usize) -> Option<Range<usize>> {
        let start = *self.line_starts.get(index)?;
        if start > self.text.len() || (start == self.text.len() && index > 0) {
            return None;
        }
        let mut end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        if self.text[start..end].ends_with('\r') {
            end -= 1;
        }
        Some(start..end)
    }
}

pub struct Sources<'a> {
    stdin: Option<&'a str>,
    stdin_text: Option<Text>,
    files: HashMap<String, Option<Text>>,
}

impl<'a> Sources<'a> {
    pub fn new(stdin: Option<&'a str>) -> Self {
        Sources {
            stdin,
            stdin_text: None,
            files: HashMap::new(),
        }
    }

    /// Line `line` (1-based) of `file`, with every secret masked; `focus` is the value
    /// the line is shown for. `None` for the process environment, whose lines are not
    /// files.
    pub fn line(&mut self, file: &str, line: u32, focus: Option<Focus<'_>>) -> Option<String> {
        if file == ENVIRONMENT_NAME {
            return None;
        }
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let text = if file == STDIN_NAME {
            let stdin = self.stdin?;
            self.stdin_text.get_or_insert_with(|| Text::new(stdin))
        } else {
            self.files
                .entry(file.to_string())
                .or_insert_with(|| {
                    // Decoded as the input was (UTF-16 and UTF-32 with a byte order
                    // mark too).
                    crate::files::read(std::path::Path::new(file), crate::files::MAX_INPUT_BYTES)
                        .ok()
                        .and_then(|bytes| crate::manifest::decode::decode(bytes).ok())
                        .map(|text| Text::new(&text))
                })
                .as_ref()?
        };
        let range = text.line(index)?;
        Some(masked_line(text, range, focus))
    }
}

/// The line in `range` of `text` with its secrets replaced by `***`.
fn masked_line(text: &Text, line: Range<usize>, focus: Option<Focus<'_>>) -> String {
    let source = &text.text;
    let shown = &source[line.clone()];
    let mut secrets: Vec<Range<usize>> = Vec::new();
    let value = focus.and_then(|focus| {
        let column = usize::try_from(focus.column.max(1) - 1).ok()?;
        let start = line.start + shown.char_indices().nth(column)?.0;
        Some((focus, start..extent_end(source, &line, start)))
    });
    let mut free_parts = vec![line.clone()];
    if let Some((focus, extent)) = &value {
        free_parts = vec![line.start..extent.start, extent.end.min(line.end)..line.end];
        let written = &source[extent.clone()];
        let named = focus.variable.is_some_and(secret::is_secret_name);
        // `- NATS_PASSWORD=x` (a compose list entry) shows its name; the assignment
        // masking below hides the value.
        let assignment = focus.variable.is_some_and(|name| {
            written.starts_with(name) && written[name.len()..].starts_with('=')
        });
        if named && !assignment {
            secrets.push(extent.clone());
        } else {
            for span in natsurl::find_userinfo(written) {
                secrets.push(extent.start + span.secret..extent.start + span.end);
            }
        }
    }
    for part in free_parts.into_iter().filter(|part| !part.is_empty()) {
        for span in natsurl::find_userinfo_in_text(&source[part.clone()]) {
            secrets.push(part.start + span.secret..part.start + span.end);
        }
    }
    for (start, end) in secret::assignment_values(shown) {
        secrets.push(line.start + start..line.start + end);
    }
    render(source, line, secrets)
}

/// Where the value that starts at `start` ends: a quoted scalar at its closing quote, a
/// block or plain scalar after the lines that are more indented than its own.
fn extent_end(source: &str, line: &Range<usize>, start: usize) -> usize {
    let limit = source.len().min(start.saturating_add(MAX_EXTENT));
    let limit = (limit..=source.len())
        .find(|at| source.is_char_boundary(*at))
        .unwrap_or(source.len());
    let value = &source[start..limit];
    match value.chars().next() {
        Some(quote @ ('"' | '\'')) => match closing_quote(value, quote) {
            Some(end) => with_trailing_text(source, start + end),
            None => limit,
        },
        _ => {
            // Continuation lines: more indented than the value's own line (the key's
            // indentation), or blank.
            let indent = indentation(&source[line.clone()]);
            let mut end = line.end;
            let mut next = source[line.end..].find('\n').map(|at| line.end + at + 1);
            while let Some(from) = next.filter(|from| *from < limit) {
                let to = source[from..]
                    .find('\n')
                    .map_or(source.len(), |at| from + at);
                let text = source[from..to].trim_end_matches('\r');
                if !text.trim().is_empty() {
                    if indentation(text) <= indent {
                        break;
                    }
                    end = from + text.len();
                }
                next = (to < source.len()).then_some(to + 1);
            }
            end
        }
    }
}

/// Where a quoted value that closes at `end` ends for masking: text after the closing
/// quote on its line that is neither a comment nor flow punctuation (`KEY='a'b@h` in an
/// env file, where the parser stops at the quote and a client may read on) is taken as
/// part of the value, up to a comment.
fn with_trailing_text(source: &str, end: usize) -> usize {
    let line_end = source[end..].find('\n').map_or(source.len(), |at| end + at);
    let rest = source[end..line_end].trim_end_matches('\r');
    let trimmed = rest.trim_start();
    if trimmed.is_empty() || trimmed.starts_with(['#', ',', ']', '}', ':']) {
        return end;
    }
    let tail = rest.find(" #").map_or(rest, |at| &rest[..at]).trim_end();
    end + tail.len()
}

/// The end (after the quote) of the quoted scalar that `value` starts with: `''` is an
/// escaped quote in single quotes, a backslash escapes the next character in double
/// quotes.
fn closing_quote(value: &str, quote: char) -> Option<usize> {
    let mut characters = value.char_indices().skip(1).peekable();
    while let Some((at, character)) = characters.next() {
        if quote == '"' && character == '\\' {
            characters.next();
        } else if character == quote {
            if quote == '\'' && characters.peek().is_some_and(|(_, next)| *next == '\'') {
                characters.next();
                continue;
            }
            return Some(at + 1);
        }
    }
    None
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// The part of `source` in `line`, with every range of `secrets` that overlaps it
/// replaced by `***` (overlapping ranges merged).
fn render(source: &str, line: Range<usize>, mut secrets: Vec<Range<usize>>) -> String {
    secrets.retain(|range| range.start < line.end && range.end > line.start);
    secrets.sort_by_key(|range| range.start);
    let mut out = String::with_capacity(line.len());
    let mut copied = line.start;
    for range in secrets {
        let start = range.start.max(line.start);
        let end = range.end.min(line.end);
        if end <= copied {
            continue;
        }
        if start >= copied {
            out.push_str(&source[copied..start]);
            out.push_str(secret::MASK);
        }
        copied = end;
    }
    out.push_str(&source[copied..line.end]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, line: u32, column: u32, variable: Option<&str>) -> String {
        let text = Text::new(text);
        let range = text.line(usize::try_from(line - 1).unwrap()).unwrap();
        masked_line(&text, range, Some(Focus { column, variable }))
    }

    #[test]
    fn a_multi_line_scalar_is_masked_over_its_own_extent() {
        let text = "data:\n  MULTI: \"nats://u:First\n    Second@h1:4222\"\n";
        assert_eq!(shown(text, 2, 10, Some("MULTI")), "  MULTI: \"nats://u:***");
        let plain = "data:\n  URL: nats://u:First\n    Second@h1:4222\n  OTHER: x\n";
        assert_eq!(shown(plain, 2, 8, Some("URL")), "  URL: nats://u:***");
        let block = "data:\n  URL: |\n    nats://u:pw@h\n";
        assert_eq!(shown(block, 3, 5, None), "    nats://u:***@h");
    }

    #[test]
    fn scheme_less_and_hostile_userinfo_in_the_value() {
        assert_eq!(
            shown(
                "NATS_URL=app:pa ss#x@h:4222 # note\n",
                1,
                10,
                Some("NATS_URL")
            ),
            "NATS_URL=app:***@h:4222 # note"
        );
        assert_eq!(
            shown(
                "  NATS_URL: 'nats://u:it''s@h' # ops@example.com\n",
                1,
                13,
                None
            ),
            "  NATS_URL: 'nats://u:***@h' # ops@example.com"
        );
    }

    #[test]
    fn secret_named_values_are_masked_whole() {
        assert_eq!(
            shown("          value: 12345\n", 1, 18, Some("NATS_PASSWORD")),
            "          value: ***"
        );
        assert_eq!(
            shown("  - NATS_TOKEN=s3cr3t\n", 1, 5, Some("NATS_TOKEN")),
            "  - NATS_TOKEN=***"
        );
        assert_eq!(
            shown(
                "  NATS_PASSWORD: \"a\n    b\"\n",
                1,
                18,
                Some("NATS_PASSWORD")
            ),
            "  NATS_PASSWORD: ***"
        );
    }

    #[test]
    fn text_after_a_closing_quote_is_masked_with_the_value() {
        assert_eq!(
            shown("NATS_URL=''A@a\n", 1, 10, Some("NATS_URL")),
            "NATS_URL=***@a"
        );
        assert_eq!(
            shown(
                "NATS_URL=\"u:p\"w0rd@h # ops@example.com\n",
                1,
                10,
                Some("NATS_URL")
            ),
            "NATS_URL=\"u:***@h # ops@example.com"
        );
        assert_eq!(
            shown("  URL: [\"nats://u:p@h\", x@y]\n", 1, 9, None),
            "  URL: [\"nats://u:***@h\", x@y]"
        );
    }

    #[test]
    fn unclosed_quotes_and_line_ends() {
        let text = "a: \"nats://u:p@h\r\nb: c\r\n";
        assert_eq!(shown(text, 1, 4, None), "a: \"nats://u:***@h");
        assert_eq!(shown(text, 2, 4, None), "b: c");
        let empty = Text::new("");
        assert_eq!(empty.line(0), Some(0..0));
        assert_eq!(empty.line(1), None);
    }
}
