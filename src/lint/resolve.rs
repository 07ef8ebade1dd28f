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
    /// Index into `Inventory::config_data` when the value is a ConfigMap or Secret key
    /// (see [`Origin::config`]). 32 bits: the context keeps an origin for every NATS
    /// setting of the input, and an input of 4 billion ConfigMaps cannot be read.
    pub config_index: Option<u32>,
    /// The variable or key name at the place the value is written.
    pub key: &'a str,
}

impl Origin<'_> {
    /// Index into `Inventory::config_data` when the value is a ConfigMap or Secret key.
    pub fn config(&self) -> Option<usize> {
        self.config_index.map(|index| index as usize)
    }
}

/// The index of a ConfigMap or Secret as an origin keeps it.
pub(crate) fn config_index(index: usize) -> Option<u32> {
    u32::try_from(index).ok()
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
    pub undefined: Box<[String]>,
    /// Where an `env[].value` is written (for `$(NAME)` findings).
    pub written_at: Option<(&'a Location, u32)>,
    /// The name was made by an `envFrom` prefix (`APP_` + `NATS_URL`): the app sees
    /// it under the new name only.
    pub prefixed: bool,
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
    /// Where the environment is larger than Linux lets the container start with (boxed:
    /// it is rare, and the context keeps one of these per container).
    pub oversize: Option<Box<Oversize<'a>>>,
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

/// [`ConfigIndex::find`] that keeps its last answer. A container's references name the
/// same ConfigMap one after the other (four of its six variables on the shared benchmark
/// corpus), and comparing the names again is cheaper than hashing them into a map of
/// twenty thousand entries.
#[derive(Default)]
pub struct LastFound<'q> {
    last: Option<(RefKind, &'q str, &'q str, Option<usize>)>,
}

impl<'q> LastFound<'q> {
    pub fn find(
        &mut self,
        index: &ConfigIndex<'_>,
        kind: RefKind,
        namespace: &'q str,
        name: &'q str,
    ) -> Option<usize> {
        if let Some((last_kind, last_namespace, last_name, found)) = self.last {
            if last_kind == kind && last_name == name && last_namespace == namespace {
                return found;
            }
        }
        let found = index.find(kind, namespace, name);
        self.last = Some((kind, namespace, name, found));
        found
    }
}

/// Linux refuses to start a program when one string of its environment, `NAME=value`
/// with its terminating NUL, is longer than `MAX_ARG_STRLEN`: 32 pages, 131,072 bytes
/// with the 4 KiB pages of x86-64 (`include/uapi/linux/binfmts.h`; execve(2), "Limits
/// on size of arguments and environment"). `execve` fails with `E2BIG` and the
/// container does not start. The kubelet's own `$(VAR)` expansion has no limit.
pub const MAX_ENV_STRING: usize = 32 * 4096;

/// All strings of the arguments and the environment, and a pointer to each, may take a
/// quarter of the stack limit and never more than three quarters of `_STK_LIM` (8 MiB),
/// 6 MiB, whatever the limit (`fs/exec.c`, `bprm_stack_limits`): an environment larger
/// than that cannot start on any Linux.
pub const MAX_ENVIRONMENT: usize = 6 * 1024 * 1024;

/// The most bytes `$(VAR)` expansion builds in one run of the linter. A real expansion
/// adds a host name to a URL; a hostile input stays within the limits above and still
/// builds gigabytes (a value doubling through `$(VAR)` up to 128 KiB in each of
/// thousands of containers). Past this budget values are taken as unknown, and an input
/// error says where expansion stopped.
pub const EXPANSION_BUDGET: usize = 64 * 1024 * 1024;

/// What the expansions of a run may still build.
#[derive(Debug)]
pub struct Budget<'a> {
    remaining: usize,
    /// The first value left unexpanded because the budget ran out.
    pub exhausted_at: Option<(&'a Location, &'a str)>,
}

impl Budget<'_> {
    pub fn new(bytes: usize) -> Self {
        Budget {
            remaining: bytes,
            exhausted_at: None,
        }
    }
}

/// Why a container's environment is too large to start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OversizeKind {
    /// One `NAME=value` string is longer than [`MAX_ENV_STRING`].
    String,
    /// Every string with its pointer is larger than [`MAX_ENVIRONMENT`].
    Environment,
}

/// The variable at which a container's environment is too large (the first one that is
/// too long, or the one that takes the whole past its limit).
#[derive(Clone, Debug)]
pub struct Oversize<'a> {
    pub kind: OversizeKind,
    pub name: Cow<'a, str>,
    /// Where the variable's value is defined: its `env` entry, or the ConfigMap or
    /// Secret key it comes from.
    pub location: &'a Location,
    pub width: u32,
    /// Bytes of the variable's value (for `String`), of every `NAME=value` string with
    /// its NUL and pointer (for `Environment`).
    pub length: usize,
    /// Later variables whose strings are too long too.
    pub others: usize,
}

/// Resolves the env of `container` of the workload at `workload`, building at most what
/// `budget` still allows.
pub fn resolve<'a>(
    inventory: &'a Inventory,
    index: &ConfigIndex<'_>,
    workload: usize,
    container_index: usize,
    budget: &mut Budget<'a>,
) -> ContainerEnv<'a> {
    let owner = &inventory.workloads[workload];
    let container: &Container = &owner.containers[container_index];
    let namespace = owner.object.namespace.as_str();
    let mut last_found = LastFound::default();
    // Room for the container's own variables and, for the ConfigMaps it reads whole,
    // those of the first: most containers' lists are set once without growing.
    let first_source = container
        .env_from
        .first()
        .and_then(|source| last_found.find(index, source.kind, namespace, &source.name))
        .map_or(0, |found| inventory.config_data[found].entries.len());
    let mut env =
        Environment::with_capacity(container.base_env.len() + container.env.len() + first_source);
    let mut opaque = false;
    let templating = matches!(owner.platform, Platform::Compose | Platform::EnvFile);

    for var in &container.base_env {
        if let EnvSource::Value(value) = &var.source {
            env.set(
                Cow::Borrowed(&var.name),
                literal(value, &var.name, templating),
                Vec::new(),
                None,
                (&value.location, value.width),
            );
        }
    }
    for source in &container.env_from {
        match last_found.find(index, source.kind, namespace, &source.name) {
            Some(found) => {
                let data: &ConfigData = &inventory.config_data[found];
                for entry in &data.entries {
                    let name = if source.prefix.is_empty() {
                        Cow::Borrowed(entry.key.as_str())
                    } else {
                        Cow::Owned(format!("{}{}", source.prefix, entry.key))
                    };
                    let (value, place) = match &entry.value {
                        Some(value) => (
                            Resolved::Known {
                                text: Cow::Borrowed(&value.text),
                                origin: Origin {
                                    location: &value.location,
                                    width: value.width,
                                    config_index: config_index(found),
                                    key: &entry.key,
                                },
                            },
                            (&value.location, value.width),
                        ),
                        None => (Resolved::Unknown, (&source.location, source.width)),
                    };
                    let at = env.set(name, value, Vec::new(), None, place);
                    env.vars[at].prefixed = !source.prefix.is_empty();
                }
            }
            None => opaque = true,
        }
    }
    for var in &container.env {
        let mut place = (&var.name_location, var.name_width);
        // The length of a value too long to build.
        let mut too_long = None;
        let (value, undefined) = match &var.source {
            EnvSource::Value(value) => {
                place = (&value.location, value.width);
                if value.not_scalar {
                    (Resolved::Unknown, Vec::new())
                } else if owner.platform == Platform::Kubernetes {
                    // The value may be at most as long as the string of this name allows.
                    let limit = MAX_ENV_STRING.saturating_sub(var.name.len() + 2);
                    let (expansion, undefined) = env.expand(&value.text, limit, budget);
                    let resolved = match expansion {
                        Expansion::Text(text) => Resolved::Known {
                            text,
                            origin: origin_of(value, &var.name),
                        },
                        Expansion::Unknown => Resolved::Unknown,
                        Expansion::TooLong(length) => {
                            too_long = Some(length);
                            Resolved::Unknown
                        }
                        Expansion::OverBudget => {
                            budget
                                .exhausted_at
                                .get_or_insert((&value.location, &var.name));
                            Resolved::Unknown
                        }
                    };
                    (resolved, undefined)
                } else {
                    (literal(value, &var.name, templating), Vec::new())
                }
            }
            EnvSource::KeyRef(key_ref) => {
                place = (&key_ref.location, key_ref.width);
                let found = last_found
                    .find(index, key_ref.kind, namespace, &key_ref.name)
                    .and_then(|at| {
                        let entry = inventory.config_data[at].get(&key_ref.key)?;
                        let value = entry.value.as_ref()?;
                        Some(Resolved::Known {
                            text: Cow::Borrowed(&value.text),
                            origin: Origin {
                                location: &value.location,
                                width: value.width,
                                config_index: config_index(at),
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
                        config_index: None,
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
        env.set_sized(
            Cow::Borrowed(&var.name),
            value,
            undefined,
            written_at,
            place,
            too_long,
        );
    }
    let oversize = (owner.platform == Platform::Kubernetes)
        .then(|| env.oversize())
        .flatten()
        .map(Box::new);
    ContainerEnv {
        workload,
        container: container_index,
        nats_client: env.vars.iter().any(|var| var.name.starts_with("NATS_")),
        vars: env.vars,
        opaque,
        oversize,
    }
}

fn origin_of<'a>(value: &'a Value, key: &'a str) -> Origin<'a> {
    Origin {
        location: &value.location,
        width: value.width,
        config_index: None,
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

/// The outcome of expanding one value.
enum Expansion<'a> {
    Text(Cow<'a, str>),
    /// A referenced variable is known only at run time.
    Unknown,
    /// The expanded value would be this many bytes, more than its limit: not built.
    TooLong(usize),
    /// The run's expansion budget is spent: not built.
    OverBudget,
}

/// One piece of a value that may hold `$(NAME)` references.
enum Piece<'t> {
    Text(&'t str),
    /// `$(NAME)`, with the text as written (kept when `NAME` is not defined).
    Reference {
        name: &'t str,
        written: &'t str,
    },
}

/// Splits a value into text and references as the kubelet reads it: `$$` is one `$`,
/// `$(NAME)` a reference, any other `$` itself.
fn pieces(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(at) = rest.find('$') else {
            return Some(Piece::Text(std::mem::take(&mut rest)));
        };
        if at > 0 {
            let (before, after) = rest.split_at(at);
            rest = after;
            return Some(Piece::Text(before));
        }
        let after = &rest[1..];
        if let Some(tail) = after.strip_prefix('$') {
            rest = tail;
            return Some(Piece::Text("$"));
        }
        if let Some(close) = after.strip_prefix('(').and_then(|inner| inner.find(')')) {
            let written = &rest[..close + 3];
            rest = &rest[close + 3..];
            return Some(Piece::Reference {
                name: &written[2..written.len() - 1],
                written,
            });
        }
        rest = after;
        Some(Piece::Text("$"))
    })
}

#[derive(Default)]
struct Environment<'a> {
    vars: Vec<ResolvedVar<'a>>,
    /// For each variable, the length of its value as the kubelet builds it (0 when it is
    /// known only at run time) and where that value is defined.
    lengths: Vec<(usize, (&'a Location, u32))>,
    positions: FxHashMap<Cow<'a, str>, usize>,
}

impl<'a> Environment<'a> {
    fn with_capacity(variables: usize) -> Self {
        Environment {
            vars: Vec::with_capacity(variables),
            lengths: Vec::with_capacity(variables),
            positions: FxHashMap::with_capacity_and_hasher(variables, Default::default()),
        }
    }

    fn set(
        &mut self,
        name: Cow<'a, str>,
        value: Resolved<'a>,
        undefined: Vec<String>,
        written_at: Option<(&'a Location, u32)>,
        place: (&'a Location, u32),
    ) -> usize {
        self.set_sized(name, value, undefined, written_at, place, None)
    }

    /// Sets a variable; `too_long` is the length of a value too long to be built, which
    /// is then unknown. Returns the variable's place.
    fn set_sized(
        &mut self,
        name: Cow<'a, str>,
        value: Resolved<'a>,
        undefined: Vec<String>,
        written_at: Option<(&'a Location, u32)>,
        place: (&'a Location, u32),
        too_long: Option<usize>,
    ) -> usize {
        let length = match (&value, too_long) {
            (_, Some(length)) => length,
            (Resolved::Known { text, .. }, None) => text.len(),
            (Resolved::Unknown, None) => 0,
        };
        let var = ResolvedVar {
            name,
            value,
            undefined: undefined.into_boxed_slice(),
            written_at,
            prefixed: false,
        };
        match self.positions.get(var.name.as_ref()) {
            Some(&at) => {
                self.vars[at] = var;
                self.lengths[at] = (length, place);
                at
            }
            None => {
                let at = self.vars.len();
                self.positions.insert(var.name.clone(), at);
                self.vars.push(var);
                self.lengths.push((length, place));
                at
            }
        }
    }

    /// Expands `$(NAME)` and `$$` in a value of at most `limit` bytes. Returns the
    /// outcome and the names that are not defined. The length is worked out from the
    /// lengths of the referenced values first, so that a value too long for its limit,
    /// or for the budget, is never built: the work is the input's plus what is built.
    fn expand(
        &self,
        text: &'a str,
        limit: usize,
        budget: &mut Budget<'_>,
    ) -> (Expansion<'a>, Vec<String>) {
        if !text.contains('$') {
            return if text.len() > limit {
                (Expansion::TooLong(text.len()), Vec::new())
            } else {
                (Expansion::Text(Cow::Borrowed(text)), Vec::new())
            };
        }
        let mut undefined = Vec::new();
        let mut unknown = false;
        let mut length = 0usize;
        for piece in pieces(text) {
            let added = match piece {
                Piece::Text(text) => text.len(),
                Piece::Reference { name, written } => match self.positions.get(name) {
                    Some(&at) => {
                        unknown |= matches!(self.vars[at].value, Resolved::Unknown);
                        self.lengths[at].0
                    }
                    None => {
                        undefined.push(name.to_string());
                        written.len()
                    }
                },
            };
            length = length.saturating_add(added);
        }
        // A value known only at run time adds to the length, so this much is certain.
        if length > limit {
            return (Expansion::TooLong(length), undefined);
        }
        if unknown {
            return (Expansion::Unknown, undefined);
        }
        if length > budget.remaining {
            budget.remaining = 0;
            return (Expansion::OverBudget, undefined);
        }
        budget.remaining -= length;
        let mut out = String::with_capacity(length);
        for piece in pieces(text) {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Reference { name, written } => match self.positions.get(name) {
                    Some(&at) => {
                        if let Resolved::Known { text, .. } = &self.vars[at].value {
                            out.push_str(text);
                        }
                    }
                    None => out.push_str(written),
                },
            }
        }
        (Expansion::Text(Cow::Owned(out)), undefined)
    }

    /// Where the container's environment is too large to start with, if it is.
    fn oversize(&self) -> Option<Oversize<'a>> {
        let string = |at: usize| {
            self.lengths[at]
                .0
                .saturating_add(self.vars[at].name.len() + 2)
        };
        let mut too_long = (0..self.vars.len()).filter(|&at| string(at) > MAX_ENV_STRING);
        let found = |at: usize, kind, length, others| {
            let (_, (location, width)) = self.lengths[at];
            Oversize {
                kind,
                name: self.vars[at].name.clone(),
                location,
                width,
                length,
                others,
            }
        };
        if let Some(first) = too_long.next() {
            let length = self.lengths[first].0;
            return Some(found(first, OversizeKind::String, length, too_long.count()));
        }
        let mut total = 0usize;
        (0..self.vars.len()).find_map(|at| {
            total = total.saturating_add(string(at) + std::mem::size_of::<u64>());
            (total > MAX_ENVIRONMENT).then(|| found(at, OversizeKind::Environment, total, 0))
        })
    }
}

#[cfg(test)]
mod tests;
