//! Texts that come from a server (an `-ERR` line, the first bytes of something that is
//! not NATS) as they may reach any output: capped, so that a hostile or broken peer
//! cannot flood a terminal or a report with one line.

/// The most characters of a server's text that are kept.
pub const MAX_SERVER_TEXT: usize = 512;

/// `text` cut to `limit` characters, with `… (N more bytes)` when something was cut.
pub fn cap(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_string(),
        Some((at, _)) => format!("{}… ({} more bytes)", &text[..at], text.len() - at),
    }
}

/// Bytes from a server as text: invalid UTF-8 replaced, capped at [`MAX_SERVER_TEXT`]
/// characters. Only what is kept is decoded, however long the input.
pub fn from_server(bytes: &[u8]) -> String {
    let mut text = String::new();
    let mut characters = 0;
    let mut consumed = 0;
    for chunk in bytes.utf8_chunks() {
        for character in chunk.valid().chars() {
            if characters == MAX_SERVER_TEXT {
                return format!("{text}… ({} more bytes)", bytes.len() - consumed);
            }
            text.push(character);
            characters += 1;
            consumed += character.len_utf8();
        }
        if !chunk.invalid().is_empty() {
            if characters == MAX_SERVER_TEXT {
                return format!("{text}… ({} more bytes)", bytes.len() - consumed);
            }
            text.push(char::REPLACEMENT_CHARACTER);
            characters += 1;
            consumed += chunk.invalid().len();
        }
    }
    text
}

/// Printable ASCII only (everything else becomes `.`), at most `limit` bytes: for the
/// first bytes of a peer that is not a NATS server, which may be binary.
pub fn printable_preview(bytes: &[u8], limit: usize) -> String {
    bytes
        .iter()
        .take(limit)
        .map(|&byte| {
            if byte.is_ascii_graphic() || byte == b' ' {
                char::from(byte)
            } else {
                '.'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_stay_whole() {
        assert_eq!(
            cap("Authorization Violation", 512),
            "Authorization Violation"
        );
        assert_eq!(from_server(b"Slow Consumer"), "Slow Consumer");
    }

    #[test]
    fn long_texts_say_how_much_was_cut() {
        let long = "x".repeat(600);
        assert_eq!(
            cap(&long, 512),
            format!("{}… (88 more bytes)", "x".repeat(512))
        );
        let huge = vec![b'y'; 50 * 1024 * 1024];
        let text = from_server(&huge);
        assert!(text.len() < 600, "{}", text.len());
        assert!(
            text.ends_with(&format!("… ({} more bytes)", huge.len() - 512)),
            "{}",
            &text[500..]
        );
    }

    #[test]
    fn multibyte_characters_are_not_split() {
        let text = "é".repeat(600);
        let capped = cap(&text, 512);
        assert!(capped.starts_with(&"é".repeat(512)));
        assert!(capped.ends_with("… (176 more bytes)"), "{capped}");
    }

    #[test]
    fn previews_are_printable() {
        assert_eq!(printable_preview(b"\x16\x03\x01ab\r\n", 60), "...ab..");
        assert_eq!(printable_preview(b"abcdef", 3), "abc");
    }
}
