//! The facts the linter keeps from its inputs: workloads with their containers and env,
//! ConfigMaps and Secrets, Services, Namespaces and NetworkPolicies. Documents are
//! dropped once these are extracted.

use crate::diagnostic::{Location, ObjectRef};
use crate::manifest::yaml::{Node, Style};
use std::collections::BTreeMap;

/// A scalar as written in an input, with where it was written.
#[derive(Clone, Debug)]
pub struct Value {
    pub text: String,
    pub location: Location,
    pub width: u32,
    /// `None` for inputs that are not YAML (.env files, the process environment).
    pub style: Option<Style>,
    /// Set for a YAML value that is not a scalar (a mapping where a string belongs).
    pub not_scalar: bool,
}

/// Where a group of env variables comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Kubernetes,
    Compose,
    EnvFile,
    ProcessEnv,
}

/// Metadata shared by every object.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: String,
    pub name: String,
    /// The namespace the object lives in (`--namespace` when the manifest names none).
    pub namespace: String,
    pub location: Location,
    /// Codes or rule names listed in the `nats-doctor/ignore` annotation.
    pub ignore: Vec<String>,
}

impl Object {
    pub fn reference(&self, platform: Platform) -> ObjectRef {
        ObjectRef {
            kind: self.kind.clone(),
            namespace: (platform == Platform::Kubernetes).then(|| self.namespace.clone()),
            name: self.name.clone(),
        }
    }

    pub fn ignores(&self, code: &str, name: &str) -> bool {
        self.ignore
            .iter()
            .any(|entry| entry.eq_ignore_ascii_case(code) || entry == name || entry == "all")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    ConfigMap,
    Secret,
}

impl RefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::ConfigMap => "ConfigMap",
            RefKind::Secret => "Secret",
        }
    }
}

/// `valueFrom.configMapKeyRef` / `secretKeyRef`.
#[derive(Clone, Debug)]
pub struct KeyRef {
    pub kind: RefKind,
    pub name: String,
    pub key: String,
    pub optional: bool,
    pub location: Location,
    pub width: u32,
}

#[derive(Clone, Debug)]
pub enum EnvSource {
    Value(Value),
    KeyRef(KeyRef),
    /// `fieldRef`, `resourceFieldRef`: known only at run time.
    Runtime,
    /// Neither `value` nor `valueFrom`: the empty string.
    Empty,
}

#[derive(Clone, Debug)]
pub struct EnvVar {
    pub name: String,
    pub name_location: Location,
    pub name_width: u32,
    pub source: EnvSource,
}

/// One `envFrom` entry.
#[derive(Clone, Debug)]
pub struct EnvFrom {
    pub kind: RefKind,
    pub name: String,
    pub prefix: String,
    pub optional: bool,
    pub location: Location,
    pub width: u32,
}

#[derive(Clone, Debug)]
pub struct ContainerPort {
    pub number: u16,
    pub name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Container {
    pub name: String,
    pub location: Location,
    pub width: u32,
    /// Variables set before `envFrom` and `env`: a compose service's `env_file`.
    pub base_env: Vec<EnvVar>,
    pub env_from: Vec<EnvFrom>,
    pub env: Vec<EnvVar>,
    pub ports: Vec<ContainerPort>,
}

/// Anything that runs with an environment: a Kubernetes pod template, a compose service,
/// an env file or the process environment.
#[derive(Clone, Debug)]
pub struct Workload {
    pub object: Object,
    pub platform: Platform,
    /// Labels of the pods (from the pod template, not the workload's own metadata).
    pub pod_labels: BTreeMap<String, String>,
    pub pod_ignore: Vec<String>,
    pub containers: Vec<Container>,
}

impl Workload {
    pub fn reference(&self) -> ObjectRef {
        self.object.reference(self.platform)
    }

    pub fn ignores(&self, code: &str, name: &str) -> bool {
        self.object.ignores(code, name)
            || self
                .pod_ignore
                .iter()
                .any(|entry| entry.eq_ignore_ascii_case(code) || entry == name || entry == "all")
    }
}

/// One key of a ConfigMap's `data` or a Secret's `data`/`stringData`.
#[derive(Clone, Debug)]
pub struct DataEntry {
    pub key: String,
    /// The decoded value; `None` when a Secret value is not valid base64.
    pub value: Option<Value>,
}

/// A ConfigMap or a Secret.
#[derive(Clone, Debug)]
pub struct ConfigData {
    pub object: Object,
    pub kind: RefKind,
    pub entries: Vec<DataEntry>,
}

impl ConfigData {
    pub fn get(&self, key: &str) -> Option<&DataEntry> {
        // Later keys win, as when Kubernetes merges `data` and `stringData`.
        self.entries.iter().rev().find(|entry| entry.key == key)
    }
}

#[derive(Clone, Debug)]
pub struct ServicePort {
    pub port: u16,
    pub name: Option<String>,
    pub target_port: Option<String>,
    pub protocol: String,
    pub app_protocol: Option<String>,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub object: Object,
    pub ports: Vec<ServicePort>,
    pub selector: BTreeMap<String, String>,
    pub headless: bool,
}

#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub location: Location,
}

/// A NetworkPolicy, kept as its `spec` node until the policy rules give it a model.
#[derive(Clone, Debug)]
pub struct NetworkPolicy {
    pub object: Object,
    pub spec: Option<Node>,
}

/// Everything extracted from the inputs.
#[derive(Debug, Default)]
pub struct Inventory {
    pub workloads: Vec<Workload>,
    pub config_data: Vec<ConfigData>,
    pub services: Vec<Service>,
    pub namespaces: Vec<Namespace>,
    pub network_policies: Vec<NetworkPolicy>,
    /// Namespaces of every object, in the order first seen.
    pub object_namespaces: Vec<String>,
    pub objects: usize,
}

impl Inventory {
    pub fn append(&mut self, mut other: Inventory) {
        self.workloads.append(&mut other.workloads);
        self.config_data.append(&mut other.config_data);
        self.services.append(&mut other.services);
        self.namespaces.append(&mut other.namespaces);
        self.network_policies.append(&mut other.network_policies);
        self.object_namespaces.append(&mut other.object_namespaces);
        self.objects += other.objects;
    }
}
