//! What the properties share: the run configuration (a fixed seed, a bounded number of
//! cases, both overridable from the environment) and generators of hostile text.

use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed};

/// The seed every property starts from, so that CI sees the same cases on every run.
/// `PROPTEST_RNG_SEED` chooses another.
const SEED: u64 = 0x6e61_7473_646f_6374;

/// `cases` cases (or `PROPTEST_CASES`), from the fixed seed (or `PROPTEST_RNG_SEED`).
pub fn config(cases: u32) -> ProptestConfig {
    config_with(environment_number("PROPTEST_CASES").unwrap_or(cases))
}

/// For a property whose every case is large (a million nodes): `cases` cases, or a
/// thousandth of `PROPTEST_CASES` when that is larger.
pub fn heavy_config(cases: u32) -> ProptestConfig {
    let asked = environment_number("PROPTEST_CASES").map_or(0, |asked| asked / 1000);
    config_with(cases.max(asked))
}

fn config_with(cases: u32) -> ProptestConfig {
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(SEED);
    ProptestConfig {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        // Shrinking stops in bounded time even when every step still fails.
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    }
}

fn environment_number(name: &str) -> Option<u32> {
    std::env::var(name).ok()?.parse().ok()
}

/// Characters that terminals act on or that reorder a line: C0 and C1 controls, DEL,
/// bidirectional controls and marks, line and paragraph separators.
pub const TERMINAL_CONTROLS: &[char] = &[
    '\u{0}', '\u{7}', '\u{8}', '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1b}', '\u{1f}', '\u{7f}',
    '\u{80}', '\u{85}', '\u{9b}', '\u{9d}', '\u{9f}', '\u{61c}', '\u{200e}', '\u{200f}',
    '\u{2028}', '\u{2029}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}',
    '\u{2067}', '\u{2068}', '\u{2069}',
];

/// Whether a character must never reach the terminal raw (the independent statement of
/// what `report::escape` escapes).
pub fn is_terminal_control(character: char) -> bool {
    let code = u32::from(character);
    code < 0x20
        || (0x7f..=0x9f).contains(&code)
        || matches!(
            code,
            0x61c | 0x200e | 0x200f | 0x2028 | 0x2029 | 0x202a..=0x202e | 0x2066..=0x2069
        )
}

/// Any character, weighted towards the ones that break parsers and terminals: YAML and
/// URL punctuation, white space and line breaks, controls, non-ASCII.
pub fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range(' ', '~'),
        3 => prop::sample::select(
            &[
                ':', '-', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '[', ']', '{',
                '}', ',', '?', '/', '\\', ';', '=', ' ', ' ', '\n', '\n', '\t', '\r', '.',
            ][..]
        ),
        2 => prop::sample::select(TERMINAL_CONTROLS),
        1 => prop::sample::select(&['é', 'ü', 'ß', '✓', '日', '€', '\u{a0}', '\u{feff}', '😀'][..]),
        1 => any::<char>(),
    ]
}

/// A string of up to `max` hostile characters.
pub fn hostile_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..=max).prop_map(String::from_iter)
}

/// A printable character (no control, no line break), weighted towards what breaks URL
/// parsing and masking.
pub fn printable_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('!', '~'),
        3 => prop::sample::select(&['#', '/', '?', ',', ';', '@', ':', ' ', '\'', '"', '%', '='][..]),
        1 => prop::sample::select(&['é', 'ü', 'ß', '✓', '日', '€', '😀', 'Ж'][..]),
    ]
}

/// The edits a mutation applies to a generated text.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Insert at a place (a fraction of the length, in thousandths) a snippet.
    Insert(u16, String),
    /// Delete up to `n` characters from a place.
    Delete(u16, u8),
    /// Repeat the line at a place.
    RepeatLine(u16),
}

pub fn edit() -> impl Strategy<Value = Edit> {
    let snippet = prop_oneof![
        hostile_string(4),
        prop::sample::select(
            &[
                "\n",
                ": ",
                "- ",
                "  ",
                "\t",
                "\r",
                "\r\n",
                "---\n",
                "...\n",
                "&a ",
                "*a",
                "!!str ",
                "[",
                "]",
                "{",
                "}",
                "'",
                "\"",
                "|\n",
                ">-\n",
                "#",
                "? ",
                "%YAML 1.1\n",
                "\u{2028}",
                "\u{85}",
                "\u{feff}",
                "{{ .Values.x }}",
                "${VAR}",
                "$(VAR)",
                "nats://u:p@h:4222",
            ][..]
        )
        .prop_map(str::to_string),
    ];
    prop_oneof![
        3 => (0..=1000u16, snippet).prop_map(|(at, text)| Edit::Insert(at, text)),
        2 => (0..=1000u16, 1..8u8).prop_map(|(at, n)| Edit::Delete(at, n)),
        1 => (0..=1000u16).prop_map(Edit::RepeatLine),
    ]
}

/// `text` with `edits` applied, in order, at character boundaries.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    let boundary = |text: &str, at: u16| {
        let mut index = text.len() * usize::from(at) / 1000;
        while !text.is_char_boundary(index) {
            index -= 1;
        }
        index
    };
    for edit in edits {
        match edit {
            Edit::Insert(at, snippet) => {
                let index = boundary(&text, *at);
                text.insert_str(index, snippet);
            }
            Edit::Delete(at, n) => {
                let index = boundary(&text, *at);
                let end = text[index..]
                    .char_indices()
                    .nth(usize::from(*n))
                    .map_or(text.len(), |(offset, _)| index + offset);
                text.replace_range(index..end, "");
            }
            Edit::RepeatLine(at) => {
                let index = boundary(&text, *at);
                let start = text[..index].rfind('\n').map_or(0, |at| at + 1);
                let end = text[index..]
                    .find('\n')
                    .map_or(text.len(), |at| index + at + 1);
                let line = text[start..end].to_string();
                text.insert_str(start, &line);
            }
        }
    }
    text
}

/// The length in characters of each line of a text, as nats-doctor numbers and shows
/// lines: split at `\n`, a `\r` before it dropped, a leading byte order mark ignored.
/// (A `\r` that ends the text counts: a place just after it is still in the text.)
pub fn shown_lines(text: &str) -> Vec<usize> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    let last = lines.pop().unwrap_or_default();
    let mut lengths: Vec<usize> = lines
        .iter()
        .map(|line| line.strip_suffix('\r').unwrap_or(line).chars().count())
        .collect();
    lengths.push(last.chars().count());
    lengths
}

/// Whether `(line, column)` (1-based, columns in characters) is a place in the lines of
/// `lengths`: on one of them, at most one past its last character.
pub fn inside(lengths: &[usize], line: u32, column: u32) -> bool {
    let Some(length) = (line as usize)
        .checked_sub(1)
        .and_then(|index| lengths.get(index))
    else {
        return false;
    };
    column >= 1 && column as usize <= length + 1
}

/// A YAML double-quoted scalar holding exactly `text`.
pub fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
