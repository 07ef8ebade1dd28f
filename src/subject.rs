//! NATS subject syntax, in one place for every command: what a subject prefix and a
//! subject one publishes to may hold (ND304, `check --subject`, the settings of
//! `test-messaging` and `watch`), what can go on the wire at all, and how a
//! subscription pattern matches a subject.

/// The longest subject written on the wire: half a control line, so that the operation
/// around it still fits.
pub const MAX_WIRE_SUBJECT: usize = 32 * 1024;

/// Why `prefix` cannot start a subject one publishes to, if it cannot: it is empty,
/// holds white space or a wildcard, or has an empty token.
pub fn prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.is_empty() {
        Some("is empty")
    } else if prefix.chars().any(char::is_whitespace) {
        Some("contains whitespace")
    } else if prefix.contains(['*', '>']) {
        Some("contains a wildcard (`*` or `>`), which cannot be published to")
    } else if prefix.split('.').any(str::is_empty) {
        Some("has an empty token (`..`, or a leading or trailing dot)")
    } else {
        None
    }
}

/// Why `subject` cannot be published to, if it cannot: the rules of a prefix, which is
/// the head of such a subject.
pub fn publish_problem(subject: &str) -> Option<&'static str> {
    prefix_problem(subject)
}

/// Why `subject` (or a subscription pattern) cannot go on the wire, if it cannot:
/// subjects go between spaces, so white space or a control character would split the
/// operation or start another one.
pub fn wire_problem(subject: &str) -> Option<&'static str> {
    if subject.is_empty() {
        Some("it is empty")
    } else if subject.len() > MAX_WIRE_SUBJECT {
        Some("it is longer than 32 KiB")
    } else if subject.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains whitespace or a control character")
    } else {
        None
    }
}

/// Whether a subscription pattern matches a subject (`*` one token, `>` the rest).
pub fn matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for token in pattern.split('.') {
        if token == ">" {
            return subject_tokens.next().is_some();
        }
        match subject_tokens.next() {
            Some(actual) if token == "*" || token == actual => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(prefix_problem("binance.extraction"), None);
        assert_eq!(prefix_problem(""), Some("is empty"));
        assert_eq!(prefix_problem("a b"), Some("contains whitespace"));
        assert!(prefix_problem("a.*").is_some_and(|p| p.contains("wildcard")));
        assert!(prefix_problem("a..b").is_some_and(|p| p.contains("empty token")));
        assert!(prefix_problem("a.").is_some());
        assert!(publish_problem("a\tb").is_some());
    }

    #[test]
    fn wire_subjects() {
        assert_eq!(wire_problem("a.>"), None);
        assert!(wire_problem("").is_some());
        assert!(wire_problem("a\u{7}").is_some());
        assert!(wire_problem(&"a".repeat(MAX_WIRE_SUBJECT + 1)).is_some());
    }

    #[test]
    fn wildcard_matching() {
        assert!(matches("a.klines.*.*", "a.klines.BTCUSDT.15m"));
        assert!(matches("a.klines.*.*", "a.klines.batch.15m"));
        assert!(matches("a.klines.batch.*", "a.klines.batch.15m"));
        assert!(matches("a.>", "a.klines.batch.15m"));
        assert!(!matches("a.>", "a"));
        assert!(!matches("a.klines.*", "a.klines.BTCUSDT.15m"));
        assert!(!matches("a.klines.*.*", "a.klines_gap_filling.BTCUSDT.15m"));
        assert!(!matches("a.klines.batch.*", "a.klines.BTCUSDT.15m"));
    }
}
