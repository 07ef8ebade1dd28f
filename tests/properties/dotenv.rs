//! The env-file parser (`manifest::dotenv::parse`): on any text it reports only places
//! inside it; generated well-formed files (`KEY=value`, `export`, single and double
//! quotes, comments, blank lines, CRLF) give back exactly the variables written, each
//! located at its value.

use crate::strategies::{config, hostile_string, inside, shown_lines};
use nats_doctor::manifest::dotenv;
use nats_doctor::manifest::model::EnvSource;
use proptest::prelude::*;

/// How one variable is written.
#[derive(Clone, Debug)]
enum Form {
    /// `KEY=value`: no quote first, no ` #`, no white space at either end.
    Plain,
    /// `KEY='value'`: no `'` inside.
    Single,
    /// `KEY="value"` with `\"`, `\\`, `\n` and `\t` escapes.
    Double,
}

#[derive(Clone, Debug)]
struct Line {
    export: bool,
    key: String,
    form: Form,
    value: String,
    /// Spaces before the statement.
    indent: usize,
    /// ` # comment` after a quoted value.
    comment: Option<String>,
}

fn value_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range(' ', '~'),
        1 => prop::sample::select(&['é', '✓', '日', '\t', '#', '=', '\'', '"', '\\'][..]),
    ]
}

fn line() -> impl Strategy<Value = Line> {
    let form = prop::sample::select(&[Form::Plain, Form::Single, Form::Double][..]);
    (
        any::<bool>(),
        "[A-Za-z_][A-Za-z0-9_.]{0,12}",
        form,
        prop::collection::vec(value_char(), 0..24),
        0usize..3,
        prop::option::of("[ -~]{0,10}"),
    )
        .prop_map(|(export, key, form, characters, indent, comment)| {
            let mut value: String = characters.into_iter().collect();
            match form {
                Form::Plain => {
                    value = value.replace(" #", "_#").trim().to_string();
                    if value.starts_with(['\'', '"']) {
                        value.insert(0, 'v');
                    }
                }
                Form::Single => value = value.replace('\'', ""),
                Form::Double => {}
            }
            Line {
                export,
                key,
                comment: (!matches!(form, Form::Plain)).then_some(comment).flatten(),
                form,
                value,
                indent,
            }
        })
}

fn written(line: &Line) -> (String, usize) {
    let mut out = " ".repeat(line.indent);
    if line.export {
        out.push_str("export ");
    }
    out.push_str(&line.key);
    out.push('=');
    let value_column = out.chars().count() + 1;
    match line.form {
        Form::Plain => out.push_str(&line.value),
        Form::Single => out.push_str(&format!("'{}'", line.value)),
        Form::Double => {
            out.push('"');
            for character in line.value.chars() {
                match character {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
    if let Some(comment) = &line.comment {
        out.push_str(" # ");
        out.push_str(comment);
    }
    (out, value_column)
}

/// A file of variables, comments and blank lines.
#[derive(Clone, Debug)]
enum Entry {
    Variable(Line),
    Comment(String),
    Blank,
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(
        prop_oneof![
            6 => line().prop_map(Entry::Variable),
            1 => "[ -~]{0,20}".prop_map(Entry::Comment),
            1 => Just(Entry::Blank),
        ],
        0..12,
    )
}

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn any_text_gives_errors_inside_it(text in hostile_string(200)) {
        let file = nats_doctor::diagnostic::FileName::from(".env");
        let (variables, errors) = dotenv::parse(&file, &text);
        let lines = shown_lines(&text);
        for error in &errors {
            prop_assert!(inside(&lines, error.line, error.column), "{error:?} ({} lines)", lines.len());
            prop_assert!(!error.message.is_empty());
        }
        for variable in &variables {
            let location = &variable.name_location;
            prop_assert!(inside(&lines, location.line, location.column), "{variable:?}");
            if let EnvSource::Value(value) = &variable.source {
                prop_assert!(inside(&lines, value.location.line, value.location.column), "{variable:?}");
                let end = value.location.column + value.width.max(1) - 1;
                prop_assert!(inside(&lines, value.location.line, end), "{variable:?}");
            }
        }
    }

    #[test]
    fn well_formed_lines_give_back_their_values(entries in entries(), crlf in any::<bool>(), bom in any::<bool>()) {
        let mut text = String::new();
        if bom {
            text.push('\u{feff}');
        }
        let mut expected = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            match entry {
                Entry::Variable(variable) => {
                    let (written, column) = written(variable);
                    text.push_str(&written);
                    expected.push((variable.key.clone(), variable.value.clone(), line, column as u32));
                }
                Entry::Comment(comment) => {
                    text.push('#');
                    text.push_str(comment);
                }
                Entry::Blank => {}
            }
            text.push_str(if crlf { "\r\n" } else { "\n" });
        }
        let file = nats_doctor::diagnostic::FileName::from(".env");
        let (variables, errors) = dotenv::parse(&file, &text);
        prop_assert!(errors.is_empty(), "{errors:?}\n{text}");
        let parsed: Vec<(String, String, u32, u32)> = variables
            .iter()
            .map(|variable| match &variable.source {
                EnvSource::Value(value) => (
                    variable.name.to_string(),
                    value.text.to_string(),
                    value.location.line,
                    value.location.column,
                ),
                other => (variable.name.to_string(), format!("{other:?}"), 0, 0),
            })
            .collect();
        prop_assert_eq!(parsed, expected, "{}", text);
    }
}
