//! The rule registry. Each rule lives in its own file, named after the bad pattern, with
//! its documentation as doc comments (What it does / Why is this bad? / Example /
//! Use instead); `nats-doctor explain` prints exactly that text.

use crate::diagnostic::{Finding, Location, Severity};
use crate::lint::context::Context;

/// Declares a rule: its documentation (doc comments), code, name, default severity, the
/// one-line summary for `nats-doctor rules`, what it reads (`reads: Topology` for a rule
/// that asks for the topology; the sites by default), and the function that checks it.
macro_rules! declare_rule {
    (@reads) => { $crate::rules::Reads::Sites };
    (@reads $reads:ident) => { $crate::rules::Reads::$reads };
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $rule:ident = {
            code: $code:literal,
            name: $name:literal,
            severity: $severity:ident,
            summary: $summary:literal,
            $(reads: $reads:ident,)?
            check: $check:path $(,)?
        };
    ) => {
        $vis static $rule: $crate::rules::Rule = $crate::rules::Rule {
            code: $code,
            name: $name,
            severity: $crate::diagnostic::Severity::$severity,
            summary: $summary,
            raw_doc: concat!($($doc, "\n"),*),
            reads: declare_rule!(@reads $($reads)?),
            check: $check,
        };
    };
}

mod duplicate_key;
mod egress_blocks_dns;
mod egress_blocks_nats;
mod env_duplicate;
mod env_expansion_undefined;
mod env_too_large;
mod findings;
mod ingress_blocks_clients;
mod nats_enabled_invalid;
mod nats_url_missing;
mod non_string_value;
mod policy_selects_nothing;
mod ref_missing;
mod ref_other_namespace;
mod run;
mod schedule;
mod service_not_found;
mod service_other_namespace;
mod service_port_mismatch;
mod subject_prefix_inconsistent;
mod subject_prefix_invalid;
pub(crate) mod url_cluster_domain;
pub(crate) mod url_credentials_exposed;
pub(crate) mod url_external_host;
pub(crate) mod url_ip_literal;
pub(crate) mod url_localhost;
pub(crate) mod url_malformed;
pub(crate) mod url_port;
pub(crate) mod url_scheme;

/// The rules that judge every NATS address the input holds (the URL and Service rules).
const ADDRESS_RULES: &[&str] = &[
    "ND101", "ND102", "ND103", "ND104", "ND105", "ND106", "ND107", "ND108", "ND201", "ND202",
    "ND203",
];

pub use run::{analyse, check, run, LintOutcome, Selection};

/// What a rule reads, which decides the thread it runs on (see `schedule.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Only the sites and the resolved environments.
    Sites,
    /// The topology (Services, NetworkPolicies).
    Topology,
}

/// A lint rule.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    raw_doc: &'static str,
    pub reads: Reads,
    pub check: fn(&Context<'_>, &mut Vec<Finding>),
}

impl Rule {
    /// The rule's documentation, as written in its file; the URL and Service rules add
    /// where NATS addresses are read, from the integrations table.
    pub fn documentation(&self) -> String {
        let mut documentation = self
            .raw_doc
            .lines()
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n");
        if ADDRESS_RULES.contains(&self.code) {
            documentation.push_str("\n\n");
            documentation.push_str(&crate::manifest::integrations::sources_section());
        }
        documentation
    }

    /// A finding of this rule, with its code, name and severity set.
    pub fn finding(&'static self, location: Location, width: u32, message: String) -> Finding {
        Finding {
            code: self.code,
            name: self.name,
            severity: self.severity,
            message,
            location,
            width: width.max(1),
            object: None,
            container: None,
            variable: None,
            field: None,
            help: None,
            runbook: None,
            used_by: std::sync::Arc::default(),
            related: Vec::new(),
            hide_source: false,
        }
    }
}

/// Every rule, sorted by code.
pub static RULES: &[&Rule] = &[
    &url_ip_literal::RULE,
    &url_localhost::RULE,
    &url_external_host::RULE,
    &url_scheme::RULE,
    &url_port::RULE,
    &url_credentials_exposed::RULE,
    &url_malformed::RULE,
    &url_cluster_domain::RULE,
    &service_other_namespace::RULE,
    &service_not_found::RULE,
    &service_port_mismatch::RULE,
    &nats_url_missing::RULE,
    &nats_enabled_invalid::RULE,
    &non_string_value::RULE,
    &subject_prefix_invalid::RULE,
    &subject_prefix_inconsistent::RULE,
    &ref_missing::RULE,
    &ref_other_namespace::RULE,
    &env_duplicate::RULE,
    &env_expansion_undefined::RULE,
    &duplicate_key::RULE,
    &env_too_large::RULE,
    &egress_blocks_nats::RULE,
    &egress_blocks_dns::RULE,
    &policy_selects_nothing::RULE,
    &ingress_blocks_clients::RULE,
];

/// Finds a rule by code (`ND101`, any case) or name (`url-ip-literal`).
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|rule| rule.code.eq_ignore_ascii_case(code_or_name) || rule.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_sorted_and_kebab_case() {
        let codes: HashSet<_> = RULES.iter().map(|r| r.code).collect();
        let names: HashSet<_> = RULES.iter().map(|r| r.name).collect();
        assert_eq!(codes.len(), RULES.len());
        assert_eq!(names.len(), RULES.len());
        assert!(RULES.windows(2).all(|pair| pair[0].code < pair[1].code));
        for rule in RULES {
            assert!(
                rule.code.starts_with("ND") && rule.code.len() == 5,
                "{}",
                rule.code
            );
            assert!(
                rule.name
                    .split('-')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase())),
                "{} is not kebab-case",
                rule.name
            );
        }
    }

    #[test]
    fn every_rule_documents_the_four_headings() {
        for rule in RULES {
            let doc = rule.documentation();
            for heading in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
            ] {
                assert!(doc.contains(heading), "{} lacks `{heading}`", rule.code);
            }
        }
    }
}
