//! Text for a terminal: every value that comes from input or the network goes through
//! [`text`] before a text printer writes it, so that no control character reaches the
//! terminal raw. An object named `"\e]0;pwned\a\e[2J"` would otherwise retitle and clear
//! the reader's terminal; a bidirectional override would reorder the line on screen.
//! JSON (and SARIF) is written through [`write_json`]: serde_json escapes only the C0
//! controls, so DEL, the C1 controls and the bidirectional characters are escaped there
//! too (`\u007f`, `\u009b`, `\u202e`), and a report piped to a terminal is as safe as
//! the text format. Only the colours nats-doctor writes itself reach the terminal as
//! escape sequences.
//!
//! The escaped forms: `\t`, `\n`, `\r` for tab, line feed and carriage return; `\xHH`
//! for the other C0 controls and DEL (`\x1b` for ESC, `\x07` for BEL); `\u{HHHH}` for
//! the C1 controls (`\u{9b}`) and the invisible formatting characters that reorder or
//! break a line (`\u{202e}`). A backslash is written as it is.

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Whether `character` is written in its escaped form.
pub fn needs_escape(character: char) -> bool {
    matches!(
        character,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            // Arabic letter mark, left-to-right and right-to-left marks.
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            // Line and paragraph separators, which some terminals take as new lines.
            | '\u{2028}'
            | '\u{2029}'
            // Bidirectional embeddings, overrides and isolates.
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Appends the escaped form of `character` (which [`needs_escape`]).
fn push_escaped(out: &mut String, character: char) {
    match character {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", u32::from(character));
        }
        other => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(other));
        }
    }
}

/// The byte offset of the first character that [`needs_escape`]. Printable ASCII, nearly
/// all of what is printed, is passed over a byte at a time (a loop the compiler
/// vectorises); only from a control or non-ASCII byte on are characters decoded.
fn first_to_escape(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    let start = bytes.iter().position(|&b| !(0x20..0x7f).contains(&b))?;
    value[start..].find(needs_escape).map(|at| start + at)
}

/// `value` as a text printer may write it: every character that [`needs_escape`] in its
/// escaped form, everything else unchanged. Borrows when there is nothing to escape.
pub fn text(value: &str) -> Cow<'_, str> {
    let Some(first) = first_to_escape(value) else {
        return Cow::Borrowed(value);
    };
    let mut out = String::with_capacity(value.len() + 8);
    out.push_str(&value[..first]);
    for character in value[first..].chars() {
        if needs_escape(character) {
            push_escaped(&mut out, character);
        } else {
            out.push(character);
        }
    }
    Cow::Owned(out)
}

/// Like [`text`], but keeps line feeds: for a message of several lines that
/// nats-doctor put together itself (each line's values must already be escaped).
pub fn lines(value: &str) -> String {
    value
        .split('\n')
        .map(|line| text(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes `value` as JSON (indented when `pretty`), with every character that
/// [`needs_escape`] written as a `\uXXXX` escape, whichever serde_json leaves alone.
pub fn write_json<T: Serialize + ?Sized>(
    out: &mut dyn io::Write,
    value: &T,
    pretty: bool,
) -> io::Result<()> {
    let result = if pretty {
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut *out, JsonEscapes(PrettyFormatter::new()));
        value.serialize(&mut serializer)
    } else {
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut *out, JsonEscapes(CompactFormatter));
        value.serialize(&mut serializer)
    };
    result.map_err(io::Error::from)
}

/// The characters serde_json writes raw but a terminal would act on, as JSON escapes.
pub fn write_json_string_fragment<W: io::Write + ?Sized>(
    writer: &mut W,
    fragment: &str,
) -> io::Result<()> {
    let Some(first) = first_to_escape(fragment) else {
        return writer.write_all(fragment.as_bytes());
    };
    writer.write_all(&fragment.as_bytes()[..first])?;
    let mut written = first;
    for (at, character) in fragment[first..]
        .char_indices()
        .map(|(at, character)| (first + at, character))
    {
        if needs_escape(character) {
            writer.write_all(&fragment.as_bytes()[written..at])?;
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            written = at + character.len_utf8();
        }
    }
    writer.write_all(&fragment.as_bytes()[written..])
}

/// A serde_json formatter that adds [`write_json_string_fragment`] to another.
struct JsonEscapes<F>(F);

impl<F: Formatter> Formatter for JsonEscapes<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_json_string_fragment(writer, fragment)
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            text("\u{1b}]0;pwned\u{7}\u{1b}[2J"),
            "\\x1b]0;pwned\\x07\\x1b[2J"
        );
        assert_eq!(text("a\tb\r\nc\u{7f}"), "a\\tb\\r\\nc\\x7f");
        assert_eq!(text("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(
            text("user\u{202e}txt.exe\u{2066}"),
            "user\\u{202e}txt.exe\\u{2066}"
        );
        assert_eq!(text("\u{0}"), "\\x00");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for value in [
            "",
            "nats://nats-server.nats:4222",
            "päss wörd ✓ C:\\path",
            "日本",
        ] {
            assert!(matches!(text(value), Cow::Borrowed(v) if v == value));
        }
    }

    #[test]
    fn json_escapes_what_serde_json_leaves_raw() {
        let mut out = Vec::new();
        let value = serde_json::json!({"name": "a\u{1b}b\u{7f}c\u{9b}d\u{202e}e ✓"});
        write_json(&mut out, &value, false).unwrap();
        let written = String::from_utf8(out).unwrap();
        assert_eq!(written, r#"{"name":"a\u001bb\u007fc\u009bd\u202ee ✓"}"#);
        let back: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(back, value);
        let mut pretty = Vec::new();
        write_json(&mut pretty, &value, true).unwrap();
        assert_eq!(
            String::from_utf8(pretty).unwrap(),
            "{\n  \"name\": \"a\\u001bb\\u007fc\\u009bd\\u202ee ✓\"\n}"
        );
    }

    #[test]
    fn lines_keep_their_breaks_only() {
        assert_eq!(lines("a\u{1b}\nb\r"), "a\\x1b\nb\\r");
    }
}
