//! Source lines for reports, read again on demand (the linter keeps no documents), with
//! credentials masked.

use crate::manifest::{ENVIRONMENT_NAME, STDIN_NAME};
use crate::natsurl::mask_credentials_in_text;
use std::collections::HashMap;

pub struct Sources<'a> {
    stdin: Option<&'a str>,
    files: HashMap<String, Option<Vec<String>>>,
}

impl<'a> Sources<'a> {
    pub fn new(stdin: Option<&'a str>) -> Self {
        Sources {
            stdin,
            files: HashMap::new(),
        }
    }

    /// Line `line` (1-based) of `file`, with credentials in URLs masked. `None` for the
    /// process environment, whose lines are not files.
    pub fn line(&mut self, file: &str, line: u32) -> Option<String> {
        if file == ENVIRONMENT_NAME {
            return None;
        }
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        if file == STDIN_NAME {
            let text = self.stdin?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            return text.lines().nth(index).map(clean);
        }
        let lines = self.files.entry(file.to_string()).or_insert_with(|| {
            // Decoded as the input was (UTF-16 and UTF-32 with a byte order mark too).
            crate::files::read(std::path::Path::new(file), crate::files::MAX_INPUT_BYTES)
                .ok()
                .and_then(|bytes| crate::manifest::decode::decode(bytes).ok())
                .map(|text| text.lines().map(str::to_string).collect())
        });
        lines.as_ref()?.get(index).map(|l| clean(l))
    }
}

fn clean(line: &str) -> String {
    mask_credentials_in_text(line.trim_end_matches('\r'))
}
