//! Where credentials are, in a configured server list and in free text, found before
//! anything else is parsed, and masked: nothing but `Credentials` ever holds a secret,
//! and no output shows one.

/// Where the userinfo of one server entry lies in a text: `start..end` is everything
/// between the entry start and its last `@` (the `@` excluded); `secret..end` is what is
/// never shown: the part after the first `:`, or all of it for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Userinfo {
    pub start: usize,
    pub secret: usize,
    pub end: usize,
}

/// The userinfo of every entry of a configured server list, found before anything else
/// is parsed, so that no later step can quote a secret.
///
/// nats.go (Go's `net/url`), nats.py (`urllib.parse`) and async-nats (WHATWG URL) all
/// take the userinfo up to the last `@` of the authority, and end the authority at the
/// first `/`, `?` or `#`. A password holding one of those is therefore read wrongly by
/// every client, and its pieces would show up as a host, a port or a path. This is more
/// generous than any of them: an entry starts at the start of the value or after a
/// `scheme://` that follows a separator (start, space, `,`, `;`, a quote, `=`, a
/// bracket) and ends an entry that can end there (one with its `@`, a port or no `:`;
/// not `nats://app:pa` before `,nats://…@`, which may be a password holding
/// `,nats://`), and everything from there to the last `@` before the next entry start
/// is userinfo, whatever it contains (`#`, `/`, `?`, `,`, `;`, spaces, quotes, newlines,
/// more `@`s).
pub fn find_userinfo(value: &str) -> Vec<Userinfo> {
    userinfo_spans(value, true)
}

/// The userinfo of every `scheme://…@` in free text (a source line, an error text from a
/// server or a library). Unlike [`find_userinfo`], text before the first `scheme://` is
/// not taken as an entry: free text is not a server list.
pub fn find_userinfo_in_text(text: &str) -> Vec<Userinfo> {
    userinfo_spans(text, false)
}

fn is_scheme_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.')
}

/// What may stand before a `scheme://` that starts a new entry. A `:` or `@` may not: a
/// password such as `a://b` must not end the userinfo before it.
fn is_entry_separator(byte: u8) -> bool {
    byte.is_ascii_whitespace()
        || matches!(
            byte,
            b',' | b';' | b'"' | b'\'' | b'`' | b'=' | b'(' | b'[' | b'{' | b'<' | b'|' | b'>'
        )
}

/// Whether `entry` (from an entry's start to the separator before a `scheme://`) can
/// end there. An entry with no `@` whose last `:` is followed by something other than a
/// port (`nats://app:pa,ss` before `nats://x@host`) may be a user and the start of a
/// password that holds `,scheme://`: the entry goes on, so that the whole password is
/// userinfo (and the parser reports the `,` in it). A port (digits, a `$(VAR)`), a host
/// without a port, or an entry with its `@` ends there.
fn ends_an_entry(entry: &str) -> bool {
    let entry = entry.trim_end_matches(|c: char| c.is_ascii() && is_entry_separator(c as u8));
    if entry.contains('@') {
        return true;
    }
    // A bracketed IPv6 host holds colons of its own.
    let tail = entry.rfind(']').map_or(entry, |at| &entry[at + 1..]);
    match tail.rfind(':') {
        Some(at) => {
            let port = &tail[at + 1..];
            port.bytes().all(|b| b.is_ascii_digit()) || port.starts_with('$')
        }
        None => true,
    }
}

fn userinfo_spans(text: &str, value_start_is_entry: bool) -> Vec<Userinfo> {
    let bytes = text.as_bytes();
    // Each entry as (where the previous one must end, where this one starts).
    let mut entries: Vec<(usize, usize)> = Vec::new();
    if value_start_is_entry {
        entries.push((0, 0));
    }
    let mut search = 0;
    while let Some(found) = text.get(search..).and_then(|rest| rest.find("://")) {
        let at = search + found;
        let mut scheme_start = at;
        while scheme_start > 0 && is_scheme_byte(bytes[scheme_start - 1]) {
            scheme_start -= 1;
        }
        // A scheme starts with a letter (`://` alone, or `1://`, is no scheme).
        let has_scheme = bytes[scheme_start..at]
            .first()
            .is_some_and(u8::is_ascii_alphabetic);
        let after_separator = scheme_start == 0 || is_entry_separator(bytes[scheme_start - 1]);
        let previous_is_complete = entries.last().is_none_or(|&(_, previous_start)| {
            ends_an_entry(&text[previous_start.min(scheme_start)..scheme_start])
        });
        if has_scheme && after_separator && previous_is_complete {
            entries.push((scheme_start, at + 3));
        }
        search = at + 3;
    }
    let mut spans = Vec::new();
    for (index, &(_, start)) in entries.iter().enumerate() {
        let end = entries
            .get(index + 1)
            .map_or(text.len(), |&(boundary, _)| boundary);
        if end <= start {
            continue;
        }
        let Some(at) = text[start..end].rfind('@') else {
            continue;
        };
        if at == 0 {
            continue;
        }
        let userinfo = &text[start..start + at];
        let secret = userinfo.find(':').map_or(start, |colon| start + colon + 1);
        spans.push(Userinfo {
            start,
            secret,
            end: start + at,
        });
    }
    spans
}

/// `text` with the secret part of every span replaced by `***`.
fn replace_secrets(text: &str, spans: &[Userinfo]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for span in spans {
        out.push_str(&text[copied..span.secret]);
        out.push_str("***");
        copied = span.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// A configured server list as it may be printed: the secret part of every entry's
/// userinfo is `***` (`nats://app:***@nats:4222`, `nats://***@nats` for a token), the
/// rest exactly as written.
pub fn mask_credentials(value: &str) -> String {
    replace_secrets(value, &find_userinfo(value))
}

/// Free text (a source line, an error text) with the secret part of every URL's
/// userinfo replaced by `***`. Lists separated by `,`, `;` or spaces, quoted URLs and
/// passwords holding any of those are handled as in [`find_userinfo`].
pub fn mask_credentials_in_text(text: &str) -> String {
    let spans = find_userinfo_in_text(text);
    if spans.is_empty() {
        return text.to_string();
    }
    replace_secrets(text, &spans)
}

/// `value` with every byte of every userinfo replaced by `*`: the same length and the
/// same positions, so that the server list can be split and parsed from it without the
/// parser ever holding a secret (`,` `/` `#` `@` in a password no longer split it).
pub(super) fn blank_userinfo<'v>(value: &'v str, spans: &[Userinfo]) -> std::borrow::Cow<'v, str> {
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut bytes = value.as_bytes().to_vec();
    for span in spans {
        bytes[span.start..span.end].fill(b'*');
    }
    // Spans start and end at ASCII characters, so whole characters were replaced.
    std::borrow::Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| "*".repeat(value.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::natsurl::tests::HOSTILE;
    use crate::natsurl::{parse_server_list, Entry};

    #[test]
    fn userinfo_is_found_up_to_the_last_at_sign_whatever_it_holds() {
        for password in HOSTILE {
            for value in [
                format!("nats://app:{password}@nats-server.nats:4222"),
                format!("app:{password}@nats-server.nats:4222"),
                format!("nats://h1:4222,nats://app:{password}@h2:4222"),
                format!("nats://app:{password}@h1:4222,nats://h2:4222"),
                format!("nats://a:b@h1:4222;nats://app:{password}@h2:4222"),
                format!("tls://app:{password}@h1 nats://app:{password}@h2"),
                format!("nats://{password}@h"),
            ] {
                let masked = mask_credentials(&value);
                assert!(!masked.contains(password), "{value} -> {masked}");
                // Free text has no entry start but `scheme://`.
                if value.contains("://") && !value.starts_with("app:") {
                    let text = format!("  NATS_URL: \"{value}\"  # x");
                    let masked = mask_credentials_in_text(&text);
                    assert!(!masked.contains(password), "{text} -> {masked}");
                }
                for entry in parse_server_list(&value) {
                    let shown = match entry {
                        Entry::Server(server) => format!("{server:?} {}", server.masked()),
                        Entry::Invalid { error, .. } => error.to_string(),
                    };
                    assert!(!shown.contains(password), "{value} -> {shown}");
                }
            }
        }
    }

    #[test]
    fn masking_keeps_the_user_and_everything_but_the_secret() {
        assert_eq!(
            mask_credentials("nats://app:Hunter2#x@nats-server.nats:4222"),
            "nats://app:***@nats-server.nats:4222"
        );
        assert_eq!(mask_credentials("app:p,w@h:1,h2"), "app:***@h:1,h2");
        assert_eq!(
            mask_credentials("nats://h1,nats://t0k@h2"),
            "nats://h1,nats://***@h2"
        );
        assert_eq!(
            mask_credentials_in_text("see nats://u:p@h1;tls://v:q@h2 and admin@example.com"),
            "see nats://u:***@h1;tls://v:***@example.com"
        );
        assert_eq!(mask_credentials_in_text("no URL: a@b"), "no URL: a@b");
    }
}
