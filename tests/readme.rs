//! README.md stays true: its rule table equals the registry, and it starts with the two
//! commands (install and run lint on an example with the installed name; run every test).

use nats_doctor::rules::RULES;

#[test]
fn rule_table_matches_the_registry() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let rows: Vec<(String, String, String, String)> = readme
        .lines()
        .filter(|line| line.starts_with("| ND"))
        .map(|line| {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect();
            (
                cells[0].clone(),
                cells[1].clone(),
                cells[2].clone(),
                cells[3].clone(),
            )
        })
        .collect();
    let registry: Vec<(String, String, String, String)> = RULES
        .iter()
        .map(|rule| {
            (
                rule.code.to_string(),
                rule.name.to_string(),
                rule.severity.to_string(),
                rule.summary.replace('|', "\\|"),
            )
        })
        .collect();
    assert_eq!(rows, registry);
}

#[test]
fn starts_with_the_two_commands() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let commands: Vec<&str> = readme
        .lines()
        .skip_while(|line| !line.starts_with("    "))
        .take_while(|line| line.starts_with("    "))
        .map(str::trim)
        .collect();
    assert_eq!(
        commands,
        [
            "cargo install --locked --path . && nats-doctor lint fixtures/examples/",
            "./scripts/test"
        ]
    );
    assert!(std::path::Path::new("fixtures/examples").is_dir());
}
