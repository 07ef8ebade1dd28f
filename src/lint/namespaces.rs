//! What the input says for certain about namespaces. Objects that name no namespace (and
//! get none from `--namespace`) are one group, applied together into one namespace chosen
//! at deploy time: [`GROUP_NAMESPACE`] stands for it, so that references inside the group
//! resolve as inside any namespace. Which namespace that is, the input does not say: it
//! may be a fresh one or one that other objects of the input name. A conclusion that
//! depends on it (the group's pods meeting a named namespace's Service, ConfigMap or
//! NetworkPolicy) is left unknown, and the rules report nothing on it.

use crate::manifest::model::{Decision, GROUP_NAMESPACE};

/// Whether `namespace` is the group's, the one chosen at deploy time.
pub(crate) fn is_group(namespace: &str) -> bool {
    namespace == GROUP_NAMESPACE
}

/// Whether objects of these two namespaces are in the same namespace: unknown when one
/// is the group and the other a named namespace, which the group may be deployed into.
pub(crate) fn same(first: &str, second: &str) -> Decision {
    if first == second {
        Decision::Yes
    } else if is_group(first) || is_group(second) {
        Decision::Unknown
    } else {
        Decision::No
    }
}

/// The namespace as a message names it: "namespace `apps`", or for the group "the
/// namespace chosen at deploy time" (never a name the input does not give).
pub(crate) fn describe(namespace: &str) -> String {
    if is_group(namespace) {
        "the namespace chosen at deploy time".to_string()
    } else {
        format!("namespace `{namespace}`")
    }
}

/// The namespace for a runbook command or an object reference: `None` for the group,
/// whose name the commands keep as a `<namespace>` placeholder.
pub(crate) fn named(namespace: &str) -> Option<String> {
    (!is_group(namespace)).then(|| namespace.to_string())
}

/// `name.namespace` as a pod outside the namespace writes a Service's address; for the
/// group, with `<namespace>` in place of the name the input does not give.
pub(crate) fn qualified(name: &str, namespace: &str) -> String {
    if is_group(namespace) {
        format!("{name}.<namespace>")
    } else {
        format!("{name}.{namespace}")
    }
}

/// An object as `kubectl` writes it, `namespace/name`; an object of the group by its
/// name alone.
pub(crate) fn path(namespace: &str, name: &str) -> String {
    if is_group(namespace) {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_group_against_a_named_namespace_is_unknown() {
        assert_eq!(same("apps", "apps"), Decision::Yes);
        assert_eq!(same("apps", "nats"), Decision::No);
        assert_eq!(same(GROUP_NAMESPACE, GROUP_NAMESPACE), Decision::Yes);
        assert_eq!(same(GROUP_NAMESPACE, "nats"), Decision::Unknown);
        assert_eq!(same("nats", GROUP_NAMESPACE), Decision::Unknown);
        assert!(!describe(GROUP_NAMESPACE).contains("default"));
        assert_eq!(describe("nats"), "namespace `nats`");
        assert_eq!(named(GROUP_NAMESPACE), None);
        assert_eq!(qualified("nats", GROUP_NAMESPACE), "nats.<namespace>");
    }
}
