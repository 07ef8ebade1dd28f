//! Hostile YAML under the 16 MiB input limit: each shape ends with a located error or a
//! correct result, in bounded memory. The peak memory of the `nats-doctor` process is
//! measured by GNU time (`%M`); the bound is far above what the shapes take (at most
//! 75 MB, and 355 MB for the one that gives a finding for every value) and far below what
//! they took before the limits (2 GB), so the test does not depend on how loaded the
//! machine is. Wall time is only checked against a generous bound that catches a hang.

mod support;

use std::path::Path;
use std::time::Duration;
use support::nats_doctor;

/// Peak memory allowed for the shapes that give few findings.
const MAX_PEAK_KIB: u64 = 300 * 1024;
/// The input limit, less a little room.
const SIZE: usize = 16 * 1024 * 1024 - 64;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    peak_kib: u64,
}

fn lint(path: &Path) -> Run {
    lint_within(path, MAX_PEAK_KIB)
}

fn lint_within(path: &Path, max_peak_kib: u64) -> Run {
    // Killed (and failed) after the generous bound that catches a hang.
    let measured = nats_doctor(["lint", "--format", "json"])
        .arg(path)
        .kill_after(Duration::from_secs(120))
        .measured();
    let peak_kib = measured.max_rss_kib;
    assert!(
        peak_kib < max_peak_kib,
        "{}: peak {peak_kib} KiB",
        path.display()
    );
    Run {
        code: measured.run.signal.is_none().then_some(measured.run.code),
        stdout: measured.run.stdout,
        stderr: measured.run.stderr,
        peak_kib,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    assert!(
        text.len() <= SIZE + 64,
        "{name} stays under the input limit"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn repeat_to_size(unit: &str) -> String {
    unit.repeat(SIZE / unit.len())
}

#[track_caller]
fn assert_error(run: &Run, location: &str, message: &str) {
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(location) && run.stderr.contains(message),
        "expected {location} {message}: {}",
        run.stderr
    );
}

#[test]
fn a_flow_list_of_eight_million_integers_stops_at_the_node_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!("[{}1]", "1,".repeat((SIZE - 3) / 2));
    let run = lint(&write(dir.path(), "integers.yaml", &text));
    assert_error(&run, "integers.yaml:1:2000000:", "node budget");
}

#[test]
fn millions_of_tiny_documents_are_read_one_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = lint(&write(
        dir.path(),
        "documents.yaml",
        &repeat_to_size("a: 1\n---\n"),
    ));
    // Three nodes a document: the budget of a million nodes ends the file a third of the
    // way in, at the key of document 333,334.
    assert_error(&run, "documents.yaml:666667:1:", "node budget");
    assert!(run.peak_kib < 100 * 1024, "peak {} KiB", run.peak_kib);
}

#[test]
fn deep_nesting_stops_at_level_257() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = lint(&write(dir.path(), "flow.yaml", &"[".repeat(SIZE)));
    assert_error(&run, "flow.yaml:1:257:", "nesting deeper than 256 levels");
    let run = lint(&write(dir.path(), "mapping.yaml", &repeat_to_size("{a: ")));
    assert_error(
        &run,
        "mapping.yaml:1:1025:",
        "nesting deeper than 256 levels",
    );
    let mut block = String::new();
    for depth in 0..1_000 {
        block.push_str(&" ".repeat(depth));
        block.push_str("a:\n");
    }
    let run = lint(&write(dir.path(), "block.yaml", &block));
    assert_error(
        &run,
        "block.yaml:257:257:",
        "nesting deeper than 256 levels",
    );
}

#[test]
fn alias_bombs_stop_at_the_expansion_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in b'b'..=b'i' {
        let previous = (level - 1) as char;
        let this = level as char;
        let refs = vec![format!("*{previous}"); 9].join(",");
        laughs.push_str(&format!("{this}: &{this} [{refs}]\n"));
    }
    let run = lint(&write(dir.path(), "laughs.yaml", &laughs));
    assert_error(
        &run,
        "laughs.yaml:6:",
        "aliases expand to more than 100000 nodes",
    );
    // One anchor too large to copy at all, and a sixteen-megabyte list of aliases to a
    // small one.
    let large = format!("a: &a [{}1]\nb: *a\n", "1,".repeat(150_000));
    let run = lint(&write(dir.path(), "large.yaml", &large));
    assert_error(
        &run,
        "large.yaml:2:4:",
        "aliases expand to more than 100000 nodes",
    );
    let many = format!("a: &a x\nb: [{}*a]\n", "*a,".repeat((SIZE - 20) / 3));
    let run = lint(&write(dir.path(), "many.yaml", &many));
    assert_error(
        &run,
        "many.yaml:2:",
        "aliases expand to more than 100000 nodes",
    );
}

#[test]
fn a_file_of_small_objects_is_linted_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let object =
        "{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: n}, data: {K: v}}\n---\n";
    let run = lint(&write(dir.path(), "objects.yaml", &repeat_to_size(object)));
    // Fifteen nodes an object, each object and its `---` two lines.
    assert_error(&run, "objects.yaml:133333:", "node budget");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        report["summary"]["objects"], 66_666,
        "objects before the budget are linted"
    );
}

#[test]
fn half_a_million_repeated_keys_are_reported_a_hundred_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!("{{{}a}}\n", "a,".repeat(450_000));
    let compose = format!("services:\n  app:\n    environment: {text}");
    let run = lint(&write(dir.path(), "compose.yaml", &compose));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let repeated = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["code"] == "ND310")
        .count();
    assert_eq!(repeated, 100);
}

#[test]
fn one_sixteen_megabyte_scalar_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "kind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  blob: \"{}\"\n",
        "x".repeat(SIZE - 60)
    );
    let run = lint(&write(dir.path(), "scalar.yaml", &text));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn a_finding_for_every_value_of_a_large_config_map_stays_bounded() {
    // Every value an unquoted integer (ND303), just under the node budget: the most
    // findings one file can give (490,000), each a few hundred bytes until it is
    // reported. About 355 MB; the bound here is the 512 MB target, less a margin.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("kind: ConfigMap\nmetadata: {name: numbers}\ndata:\n");
    for index in 0..490_000 {
        text.push_str(&format!("  k{index}: 1\n"));
    }
    let run = lint_within(&write(dir.path(), "numbers.yaml", &text), 480 * 1024);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.stdout.matches("\"ND303\"").count(), 490_000);
}
