//! The facts the linter keeps from its inputs: workloads with their containers and env,
//! ConfigMaps and Secrets, Services, Namespaces and NetworkPolicies. Documents are
//! dropped once these are extracted.

use crate::diagnostic::{Location, ObjectRef};
use crate::manifest::yaml::Style;

/// A text kept from the input. Names, keys and values in manifests are short, and up to
/// 24 bytes are stored inline, without an allocation of their own: on a large input that
/// is most of the hundreds of thousands of texts the facts hold.
pub type Text = compact_str::CompactString;

/// Labels or `matchLabels`: a few pairs sorted by key. Objects carry one to five
/// labels; a sorted boxed slice costs a fraction of a map's memory for that, and the
/// linter keeps one per workload, Service and selector of the input.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Box<[(Text, Text)]>);

impl Labels {
    pub fn get(&self, key: &str) -> Option<&Text> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|at| &self.0[at].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Text, &Text)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<K: Into<Text>, V: Into<Text>> FromIterator<(K, V)> for Labels {
    /// The last value of a repeated key wins, as when YAML maps are decoded.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let pairs = pairs.into_iter();
        // Room for as many pairs as there may be: labels are read from a mapping, and a
        // filter over its entries would otherwise start at four and grow.
        let mut pairs: Vec<(Text, Text)> = {
            let mut all = Vec::with_capacity(crate::memory::room_for(pairs.size_hint()));
            all.extend(pairs.map(|(key, value)| (key.into(), value.into())));
            all
        };
        pairs.reverse();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, earlier| later.0 == earlier.0);
        Labels(crate::memory::exact(pairs))
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a Text, &'a Text);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, Text)>,
        fn(&'a (Text, Text)) -> (&'a Text, &'a Text),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// A scalar as written in an input, with where it was written.
#[derive(Clone, Debug)]
pub struct Value {
    pub text: Text,
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

/// The namespace of the objects that name none, when `--namespace` does not name it
/// either. Such objects are applied together into one namespace chosen at deploy time
/// (`kubectl apply -n`, a Helm release, a kustomization's `namespace:`), which the input
/// does not name: they form one group. No namespace can be called this, so the group
/// is one key among the namespaces in every index, and references inside the group
/// resolve as inside any namespace.
pub const GROUP_NAMESPACE: &str = "";

/// The release namespace charts are rendered with when `--namespace` names none, where
/// Helm would write `default` for `.Release.Namespace`. A release is applied into one
/// namespace chosen at deploy time, so objects and URLs that name this one belong to
/// the group, like the release's objects that name no namespace.
pub const RELEASE_NAMESPACE: &str = "nats-doctor-release-namespace";

/// Metadata shared by every object.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: Text,
    pub name: Text,
    /// The namespace the object lives in: the manifest's, else `--namespace`, else
    /// [`GROUP_NAMESPACE`].
    pub namespace: Text,
    pub location: Location,
    /// Codes or rule names listed in the `nats-doctor/ignore` annotation.
    pub ignore: Box<[String]>,
}

impl Object {
    pub fn reference(&self, platform: Platform) -> ObjectRef {
        ObjectRef {
            kind: self.kind.to_string(),
            // An object of the group has no namespace the output could name.
            namespace: (platform == Platform::Kubernetes && self.namespace != GROUP_NAMESPACE)
                .then(|| self.namespace.to_string()),
            name: self.name.to_string(),
        }
    }

    pub fn ignores(&self, code: &str, name: &str) -> bool {
        self.ignore
            .iter()
            .any(|entry| entry.eq_ignore_ascii_case(code) || entry == name || entry == "all")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    pub name: Text,
    pub key: Text,
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
    pub name: Text,
    pub name_location: Location,
    pub name_width: u32,
    pub source: EnvSource,
}

/// One `envFrom` entry.
#[derive(Clone, Debug)]
pub struct EnvFrom {
    pub kind: RefKind,
    pub name: Text,
    pub prefix: Text,
    pub optional: bool,
    pub location: Location,
    pub width: u32,
}

#[derive(Clone, Debug)]
pub struct ContainerPort {
    pub number: u16,
    pub name: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct Container {
    pub name: Text,
    pub location: Location,
    pub width: u32,
    /// The container runs a NATS server: its image is a NATS server image, or its
    /// command runs `nats-server` or reads a `nats*.conf` (see
    /// `crate::manifest::integrations::runs_nats_server`).
    pub nats_server: bool,
    /// Variables set before `envFrom` and `env`: a compose service's `env_file`.
    pub base_env: Box<[EnvVar]>,
    pub env_from: Box<[EnvFrom]>,
    pub env: Box<[EnvVar]>,
    pub ports: Box<[ContainerPort]>,
}

/// Anything that runs with an environment: a Kubernetes pod template, a compose service,
/// an env file or the process environment.
#[derive(Clone, Debug)]
pub struct Workload {
    pub object: Object,
    pub platform: Platform,
    /// Labels of the pods (from the pod template, not the workload's own metadata).
    pub pod_labels: Labels,
    pub pod_ignore: Box<[String]>,
    pub containers: Box<[Container]>,
}

impl Workload {
    /// One container with only an environment: an env file, the process environment, or
    /// the settings `check` reads, located at line 1 of `file`.
    pub fn environment(
        file: &crate::diagnostic::FileName,
        kind: &str,
        name: String,
        namespace: String,
        platform: Platform,
        env: Vec<EnvVar>,
    ) -> Workload {
        let location = Location::new(file, 1, 1);
        Workload {
            object: Object {
                kind: kind.into(),
                name: name.into(),
                namespace: namespace.into(),
                location: location.clone(),
                ignore: Box::default(),
            },
            platform,
            pod_labels: Labels::default(),
            pod_ignore: Box::default(),
            containers: Box::new([Container {
                name: Text::default(),
                location,
                width: 1,
                nats_server: false,
                base_env: Box::default(),
                env_from: Box::default(),
                env: crate::memory::exact(env),
                ports: Box::default(),
            }]),
        }
    }

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
    pub key: Text,
    /// The decoded value; `None` when a Secret value is not valid base64.
    pub value: Option<Value>,
}

/// A ConfigMap or a Secret.
#[derive(Clone, Debug)]
pub struct ConfigData {
    pub object: Object,
    pub kind: RefKind,
    pub entries: Box<[DataEntry]>,
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
    pub name: Option<Text>,
    pub target_port: Option<Text>,
    pub protocol: Text,
    pub app_protocol: Option<Text>,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub object: Object,
    pub ports: Box<[ServicePort]>,
    pub selector: Labels,
    pub headless: bool,
}

#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: Text,
    pub labels: Labels,
    pub location: Location,
}

/// The label every namespace carries with its own name (Kubernetes 1.21 and later).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// An operator of a `matchExpressions` requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug)]
pub struct SelectorRequirement {
    pub key: Text,
    pub operator: SelectorOperator,
    pub values: Vec<Text>,
}

/// A label selector (`matchLabels` and `matchExpressions`). The empty selector selects
/// everything.
#[derive(Clone, Debug, Default)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub expressions: Vec<SelectorRequirement>,
    /// Something the API server would reject or this linter cannot read (an unknown
    /// operator): what the selector matches is unknown.
    pub unreadable: bool,
}

/// What a selector, a peer or a rule says about a pod or a packet, when the input may
/// not hold every fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Yes,
    No,
    /// The input cannot decide (a label the input does not show, a CIDR).
    Unknown,
}

impl Decision {
    /// Both must hold.
    pub fn and(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::No, _) | (_, Decision::No) => Decision::No,
            (Decision::Yes, Decision::Yes) => Decision::Yes,
            _ => Decision::Unknown,
        }
    }

    /// Either may hold.
    pub fn or(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::Yes, _) | (_, Decision::Yes) => Decision::Yes,
            (Decision::No, Decision::No) => Decision::No,
            _ => Decision::Unknown,
        }
    }

    /// `Yes` when any item says yes, `No` when all say no (and for no items at all).
    pub fn any<I: IntoIterator<Item = Decision>>(items: I) -> Decision {
        let mut result = Decision::No;
        for item in items {
            result = result.or(item);
            if result == Decision::Yes {
                break;
            }
        }
        result
    }
}

/// Labels of a pod or namespace as far as the input shows them. `complete` is false when
/// the object may carry labels the input does not show (a Service's selector is only
/// some of its pods' labels; a namespace without a Namespace object has only its name).
#[derive(Clone, Copy, Debug)]
pub struct KnownLabels<'a> {
    pub labels: &'a Labels,
    pub complete: bool,
    /// A label known beyond `labels` (the namespace name label), as key and value.
    pub extra: Option<(&'a str, &'a str)>,
}

impl KnownLabels<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match self.extra {
            Some((extra_key, value)) if extra_key == key => Some(value),
            _ => self.labels.get(key).map(Text::as_str),
        }
    }
}

impl LabelSelector {
    /// Whether the selector selects an object with these labels.
    pub fn matches(&self, known: KnownLabels<'_>) -> Decision {
        if self.unreadable {
            return Decision::Unknown;
        }
        let mut result = Decision::Yes;
        let mut check = |key: &str, test: &dyn Fn(Option<&str>) -> bool| {
            let value = known.get(key);
            let decided = if value.is_none() && !known.complete {
                Decision::Unknown
            } else if test(value) {
                Decision::Yes
            } else {
                Decision::No
            };
            result = result.and(decided);
        };
        for (key, wanted) in &self.match_labels {
            check(key, &|value| value == Some(wanted.as_str()));
        }
        for requirement in &self.expressions {
            let values = &requirement.values;
            let test: &dyn Fn(Option<&str>) -> bool = match requirement.operator {
                SelectorOperator::In => {
                    &|value| value.is_some_and(|v| values.iter().any(|w| w == v))
                }
                SelectorOperator::NotIn => {
                    &|value| value.is_none_or(|v| !values.iter().any(|w| w == v))
                }
                SelectorOperator::Exists => &|value| value.is_some(),
                SelectorOperator::DoesNotExist => &|value| value.is_none(),
            };
            check(&requirement.key, test);
        }
        result
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty() && !self.unreadable
    }
}

/// `ipBlock` of a peer.
#[derive(Clone, Debug)]
pub struct IpBlock {
    pub cidr: Text,
    pub except: Vec<Text>,
}

/// One entry of `to` or `from`. Kubernetes combines the selectors of one peer with AND.
#[derive(Clone, Debug, Default)]
pub struct PolicyPeer {
    pub pod_selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub ip_block: Option<IpBlock>,
}

/// The `port` of a policy port: a number or a container port name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    Number(u16),
    Name(Text),
    /// Something else (a number out of range): matches nothing the linter can name.
    Invalid,
}

/// One entry of `ports`.
#[derive(Clone, Debug)]
pub struct PolicyPort {
    /// `None`: every port of the protocol.
    pub port: Option<PortSpec>,
    pub end_port: Option<u16>,
    /// Upper case; `TCP` when the manifest names none.
    pub protocol: Text,
}

/// One ingress or egress rule.
#[derive(Clone, Debug)]
pub struct PolicyRule {
    /// `to` or `from`; empty means every peer.
    pub peers: Box<[PolicyPeer]>,
    /// Empty means every port.
    pub ports: Box<[PolicyPort]>,
    pub location: Location,
}

/// Where the policy says it isolates one direction: the `policyTypes` entry, else the
/// `ingress`/`egress` key, else the `podSelector` key.
#[derive(Clone, Debug)]
pub struct Direction {
    pub rules: Box<[PolicyRule]>,
    pub location: Location,
    pub width: u32,
}

/// A NetworkPolicy with the semantics of the API: `policyTypes` already defaulted.
#[derive(Clone, Debug)]
pub struct NetworkPolicy {
    pub object: Object,
    pub pod_selector: LabelSelector,
    pub pod_selector_location: Location,
    pub pod_selector_width: u32,
    /// Set when the policy isolates the selected pods for ingress.
    pub ingress: Option<Direction>,
    /// Set when the policy isolates the selected pods for egress.
    pub egress: Option<Direction>,
}

/// A key written again in one mapping of a Kubernetes object or a compose file.
#[derive(Clone, Debug)]
pub struct DuplicateKey {
    /// The object (or compose service) the mapping belongs to; `None` for the keys of a
    /// compose file outside its services.
    pub object: Option<Object>,
    pub platform: Platform,
    pub key: Text,
    /// Where the key is written again.
    pub location: Location,
    pub width: u32,
    /// Where it is written first.
    pub first: Location,
    /// The mapping is a Secret's `data` or `stringData`, whose lines are never shown.
    pub secret_data: bool,
}

/// A NATS address written in a field of an object that is not an environment: a custom
/// resource of NACK, Dapr, KEDA, Argo Events and the other integrations of
/// [`crate::manifest::integrations::INTEGRATIONS`].
#[derive(Clone, Debug)]
pub struct AddressField {
    pub object: Object,
    /// The row of the integrations table the field was read by.
    pub integration: &'static crate::manifest::integrations::Integration,
    /// Where the field is in its object, as `spec.servers[0]`.
    pub path: Text,
    pub value: Value,
}

/// Everything extracted from the inputs.
#[derive(Debug, Default)]
pub struct Inventory {
    pub workloads: Vec<Workload>,
    pub address_fields: Vec<AddressField>,
    pub config_data: Vec<ConfigData>,
    pub services: Vec<Service>,
    pub namespaces: Vec<Namespace>,
    pub network_policies: Vec<NetworkPolicy>,
    /// Every namespace an object names.
    pub object_namespaces: std::collections::BTreeSet<String>,
    pub objects: usize,
    pub duplicate_keys: Vec<DuplicateKey>,
}

impl Inventory {
    pub fn append(&mut self, mut other: Inventory) {
        self.workloads.append(&mut other.workloads);
        self.address_fields.append(&mut other.address_fields);
        self.config_data.append(&mut other.config_data);
        self.services.append(&mut other.services);
        self.namespaces.append(&mut other.namespaces);
        self.network_policies.append(&mut other.network_policies);
        self.object_namespaces.append(&mut other.object_namespaces);
        self.objects += other.objects;
        self.duplicate_keys.append(&mut other.duplicate_keys);
    }

    /// Makes room for the lists of `others`, to be appended next, so that the lists end
    /// at their exact size with no spare capacity.
    pub fn reserve<'a>(&mut self, others: impl Iterator<Item = &'a Inventory> + Clone) {
        let total = |list: fn(&Inventory) -> usize| others.clone().map(list).sum::<usize>();
        self.workloads.reserve_exact(total(|i| i.workloads.len()));
        self.address_fields
            .reserve_exact(total(|i| i.address_fields.len()));
        self.config_data
            .reserve_exact(total(|i| i.config_data.len()));
        self.services.reserve_exact(total(|i| i.services.len()));
        self.namespaces.reserve_exact(total(|i| i.namespaces.len()));
        self.network_policies
            .reserve_exact(total(|i| i.network_policies.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn requirement(key: &str, operator: SelectorOperator, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| Text::from(*v)).collect(),
        }
    }

    #[test]
    fn selectors_follow_the_api_semantics() {
        let pod = labels(&[("app", "klines"), ("tier", "extraction")]);
        let complete = KnownLabels {
            labels: &pod,
            complete: true,
            extra: None,
        };
        assert_eq!(LabelSelector::default().matches(complete), Decision::Yes);
        let cases = [
            (
                SelectorOperator::In,
                &["extraction", "x"][..],
                Decision::Yes,
            ),
            (SelectorOperator::In, &["x"][..], Decision::No),
            (SelectorOperator::NotIn, &["x"][..], Decision::Yes),
            (SelectorOperator::NotIn, &["extraction"][..], Decision::No),
            (SelectorOperator::Exists, &[][..], Decision::Yes),
            (SelectorOperator::DoesNotExist, &[][..], Decision::No),
        ];
        for (operator, values, expected) in cases {
            let selector = LabelSelector {
                expressions: vec![requirement("tier", operator, values)],
                ..LabelSelector::default()
            };
            assert_eq!(
                selector.matches(complete),
                expected,
                "{operator:?} {values:?}"
            );
        }
        let absent = LabelSelector {
            expressions: vec![requirement("debug", SelectorOperator::NotIn, &["true"])],
            ..LabelSelector::default()
        };
        assert_eq!(absent.matches(complete), Decision::Yes);
    }

    #[test]
    fn labels_the_input_does_not_show_are_unknown() {
        let empty = Labels::default();
        let namespace = KnownLabels {
            labels: &empty,
            complete: false,
            extra: Some((NAMESPACE_NAME_LABEL, "nats")),
        };
        let by_name = LabelSelector {
            match_labels: labels(&[(NAMESPACE_NAME_LABEL, "nats")]),
            ..LabelSelector::default()
        };
        let other_name = LabelSelector {
            match_labels: labels(&[(NAMESPACE_NAME_LABEL, "apps")]),
            ..LabelSelector::default()
        };
        let by_team = LabelSelector {
            match_labels: labels(&[("team", "messaging")]),
            ..LabelSelector::default()
        };
        assert_eq!(by_name.matches(namespace), Decision::Yes);
        assert_eq!(other_name.matches(namespace), Decision::No);
        assert_eq!(by_team.matches(namespace), Decision::Unknown);
        assert_eq!(
            Decision::Unknown.and(Decision::No),
            Decision::No,
            "one known mismatch decides"
        );
        assert_eq!(Decision::any([]), Decision::No);
    }
}
