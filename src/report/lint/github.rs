//! GitHub Actions workflow commands: one `::error file=…,line=…,col=…,title=…::message`
//! line per finding, escaped as the runner requires. Values from the input are escaped
//! for the terminal first (the log is shown in one), then as the runner requires.

use crate::diagnostic::Severity;
use crate::report::escape;
use crate::rules::LintOutcome;
use std::io::{self, Write};

/// Escapes message text: `%`, `\r`, `\n`.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as data, plus `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn write_lint(out: &mut dyn Write, outcome: &LintOutcome) -> io::Result<()> {
    for finding in &outcome.findings {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = escape::text(&finding.message).into_owned();
        if let Some(help) = &finding.help {
            message.push_str("\nhelp: ");
            message.push_str(&escape::text(help));
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&escape::text(&finding.location.file)),
            finding.location.line,
            finding.location.column,
            escape_property(&format!("{} {}", finding.code, finding.name)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_requires() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn input_is_escaped_for_the_terminal_before_the_runner() {
        let value = "\u{1b}]0;x\u{7}\r\n";
        assert_eq!(escape_data(&escape::text(value)), "\\x1b]0;x\\x07\\r\\n");
    }
}
