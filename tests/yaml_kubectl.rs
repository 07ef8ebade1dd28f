//! The YAML reader accepts exactly what libyaml accepts (kubectl decodes with go-yaml, a
//! port of libyaml): every file under `fixtures/yaml/` and a few thousand deterministic
//! mutations of them are parsed here and by the C libyaml, through python3-yaml's
//! `CSafeLoader` (`yaml.compose_all`), and the two must agree. When both reject, the
//! error must be located at libyaml's line, counted as nats-doctor counts lines (at
//! `\n` only, where libyaml also breaks lines at a lone CR, NEL, LS and PS, and puts
//! the end of a text without a final line break on a line of its own).
//!
//! Deliberate differences, allowed by the comparison and nowhere else:
//! - the limits: nesting deeper than 256 levels (flow and block), aliases expanding to
//!   more than 100,000 nodes and the node budget are input errors here; libyaml has no
//!   such limits (and accepts `limit-*` fixtures);
//! - an anchor defined twice in one document: python3-yaml's composer refuses it
//!   ("found duplicate anchor"), libyaml's parser and go-yaml accept it (an alias then
//!   means the latest definition), and so does this reader.

use nats_doctor::manifest::yaml;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Debian's Python, which has python3-yaml built with libyaml (the `python3` first on
/// PATH may be another build without it).
const PYTHON: &str = "/usr/bin/python3";

/// Reads NUL-separated file paths on standard input and prints one line per file:
/// `ok`, or `error LINE COLUMN KIND` (1-based; 0 0 when libyaml gives no position).
const LIBYAML_ORACLE: &str = r#"
import sys, yaml
if not getattr(yaml, "__with_libyaml__", False):
    sys.exit("python3-yaml is built without libyaml")
for path in sys.stdin.buffer.read().split(b"\0"):
    if not path:
        continue
    with open(path, "rb") as f:
        data = f.read()
    try:
        for _ in yaml.compose_all(data, Loader=yaml.CSafeLoader):
            pass
        print("ok")
    except yaml.MarkedYAMLError as e:
        kind = "duplicate-anchor" if "found duplicate anchor" in str(e) else "error"
        mark = e.problem_mark or e.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        print(f"error {line} {column} {kind}")
    except yaml.YAMLError:
        print("error 0 0 error")
"#;

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Rejected { line: u32, column: u32 },
}

fn ours(text: &str) -> (Verdict, String) {
    for document in yaml::documents(text) {
        if let Err(error) = document {
            return (
                Verdict::Rejected {
                    line: error.line,
                    column: error.column,
                },
                error.message,
            );
        }
    }
    (Verdict::Accepted, String::new())
}

/// libyaml's verdict on each file, and whether it came from a duplicate anchor.
fn libyaml(paths: &[PathBuf]) -> Vec<(Verdict, bool)> {
    let check = Command::new(PYTHON)
        .args([
            "-c",
            "import yaml, sys; sys.exit(0 if yaml.__with_libyaml__ else 1)",
        ])
        .output();
    match check {
        Ok(output) if output.status.success() => {}
        _ => panic!(
            "this test compares with the C libyaml through Debian's python3-yaml at {PYTHON}; \
             install it: apt-get install python3-yaml"
        ),
    }
    let mut child = Command::new(PYTHON)
        .args(["-c", LIBYAML_ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut input = Vec::new();
    for path in paths {
        input.extend_from_slice(path.to_str().expect("UTF-8 path").as_bytes());
        input.push(0);
    }
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("paths written");
    let output = child.wait_with_output().expect("python3 runs");
    assert!(
        output.status.success(),
        "the libyaml oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<(Verdict, bool)> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            match fields.as_slice() {
                ["ok"] => (Verdict::Accepted, false),
                ["error", line, column, kind] => (
                    Verdict::Rejected {
                        line: line.parse().expect("line"),
                        column: column.parse().expect("column"),
                    },
                    *kind == "duplicate-anchor",
                ),
                _ => panic!("unexpected oracle line {line:?}"),
            }
        })
        .collect();
    assert_eq!(verdicts.len(), paths.len(), "one verdict per file");
    verdicts
}

/// The line, as nats-doctor counts and shows lines (broken at `\n` only), of the place
/// that libyaml calls `line`, `column`: libyaml also breaks lines at a lone CR, NEL,
/// LS and PS, and puts the end of a text without a final line break on a line of its
/// own. 0 stays 0 (no place).
fn shown_line(text: &str, line: u32, column: u32) -> u32 {
    if line == 0 {
        return 0;
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut their_line, mut their_column, mut shown) = (1, 1, 1);
    let mut characters = text.chars().peekable();
    while (their_line, their_column) != (line, column) {
        let Some(character) = characters.next() else {
            break;
        };
        match character {
            '\r' if characters.peek() == Some(&'\n') => {
                characters.next();
                (their_line, their_column, shown) = (their_line + 1, 1, shown + 1);
            }
            '\n' => (their_line, their_column, shown) = (their_line + 1, 1, shown + 1),
            '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                (their_line, their_column) = (their_line + 1, 1)
            }
            _ => their_column += 1,
        }
    }
    shown
}

/// A small deterministic generator (xorshift64*), so that the mutations are the same on
/// every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// Edits that hit the parts of YAML where parsers disagree: indentation, quotes, flow
/// brackets, block indicators, anchors, tags, directives and document markers.
const INSERTIONS: &[&str] = &[
    ":",
    "- ",
    " ",
    "'",
    "\"",
    "[",
    "]",
    "{",
    "}",
    "#",
    "\t",
    "\n",
    "&a ",
    "*a",
    "!!str ",
    "? ",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    ",",
    "\\",
    "@",
    "`",
    "\r\n",
    "  ",
    "\n  ",
    ": ",
    "|2\n",
    "- - ",
    "{a: ",
    "[a, ",
];

fn mutate(seed: &str, random: &mut Random) -> String {
    let characters: Vec<char> = seed.chars().collect();
    let mut lines: Vec<String> = seed.split('\n').map(str::to_string).collect();
    let at = random.below(characters.len() + 1);
    let (before, after) = characters.split_at(at.min(characters.len()));
    let join = |before: &[char], middle: &str, after: &[char]| {
        let mut text: String = before.iter().collect();
        text.push_str(middle);
        text.extend(after);
        text
    };
    match random.below(6) {
        0 => join(before, "", after.get(1..).unwrap_or_default()),
        1 | 2 => join(before, INSERTIONS[random.below(INSERTIONS.len())], after),
        3 => {
            let index = random.below(lines.len());
            let line = &mut lines[index];
            match random.below(4) {
                0 => line.insert(0, ' '),
                1 => line.insert_str(0, "  "),
                2 if line.starts_with(' ') => {
                    line.remove(0);
                }
                _ if line.starts_with("  ") => {
                    line.drain(..2);
                }
                _ => line.insert(0, ' '),
            }
            lines.join("\n")
        }
        4 => {
            let index = random.below(lines.len());
            let copy = lines[index].clone();
            lines.insert(index, copy);
            lines.join("\n")
        }
        _ => {
            if lines.len() > 1 {
                let index = random.below(lines.len() - 1);
                lines.swap(index, index + 1);
            }
            lines.join("\n")
        }
    }
}

/// Whether a difference is one of the deliberate ones (see the module's comment).
fn deliberate(ours: &Verdict, message: &str, libyaml: &Verdict, duplicate_anchor: bool) -> bool {
    let our_limit = ["nesting deeper than", "alias bomb", "node budget"]
        .iter()
        .any(|limit| message.contains(limit));
    match (ours, libyaml) {
        (Verdict::Rejected { .. }, Verdict::Accepted) => our_limit,
        // python3-yaml stops at the second definition of an anchor, so libyaml's verdict
        // on the rest of the input is unknown.
        (Verdict::Accepted, Verdict::Rejected { .. }) => duplicate_anchor,
        _ => false,
    }
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new("fixtures/yaml");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures/yaml")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.file_name().is_some_and(|name| name != "README.md"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_reader_accepts_exactly_what_libyaml_accepts() {
    let fixtures = fixture_files();
    assert!(fixtures.len() >= 20, "fixtures/yaml holds the shapes");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cases: Vec<(String, PathBuf, String)> = fixtures
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("fixture is UTF-8");
            (path.display().to_string(), path.clone(), text)
        })
        .collect();
    // Mutations of the files that libyaml accepts and that are small enough to keep the
    // test fast; the large CRDs are seeds in their first 4,000 characters.
    let seeds: Vec<String> = cases
        .iter()
        .filter(|(name, ..)| {
            !["invalid-", "limit-", "anchor-redefined"]
                .iter()
                .any(|skip| name.contains(skip))
        })
        .map(|(_, _, text)| text.chars().take(4_000).collect())
        .collect();
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    for index in 0..3_000 {
        let seed = &seeds[random.below(seeds.len())];
        let mut text = mutate(seed, &mut random);
        if random.below(3) == 0 {
            text = mutate(&text, &mut random);
        }
        let path = dir.path().join(format!("mutation-{index:04}.yaml"));
        std::fs::write(&path, &text).expect("write");
        cases.push((format!("mutation {index}"), path, text));
    }
    let paths: Vec<PathBuf> = cases.iter().map(|(_, path, _)| path.clone()).collect();
    let verdicts = libyaml(&paths);

    let mut differences = Vec::new();
    let (mut accepted, mut rejected, mut allowed) = (0, 0, 0);
    for ((name, _, text), (theirs, duplicate_anchor)) in cases.iter().zip(&verdicts) {
        let (verdict, message) = ours(text);
        match (&verdict, theirs) {
            (Verdict::Accepted, Verdict::Accepted) => accepted += 1,
            (Verdict::Rejected { .. }, Verdict::Rejected { .. }) if *duplicate_anchor => {
                allowed += 1
            }
            (
                Verdict::Rejected { line, column },
                Verdict::Rejected {
                    line: their_line,
                    column: their_column,
                },
            ) => {
                rejected += 1;
                let their_line = &shown_line(text, *their_line, *their_column);
                if *line == 0 || *column == 0 {
                    differences.push(format!("{name}: rejected without a location: {message}"));
                } else if *their_line != 0 && line != their_line {
                    differences.push(format!(
                        "{name}: rejected at line {line} ({message}), libyaml at line {their_line}\n{:?}", text.chars().take(300).collect::<String>()
                    ));
                }
            }
            _ if deliberate(&verdict, &message, theirs, *duplicate_anchor) => allowed += 1,
            _ => differences.push(format!(
                "{name}: here {verdict:?} {message}, libyaml {theirs:?}\n{}",
                text.chars().take(400).collect::<String>()
            )),
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} cases differ from libyaml:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
    assert!(
        accepted > 1_000 && rejected > 300,
        "the mutations cover both sides: {accepted} accepted, {rejected} rejected"
    );
    eprintln!(
        "{accepted} accepted and {rejected} rejected by both, {allowed} deliberate differences"
    );
}

#[test]
fn the_shapes_kubectl_applies_are_read() {
    for name in [
        "flow-sequence-closed-at-key-indentation.yaml",
        "quoted-description-at-key-indentation.yaml",
        "pre-commit-flow-args.yaml",
        "istio-peerauthentication-crd.yaml",
        "block-scalar-at-end-without-newline.yaml",
    ] {
        let text = std::fs::read_to_string(Path::new("fixtures/yaml").join(name)).expect(name);
        assert_eq!(
            ours(&text).0,
            Verdict::Accepted,
            "{name}: {}",
            ours(&text).1
        );
    }
    let text =
        std::fs::read_to_string("fixtures/yaml/flow-sequence-closed-at-key-indentation.yaml")
            .expect("fixture");
    let document = yaml::documents(&text)
        .next()
        .expect("a document")
        .expect("valid");
    let args = document
        .root
        .path(&["spec", "template", "spec", "containers"])
        .and_then(|containers| containers.items().first())
        .and_then(|container| container.get("args"))
        .expect("args");
    let values: Vec<_> = args
        .items()
        .iter()
        .filter_map(|item| item.as_str())
        .collect();
    assert_eq!(
        values,
        ["--port=4222", "--http_port=8222", "--cluster_id=ticketing"]
    );
    assert_eq!((args.items()[2].line, args.items()[2].column), (22, 15));
}

#[test]
fn the_limits_are_the_only_deliberate_rejections() {
    for (name, expected) in [
        ("limit-flow-nesting-300.yaml", (1, 257)),
        ("limit-block-nesting-300.yaml", (257, 257)),
    ] {
        let text = std::fs::read_to_string(Path::new("fixtures/yaml").join(name)).expect(name);
        let (verdict, message) = ours(&text);
        assert_eq!(
            verdict,
            Verdict::Rejected {
                line: expected.0,
                column: expected.1
            },
            "{name}: {message}"
        );
        assert!(message.contains("nesting deeper than 256"), "{message}");
    }
}
