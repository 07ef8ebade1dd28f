//! How a rule's findings are made: placed at a site, a reference or a NetworkPolicy,
//! with the object and container that hold them, unless the object (or every workload
//! that reads the value) silences the rule; and the input error of a rule that ran out
//! of work.

use super::Rule;
use crate::diagnostic::{Finding, InputError, Location};
use crate::lint::context::{Context, Owner, Site};
use crate::lint::refs::Reference;
use crate::lint::topology::POLICY_WORK;
use crate::manifest::model::{NetworkPolicy, Platform};

impl Rule {
    /// A finding at a site, or `None` when the site's object, or every workload that
    /// reads it, silences the rule.
    pub(crate) fn site_finding(
        &'static self,
        context: &Context<'_>,
        site: &Site,
        message: String,
    ) -> Option<Finding> {
        let rule = self;
        let inventory = context.inventory;
        let (object, container) = match site.owner {
            Owner::Config(index) => {
                let data = &inventory.config_data[index];
                if data.object.ignores(rule.code, rule.name) {
                    return None;
                }
                (data.object.reference(Platform::Kubernetes), None)
            }
            Owner::Container {
                workload,
                container,
            } => {
                let workload = &inventory.workloads[workload];
                if workload.ignores(rule.code, rule.name) {
                    return None;
                }
                let name = &workload.containers[container].name;
                (
                    workload.reference(),
                    (!name.is_empty()).then(|| name.clone()),
                )
            }
            Owner::Field(index) => {
                let field = &inventory.address_fields[index];
                if field.object.ignores(rule.code, rule.name) {
                    return None;
                }
                (field.object.reference(Platform::Kubernetes), None)
            }
        };
        if !site.consumers.is_empty()
            && site
                .consumers
                .iter()
                .all(|c| inventory.workloads[c.workload].ignores(rule.code, rule.name))
        {
            return None;
        }
        let mut finding = rule.finding(site.origin.location.clone(), site.origin.width, message);
        finding.object = Some(object);
        finding.container = container.map(String::from);
        if matches!(site.owner, Owner::Field(_)) {
            finding.field = Some(site.origin.key.to_string());
        } else {
            finding.variable = Some(site.origin.key.to_string());
        }
        if site.origin.config.is_some() {
            finding.used_by = context.consumers(site);
        }
        finding.hide_source = site.hidden;
        Some(finding)
    }

    /// A finding at a reference, unless its workload silences the rule.
    pub(crate) fn reference_finding(
        &'static self,
        ctx: &Context<'_>,
        reference: &Reference<'_>,
        message: String,
    ) -> Option<Finding> {
        let rule = self;
        let workload = &ctx.inventory.workloads[reference.workload];
        if workload.ignores(rule.code, rule.name) {
            return None;
        }
        let mut finding = rule.finding(reference.location.clone(), reference.width, message);
        finding.object = Some(workload.reference());
        finding.container = Some(reference.container.to_string());
        finding.variable = reference.variable.map(str::to_string);
        Some(finding)
    }

    /// A finding at a NetworkPolicy, unless the policy silences the rule.
    pub(crate) fn policy_finding(
        &'static self,
        policy: &NetworkPolicy,
        location: Location,
        width: u32,
        message: String,
    ) -> Option<Finding> {
        let rule = self;
        if policy.object.ignores(rule.code, rule.name) {
            return None;
        }
        let mut finding = rule.finding(location, width, message);
        finding.object = Some(policy.object.reference(Platform::Kubernetes));
        Some(finding)
    }

    /// The input error of a rule that stopped at `site`.
    pub(crate) fn stopped(&self, site: &Site) -> InputError {
        self.stopped_at(site.origin.location, site.origin.key)
    }

    /// The input error of a rule that stopped at what is named `name`, at `location`.
    pub(crate) fn stopped_at(&self, location: &Location, name: &str) -> InputError {
        let rule = self;
        InputError {
            file: location.file.clone(),
            line: Some(location.line),
            column: Some(location.column),
            message: format!(
                "{} ({}) stopped at `{name}`: judging the input's NATS clients, servers, pods and NetworkPolicies takes more than {POLICY_WORK} steps; the rest is not judged",
                rule.code,
                rule.name,
            ),
        }
    }
}
