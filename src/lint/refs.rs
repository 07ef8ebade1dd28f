//! The ConfigMap and Secret references of the Kubernetes workloads that the input shows
//! to be broken, with what is wrong. Shared by `ref-missing` and `ref-other-namespace`.

use crate::diagnostic::Location;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::resolve::LastFound;
use crate::manifest::model::{EnvSource, Platform, RefKind};
use rustc_hash::FxHashSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefOutcome<'a> {
    Found,
    MissingObject,
    MissingKey,
    /// The object exists, but only in other namespaces: the first of them (sorted, at
    /// most [`SHOWN_NAMESPACES`]) and how many there are.
    OtherNamespace {
        first: Vec<&'a str>,
        count: usize,
    },
    /// The input holds no object of that kind in the namespace, or the object exists on
    /// the other side of the group's boundary (the group may be deployed there): it
    /// cannot tell.
    Undecidable,
}

/// The most namespaces a finding names for an object found only elsewhere.
pub const SHOWN_NAMESPACES: usize = 5;

pub struct Reference<'a> {
    pub workload: usize,
    pub container: &'a str,
    pub variable: Option<&'a str>,
    pub kind: RefKind,
    pub name: &'a str,
    pub key: Option<&'a str>,
    pub namespace: &'a str,
    pub location: &'a Location,
    pub width: u32,
    pub outcome: RefOutcome<'a>,
}

/// The references whose target is missing or in another namespace. References that
/// resolve, or that the input cannot judge, are not kept: on a large input nearly every
/// reference resolves.
pub fn broken<'a>(ctx: &Context<'a>) -> Vec<Reference<'a>> {
    let inventory = ctx.inventory;
    let covered: FxHashSet<(RefKind, &str)> = inventory
        .config_data
        .iter()
        .map(|data| (data.kind, data.object.namespace.as_str()))
        .collect();
    // The namespaces that have an object of a kind and name, sorted, each once (so the
    // group's, the empty name, comes first). A ref that misses in its own namespace
    // keeps the first few: thousands of refs to a name thousands of namespaces have
    // would otherwise each copy the list. One sorted list of (kind, name, namespace)
    // rather than a map holding a list per name: most names have one namespace.
    let mut namespaces_of: Vec<(RefKind, &'a str, &'a str)> = inventory
        .config_data
        .iter()
        .map(|data| {
            (
                data.kind,
                data.object.name.as_str(),
                data.object.namespace.as_str(),
            )
        })
        .collect();
    namespaces_of.sort_unstable();
    namespaces_of.dedup();
    let namespaces_of = &namespaces_of;
    let outcome = |found: Option<usize>,
                   kind: RefKind,
                   namespace: &str,
                   name: &str,
                   key: Option<&str>,
                   optional: bool|
     -> RefOutcome<'a> {
        if let Some(at) = found {
            return match key {
                Some(key) if inventory.config_data[at].get(key).is_none() && !optional => {
                    RefOutcome::MissingKey
                }
                _ => RefOutcome::Found,
            };
        }
        // Not found in its own namespace: the list names only others.
        let start = namespaces_of.partition_point(|&(k, n, _)| (k, n) < (kind, name));
        let end = namespaces_of.partition_point(|&(k, n, _)| (k, n) <= (kind, name));
        let elsewhere = &namespaces_of[start..end];
        // The group may be deployed into a named namespace that has the object, and
        // a named namespace may receive the group's: either way the ref may resolve.
        let across_group = if namespaces::is_group(namespace) {
            !elsewhere.is_empty()
        } else {
            elsewhere
                .first()
                .is_some_and(|&(_, _, ns)| namespaces::is_group(ns))
        };
        if across_group {
            RefOutcome::Undecidable
        } else if !elsewhere.is_empty() {
            RefOutcome::OtherNamespace {
                first: elsewhere
                    .iter()
                    .take(SHOWN_NAMESPACES)
                    .map(|&(_, _, ns)| ns)
                    .collect(),
                count: elsewhere.len(),
            }
        } else if optional {
            RefOutcome::Found
        } else if covered.contains(&(kind, namespace)) || ctx.options.strict_refs {
            RefOutcome::MissingObject
        } else {
            RefOutcome::Undecidable
        }
    };
    let mut found = Vec::new();
    let mut keep = |reference: Reference<'a>| {
        if !matches!(
            reference.outcome,
            RefOutcome::Found | RefOutcome::Undecidable
        ) {
            found.push(reference);
        }
    };
    for (index, workload) in inventory.workloads.iter().enumerate() {
        if workload.platform != Platform::Kubernetes {
            continue;
        }
        let namespace = workload.object.namespace.as_str();
        let mut last_found = LastFound::default();
        for container in &workload.containers {
            for source in &container.env_from {
                keep(Reference {
                    workload: index,
                    container: &container.name,
                    variable: None,
                    kind: source.kind,
                    name: &source.name,
                    key: None,
                    namespace,
                    location: &source.location,
                    width: source.width,
                    outcome: outcome(
                        last_found.find(&ctx.configs, source.kind, namespace, &source.name),
                        source.kind,
                        namespace,
                        &source.name,
                        None,
                        source.optional,
                    ),
                });
            }
            for var in &container.env {
                let EnvSource::KeyRef(key_ref) = &var.source else {
                    continue;
                };
                keep(Reference {
                    workload: index,
                    container: &container.name,
                    variable: Some(&var.name),
                    kind: key_ref.kind,
                    name: &key_ref.name,
                    key: Some(&key_ref.key),
                    namespace,
                    location: &key_ref.location,
                    width: key_ref.width,
                    outcome: outcome(
                        last_found.find(&ctx.configs, key_ref.kind, namespace, &key_ref.name),
                        key_ref.kind,
                        namespace,
                        &key_ref.name,
                        Some(&key_ref.key),
                        key_ref.optional,
                    ),
                });
            }
        }
    }
    found
}
