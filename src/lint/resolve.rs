//! The environment a container will see, computed the way the kubelet does: `envFrom`
//! entries in order (later wins, `prefix` applied), then `env` (last duplicate wins),
//! `configMapKeyRef`/`secretKeyRef` resolved within the workload's namespace, and
//! `$(VAR)` expanded against the variables defined before, with `$$` as an escape.

use crate::diagnostic::Location;
use crate::manifest::model::{
    ConfigData, Container, EnvSource, Inventory, Platform, RefKind, Value,
};
use rustc_hash::FxHashMap;
use std::borrow::Cow;

/// Where a value is written. Borrowed from the inventory, like every text of a resolved
/// environment that expansion did not change: the context holds no copies of the input.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    pub location: &'a Location,
    pub width: u32,
    /// Index into `Inventory::config_data` when the value is a ConfigMap or Secret key.
    pub config: Option<usize>,
    /// The variable or key name at the place the value is written.
    pub key: &'a str,
}

#[derive(Clone, Debug)]
pub enum Resolved<'a> {
    /// The value is known: expanded text and where it is written.
    Known {
        text: Cow<'a, str>,
        origin: Origin<'a>,
    },
    /// Set, but only known at run time (a missing ref, `fieldRef`, a compose `${VAR}`).
    Unknown,
}

#[derive(Clone, Debug)]
pub struct ResolvedVar<'a> {
    /// Owned only when an `envFrom` prefix made a new name.
    pub name: Cow<'a, str>,
    pub value: Resolved<'a>,
    /// `$(NAME)` references that nothing defined before this variable.
    pub undefined: Vec<String>,
    /// Where an `env[].value` is written (for `$(NAME)` findings).
    pub written_at: Option<(&'a Location, u32)>,
}

/// The effective environment of one container.
#[derive(Clone, Debug, Default)]
pub struct ContainerEnv<'a> {
    pub workload: usize,
    pub container: usize,
    /// Effective variables, in the order they were first defined.
    pub vars: Vec<ResolvedVar<'a>>,
    /// Some `envFrom` source is not in the input, so any variable may be set.
    pub opaque: bool,
    /// Some variable's name starts with `NATS_`: the container is a NATS client. Kept
    /// apart because the lint context keeps only the variables its rules read.
    pub nats_client: bool,
}

impl<'a> ContainerEnv<'a> {
    pub fn get(&self, name: &str) -> Option<&ResolvedVar<'a>> {
        self.vars.iter().find(|var| var.name == name)
    }
}

/// Finds ConfigMaps and Secrets by kind, namespace and name.
pub struct ConfigIndex<'a> {
    by_name: FxHashMap<(RefKind, &'a str, &'a str), usize>,
}

impl<'a> ConfigIndex<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        let by_name = inventory
            .config_data
            .iter()
            .enumerate()
            .map(|(index, data)| {
                (
                    (
                        data.kind,
                        data.object.namespace.as_str(),
                        data.object.name.as_str(),
                    ),
                    index,
                )
            })
            .collect();
        ConfigIndex { by_name }
    }

    pub fn find(&self, kind: RefKind, namespace: &str, name: &str) -> Option<usize> {
        self.by_name.get(&(kind, namespace, name)).copied()
    }
}

/// Resolves the env of `container` of the workload at `workload`.
pub fn resolve<'a>(
    inventory: &'a Inventory,
    index: &ConfigIndex<'_>,
    workload: usize,
    container_index: usize,
) -> ContainerEnv<'a> {
    let owner = &inventory.workloads[workload];
    let container: &Container = &owner.containers[container_index];
    let namespace = owner.object.namespace.as_str();
    let mut env = Environment::default();
    let mut opaque = false;
    let templating = matches!(owner.platform, Platform::Compose | Platform::EnvFile);

    for var in &container.base_env {
        if let EnvSource::Value(value) = &var.source {
            env.set(
                Cow::Borrowed(&var.name),
                literal(value, &var.name, templating),
                Vec::new(),
            );
        }
    }
    for source in &container.env_from {
        match index.find(source.kind, namespace, &source.name) {
            Some(found) => {
                let data: &ConfigData = &inventory.config_data[found];
                for entry in &data.entries {
                    let name = if source.prefix.is_empty() {
                        Cow::Borrowed(entry.key.as_str())
                    } else {
                        Cow::Owned(format!("{}{}", source.prefix, entry.key))
                    };
                    let value = match &entry.value {
                        Some(value) => Resolved::Known {
                            text: Cow::Borrowed(&value.text),
                            origin: Origin {
                                location: &value.location,
                                width: value.width,
                                config: Some(found),
                                key: &entry.key,
                            },
                        },
                        None => Resolved::Unknown,
                    };
                    env.set(name, value, Vec::new());
                }
            }
            None => opaque = true,
        }
    }
    for var in &container.env {
        let (value, undefined) = match &var.source {
            EnvSource::Value(value) => {
                if value.not_scalar {
                    (Resolved::Unknown, Vec::new())
                } else if owner.platform == Platform::Kubernetes {
                    let (text, undefined, unknown) = env.expand(&value.text);
                    let resolved = if unknown {
                        Resolved::Unknown
                    } else {
                        Resolved::Known {
                            text,
                            origin: origin_of(value, &var.name),
                        }
                    };
                    (resolved, undefined)
                } else {
                    (literal(value, &var.name, templating), Vec::new())
                }
            }
            EnvSource::KeyRef(key_ref) => {
                let found = index
                    .find(key_ref.kind, namespace, &key_ref.name)
                    .and_then(|at| {
                        let entry = inventory.config_data[at].get(&key_ref.key)?;
                        let value = entry.value.as_ref()?;
                        Some(Resolved::Known {
                            text: Cow::Borrowed(&value.text),
                            origin: Origin {
                                location: &value.location,
                                width: value.width,
                                config: Some(at),
                                key: &entry.key,
                            },
                        })
                    });
                (found.unwrap_or(Resolved::Unknown), Vec::new())
            }
            EnvSource::Runtime => (Resolved::Unknown, Vec::new()),
            EnvSource::Empty => (
                Resolved::Known {
                    text: Cow::Borrowed(""),
                    origin: Origin {
                        location: &var.name_location,
                        width: var.name_width,
                        config: None,
                        key: &var.name,
                    },
                },
                Vec::new(),
            ),
        };
        let undefined = if opaque { Vec::new() } else { undefined };
        let written_at = match &var.source {
            EnvSource::Value(value) => Some((&value.location, value.width)),
            _ => None,
        };
        env.set_written(Cow::Borrowed(&var.name), value, undefined, written_at);
    }
    ContainerEnv {
        workload,
        container: container_index,
        nats_client: env.vars.iter().any(|var| var.name.starts_with("NATS_")),
        vars: env.vars,
        opaque,
    }
}

fn origin_of<'a>(value: &'a Value, key: &'a str) -> Origin<'a> {
    Origin {
        location: &value.location,
        width: value.width,
        config: None,
        key,
    }
}

/// A value taken as written. Compose and env-file values with `${VAR}` are interpolated
/// by compose from the host, so they are only known at run time.
fn literal<'a>(value: &'a Value, key: &'a str, templating: bool) -> Resolved<'a> {
    if templating && value.text.contains("${") {
        return Resolved::Unknown;
    }
    Resolved::Known {
        text: Cow::Borrowed(&value.text),
        origin: origin_of(value, key),
    }
}

#[derive(Default)]
struct Environment<'a> {
    vars: Vec<ResolvedVar<'a>>,
    positions: FxHashMap<Cow<'a, str>, usize>,
}

impl<'a> Environment<'a> {
    fn set(&mut self, name: Cow<'a, str>, value: Resolved<'a>, undefined: Vec<String>) {
        self.set_written(name, value, undefined, None);
    }

    fn set_written(
        &mut self,
        name: Cow<'a, str>,
        value: Resolved<'a>,
        undefined: Vec<String>,
        written_at: Option<(&'a Location, u32)>,
    ) {
        match self.positions.get(name.as_ref()) {
            Some(&at) => {
                self.vars[at] = ResolvedVar {
                    name,
                    value,
                    undefined,
                    written_at,
                }
            }
            None => {
                self.positions.insert(name.clone(), self.vars.len());
                self.vars.push(ResolvedVar {
                    name,
                    value,
                    undefined,
                    written_at,
                });
            }
        }
    }

    /// Expands `$(NAME)` and `$$`. Returns the text, the names that are not defined, and
    /// whether a referenced variable has a value only known at run time.
    fn expand(&self, text: &'a str) -> (Cow<'a, str>, Vec<String>, bool) {
        if !text.contains('$') {
            return (Cow::Borrowed(text), Vec::new(), false);
        }
        let mut out = String::with_capacity(text.len());
        let mut undefined = Vec::new();
        let mut unknown = false;
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some(close) = after.strip_prefix('(').and_then(|inner| inner.find(')')) {
                let name = &after[1..=close];
                match self.positions.get(name).map(|&i| &self.vars[i].value) {
                    Some(Resolved::Known { text, .. }) => out.push_str(text),
                    Some(Resolved::Unknown) => unknown = true,
                    None => {
                        undefined.push(name.to_string());
                        out.push_str(&rest[at..at + close + 3]);
                    }
                }
                rest = &after[close + 2..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        (Cow::Owned(out), undefined, unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_defined_variables_and_escapes() {
        let mut env = Environment::default();
        let location = Location::new(&std::sync::Arc::from("f"), 1, 1);
        let origin = Origin {
            location: &location,
            width: 1,
            config: None,
            key: "HOST",
        };
        env.set(
            Cow::Borrowed("HOST"),
            Resolved::Known {
                text: "nats-server".into(),
                origin,
            },
            Vec::new(),
        );
        let (text, undefined, unknown) = env.expand("nats://$(HOST):$(PORT)/$$(HOST)");
        assert_eq!(text, "nats://nats-server:$(PORT)/$(HOST)");
        assert_eq!(undefined, ["PORT"]);
        assert!(!unknown);
    }
}
