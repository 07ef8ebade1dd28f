//! Which rule runs on which thread. Rules are independent readers of the context, so
//! any order gives the same findings (the run sorts them); the order only decides how
//! long a run takes. The rules that read the topology of the cluster (Services and
//! NetworkPolicies) are the slowest on a large input, and the two threads would
//! otherwise end apart. So one thread starts with those rules while the other runs the
//! rules that read only the sites, and each takes the next rule from its end of the
//! queue until they meet (two rayon jobs: the queue, not rayon's splitting, decides
//! the order, which rayon's own `par_iter` would not keep).
//!
//! What a rule reads is declared with the rule (`reads: Topology`), not implied by
//! where it stands in `RULES`: the queue is built from that declaration, and a test
//! checks every declaration against the rule's source.

use super::{Reads, Rule};
use crate::diagnostic::Finding;
use crate::lint::context::Context;
use std::sync::{Mutex, PoisonError};

/// The queue the two threads take rules from: the rules that read only the sites first,
/// in the order given, then those that read the topology, in reverse. One thread takes
/// from the front, the other from the back, and so meets the topology rules in the
/// order given. In `RULES` (by code) the Service rules, which are light, come first,
/// then the policy rules that judge every client (`egress-blocks-nats`,
/// `egress-blocks-dns`), then the lighter policy rules: the heavy ones are not the last
/// that either thread takes. On the shared benchmark corpus, taking them in reverse,
/// the thread of the topology rules ended at 46 ms and the other at 29 ms; in this
/// order both end at 40 to 44 ms.
pub(crate) fn queue(rules: &[&'static Rule]) -> Vec<&'static Rule> {
    let (mut queue, topology): (Vec<_>, Vec<_>) = rules
        .iter()
        .copied()
        .partition(|rule| rule.reads == Reads::Sites);
    queue.extend(topology.into_iter().rev());
    queue
}

/// Runs `rules` over `context` as two queue readers on rayon's threads; the findings in
/// no particular order.
pub(crate) fn run(rules: &[&'static Rule], context: &Context<'_>) -> Vec<Finding> {
    let queue = queue(rules);
    let pending = Mutex::new(queue.iter());
    let work = |from_back: bool| {
        let mut found = Vec::new();
        loop {
            let rule = {
                let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
                if from_back {
                    pending.next_back()
                } else {
                    pending.next()
                }
            };
            let Some(rule) = rule else {
                break found;
            };
            (rule.check)(context, &mut found);
        }
    };
    // A small input is done before a second thread would have started: one reader
    // takes the whole queue, and rayon's pool is never started (a one-file lint in a
    // pre-commit hook pays for no threads).
    if context.inventory.workloads.len() < crate::lint::context::PARALLEL_WORKLOADS {
        return work(false);
    }
    let (mut findings, other) = rayon::join(|| work(false), || work(true));
    findings.extend(other);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULES;

    /// Every rule declares what it reads truthfully: a rule whose source asks the
    /// context for its topology says `reads: Topology`, and no other does. A rule
    /// that read the topology undeclared would run among the quick rules and leave
    /// the thread meant for the topology idle.
    #[test]
    fn every_rule_declares_whether_it_reads_the_topology() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        for rule in RULES {
            let file = folder.join(format!("{}.rs", rule.name.replace('-', "_")));
            let source = std::fs::read_to_string(&file)
                .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            let reads_topology = source.contains(".topology()");
            assert_eq!(
                rule.reads == Reads::Topology,
                reads_topology,
                "{} ({}) declares `reads: {:?}` but its source {} `.topology()`",
                rule.code,
                rule.name,
                rule.reads,
                if reads_topology {
                    "calls"
                } else {
                    "does not call"
                },
            );
        }
    }

    /// The topology rules take the back of the queue, whatever their place in `RULES`,
    /// and each rule is in the queue once.
    #[test]
    fn the_queue_puts_the_topology_rules_at_the_back() {
        let mut reversed = RULES.to_vec();
        reversed.reverse();
        for rules in [RULES.to_vec(), reversed] {
            let queue = queue(&rules);
            assert_eq!(queue.len(), rules.len());
            let topology: Vec<&str> = rules
                .iter()
                .filter(|rule| rule.reads == Reads::Topology)
                .map(|rule| rule.code)
                .collect();
            let from_the_back: Vec<&str> = queue
                .iter()
                .rev()
                .take(topology.len())
                .map(|rule| rule.code)
                .collect();
            assert_eq!(
                from_the_back, topology,
                "the back meets them in the order given"
            );
            let first_topology = queue
                .iter()
                .position(|rule| rule.reads == Reads::Topology)
                .expect("some rule reads the topology");
            assert!(queue[..first_topology]
                .iter()
                .all(|rule| rule.reads == Reads::Sites));
            assert!(queue[first_topology..]
                .iter()
                .all(|rule| rule.reads == Reads::Topology));
            for rule in &rules {
                assert_eq!(
                    queue.iter().filter(|r| r.code == rule.code).count(),
                    1,
                    "{}",
                    rule.code
                );
            }
        }
    }
}
