//! Bytes of an input to text, as kubectl decodes them: UTF-8 with or without a byte
//! order mark, and UTF-16 or UTF-32 (little or big endian) when a byte order mark says
//! so. Without such a mark, a NUL byte means a binary file. Every failure carries the
//! line and column where it was found.

/// Why the bytes of an input are not text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("binary file (a NUL byte and no UTF-16 or UTF-32 byte order mark); not read")]
    Binary { line: u32, column: u32 },
    #[error("not {encoding} text (invalid {unit} at byte offset {offset}); not read")]
    Invalid {
        encoding: &'static str,
        unit: &'static str,
        offset: usize,
        line: u32,
        column: u32,
    },
}

impl DecodeError {
    /// The 1-based line and column of the failure.
    pub fn position(&self) -> (u32, u32) {
        match self {
            DecodeError::Binary { line, column } | DecodeError::Invalid { line, column, .. } => {
                (*line, *column)
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Encoding {
    Utf8,
    Utf16 { big_endian: bool },
    Utf32 { big_endian: bool },
}

/// Decodes an input. The byte order mark, if any, is not part of the text.
pub fn decode(bytes: Vec<u8>) -> Result<String, DecodeError> {
    // UTF-32 LE starts like UTF-16 LE (FF FE), so it is tested first.
    let (encoding, mark) = match bytes.as_slice() {
        [0x00, 0x00, 0xFE, 0xFF, ..] => (Encoding::Utf32 { big_endian: true }, 4),
        [0xFF, 0xFE, 0x00, 0x00, ..] => (Encoding::Utf32 { big_endian: false }, 4),
        [0xFE, 0xFF, ..] => (Encoding::Utf16 { big_endian: true }, 2),
        [0xFF, 0xFE, ..] => (Encoding::Utf16 { big_endian: false }, 2),
        [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
        _ => (Encoding::Utf8, 0),
    };
    match encoding {
        Encoding::Utf8 => utf8(bytes, mark),
        Encoding::Utf16 { big_endian } => utf16(&bytes[mark..], mark, big_endian),
        Encoding::Utf32 { big_endian } => utf32(&bytes[mark..], mark, big_endian),
    }
}

fn utf8(mut bytes: Vec<u8>, mark: usize) -> Result<String, DecodeError> {
    if let Some(at) = memchr::memchr(0, &bytes[mark..]) {
        let (line, column) = position_in_utf8(&bytes[mark..], at);
        return Err(DecodeError::Binary { line, column });
    }
    bytes.drain(..mark);
    String::from_utf8(bytes).map_err(|error| {
        let at = error.utf8_error().valid_up_to();
        let (line, column) = position_in_utf8(error.as_bytes(), at);
        DecodeError::Invalid {
            encoding: "UTF-8",
            unit: "byte",
            offset: at + mark,
            line,
            column,
        }
    })
}

/// Line and column (in characters) of byte `at` of valid UTF-8 up to `at`.
fn position_in_utf8(bytes: &[u8], at: usize) -> (u32, u32) {
    let before = &bytes[..at];
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (clamp(line), clamp(column))
}

fn clamp(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Tracks the line and column of the characters decoded so far.
#[derive(Default)]
struct Cursor {
    line: usize,
    column: usize,
}

impl Cursor {
    fn advance(&mut self, character: char) {
        if character == '\n' {
            self.line += 1;
            self.column = 0;
        } else {
            self.column += 1;
        }
    }

    fn position(&self) -> (u32, u32) {
        (clamp(self.line + 1), clamp(self.column + 1))
    }
}

fn utf16(bytes: &[u8], mark: usize, big_endian: bool) -> Result<String, DecodeError> {
    let units = bytes.chunks(2).map(|pair| match (pair, big_endian) {
        ([high, low], true) => Some(u16::from_be_bytes([*high, *low])),
        ([low, high], false) => Some(u16::from_le_bytes([*low, *high])),
        _ => None,
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut cursor = Cursor::default();
    let mut offset = mark;
    let invalid = |cursor: &Cursor, offset: usize| {
        let (line, column) = cursor.position();
        DecodeError::Invalid {
            encoding: "UTF-16",
            unit: "code unit",
            offset,
            line,
            column,
        }
    };
    let mut pending: Option<u16> = None;
    for unit in units {
        let Some(unit) = unit else {
            return Err(invalid(&cursor, offset));
        };
        let decoded = match (pending.take(), unit) {
            (None, 0xD800..=0xDBFF) => {
                pending = Some(unit);
                offset += 2;
                continue;
            }
            (None, 0xDC00..=0xDFFF) => None,
            (None, _) => char::from_u32(u32::from(unit)),
            (Some(high), 0xDC00..=0xDFFF) => char::from_u32(
                0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00),
            ),
            (Some(_), _) => {
                return Err(invalid(&cursor, offset - 2));
            }
        };
        let Some(character) = decoded else {
            return Err(invalid(&cursor, offset));
        };
        text.push(character);
        cursor.advance(character);
        offset += 2;
    }
    if pending.is_some() {
        return Err(invalid(&cursor, offset - 2));
    }
    Ok(text)
}

fn utf32(bytes: &[u8], mark: usize, big_endian: bool) -> Result<String, DecodeError> {
    let mut text = String::with_capacity(bytes.len() / 4);
    let mut cursor = Cursor::default();
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let value = match (<[u8; 4]>::try_from(chunk), big_endian) {
            (Ok(four), true) => Some(u32::from_be_bytes(four)),
            (Ok(four), false) => Some(u32::from_le_bytes(four)),
            (Err(_), _) => None,
        };
        let Some(character) = value.and_then(char::from_u32) else {
            let (line, column) = cursor.position();
            return Err(DecodeError::Invalid {
                encoding: "UTF-32",
                unit: "code point",
                offset: mark + index * 4,
                line,
                column,
            });
        };
        text.push(character);
        cursor.advance(character);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "kind: ConfigMap\ndata:\n  NATS_URL: \"nats://é:4222\" # 𝄞\n";

    fn with_mark(mark: &[u8], body: Vec<u8>) -> Vec<u8> {
        let mut bytes = mark.to_vec();
        bytes.extend(body);
        bytes
    }

    #[test]
    fn every_byte_order_mark_is_decoded() {
        let utf16le: Vec<u8> = TEXT.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = TEXT.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf32le: Vec<u8> = TEXT
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect();
        let utf32be: Vec<u8> = TEXT
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        for (name, bytes) in [
            ("plain UTF-8", TEXT.as_bytes().to_vec()),
            ("UTF-8 BOM", with_mark(&[0xEF, 0xBB, 0xBF], TEXT.into())),
            ("UTF-16 LE", with_mark(&[0xFF, 0xFE], utf16le)),
            ("UTF-16 BE", with_mark(&[0xFE, 0xFF], utf16be)),
            ("UTF-32 LE", with_mark(&[0xFF, 0xFE, 0, 0], utf32le)),
            ("UTF-32 BE", with_mark(&[0, 0, 0xFE, 0xFF], utf32be)),
        ] {
            assert_eq!(decode(bytes).as_deref(), Ok(TEXT), "{name}");
        }
    }

    #[test]
    fn nul_without_a_mark_is_binary_with_its_position() {
        assert_eq!(
            decode("a: 1\nbé\0".as_bytes().to_vec()),
            Err(DecodeError::Binary { line: 2, column: 3 })
        );
        // UTF-16 without a mark is NUL bytes between ASCII letters: binary.
        let unmarked: Vec<u8> = "a: 1".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(matches!(decode(unmarked), Err(DecodeError::Binary { .. })));
    }

    #[test]
    fn invalid_sequences_are_located() {
        let error = decode(b"a: 1\nb: \xff\n".to_vec()).expect_err("not UTF-8");
        assert_eq!(error.position(), (2, 4));
        assert!(error.to_string().contains("byte offset 8"), "{error}");
        // A lone high surrogate at the start of line 2.
        let mut units: Vec<u16> = "x\n".encode_utf16().collect();
        units.push(0xD800);
        units.extend("y".encode_utf16());
        let bytes = with_mark(
            &[0xFF, 0xFE],
            units.into_iter().flat_map(u16::to_le_bytes).collect(),
        );
        assert_eq!(
            decode(bytes).expect_err("lone surrogate").position(),
            (2, 1)
        );
        // An odd number of bytes after a UTF-16 mark.
        assert!(decode(vec![0xFE, 0xFF, 0, b'a', 0]).is_err());
        // A UTF-32 value beyond U+10FFFF.
        assert!(decode(vec![0, 0, 0xFE, 0xFF, 0, 0x11, 0, 0]).is_err());
    }
}
