//! Terminal escaping (`report::escape`): for any string, the escaped text holds no C0 or
//! C1 control, DEL, bidirectional control or line separator, and neither does the JSON
//! written for it, which still reads back as the same string.

use crate::strategies::{config, hostile_string, is_terminal_control};
use nats_doctor::report::escape;
use proptest::prelude::*;

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn escaped_text_holds_no_control_character(value in hostile_string(64)) {
        let escaped = escape::text(&value);
        let raw = escaped.chars().find(|c| is_terminal_control(*c));
        prop_assert!(raw.is_none(), "{raw:?} in {escaped:?}");
        // Nothing is escaped that did not need it.
        if !value.chars().any(is_terminal_control) {
            prop_assert_eq!(escaped.as_ref(), value.as_str());
        }
        let lines = escape::lines(&value);
        let raw = lines.chars().find(|c| *c != '\n' && is_terminal_control(*c));
        prop_assert!(raw.is_none(), "{raw:?} in {lines:?}");
        prop_assert_eq!(lines.matches('\n').count(), value.matches('\n').count());
    }

    #[test]
    fn json_holds_no_control_character_and_reads_back(value in hostile_string(64), pretty in any::<bool>()) {
        let document = serde_json::json!({ "name": value, "items": [value] });
        let mut out = Vec::new();
        escape::write_json(&mut out, &document, pretty).expect("write JSON");
        let written = String::from_utf8(out).expect("JSON is UTF-8");
        let raw = written.chars().find(|c| *c != '\n' && is_terminal_control(*c));
        prop_assert!(raw.is_none(), "{raw:?} in {written:?}");
        let back: serde_json::Value = serde_json::from_str(&written).expect("JSON reads back");
        prop_assert_eq!(back, document);
    }
}
