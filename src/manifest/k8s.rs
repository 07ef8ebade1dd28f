//! Kubernetes objects: turns a parsed document into the facts of `model`. Workloads are
//! recognised by shape (any object with a pod template), so every workload kind and
//! most CRDs that embed a pod template are read.

use crate::diagnostic::{FileName, Location};
use crate::manifest::integrations;
use crate::manifest::model::{
    AddressField, Container, ContainerPort, DataEntry, Direction, DuplicateKey, EnvFrom, EnvSource,
    EnvVar, Inventory, IpBlock, KeyRef, LabelSelector, Labels, Namespace, NetworkPolicy, Object,
    Platform, PolicyPeer, PolicyPort, PolicyRule, PortSpec, RefKind, SelectorOperator,
    SelectorRequirement, Service, ServicePort, Text, Value, Workload, GROUP_NAMESPACE,
    RELEASE_NAMESPACE,
};
use crate::manifest::yaml::{Document, Node, NodeKind, PathSegment};
use crate::memory::{exact, CollectExact};
use base64::Engine;

/// The annotation that silences codes for an object or a pod template.
pub const IGNORE_ANNOTATION: &str = "nats-doctor/ignore";

pub struct Extractor<'a> {
    pub file: &'a FileName,
    /// The text the documents were parsed from, for documents embedded in a value.
    pub text: Option<&'a str>,
    /// The namespace of objects that name none: `--namespace`, else [`GROUP_NAMESPACE`].
    pub default_namespace: &'a str,
    pub inventory: &'a mut Inventory,
}

impl Extractor<'_> {
    /// Reads one document: an object, or a `List` of objects.
    pub fn document(&mut self, document: &Document) {
        let root = &document.root;
        let is_list = root
            .str_at("kind")
            .is_some_and(|kind| kind.ends_with("List"));
        let list_items = root.get("items").filter(|_| is_list);
        match list_items {
            Some(items) => {
                for item in items.items() {
                    self.object(item);
                }
            }
            None => self.object(root),
        }
        for duplicate in &document.duplicate_keys {
            // The object the mapping belongs to: a List's item, or the document itself.
            let (node, path) = match (list_items, duplicate.path.as_slice()) {
                (Some(items), [PathSegment::Key(key), PathSegment::Index(index), rest @ ..])
                    if key == "items" =>
                {
                    (items.items().get(*index), rest)
                }
                _ => (Some(root), duplicate.path.as_slice()),
            };
            let Some(object) = node.and_then(|node| self.header(node)) else {
                continue;
            };
            let secret_data = object.kind == "Secret"
                && matches!(path, [PathSegment::Key(key)] if key == "data" || key == "stringData");
            self.inventory.duplicate_keys.push(DuplicateKey {
                object: Some(object),
                platform: Platform::Kubernetes,
                key: Text::from(duplicate.key.as_str()),
                location: Location::new(self.file, duplicate.line, duplicate.column),
                width: duplicate.width,
                first: Location::new(self.file, duplicate.first_line, duplicate.first_column),
                secret_data,
            });
        }
    }

    fn location(&self, node: &Node) -> Location {
        Location::new(self.file, node.line, node.column)
    }

    fn value(&self, node: &Node) -> Value {
        match node.as_scalar() {
            Some(scalar) => Value {
                text: scalar.text.clone(),
                location: self.location(node),
                width: node.width,
                style: (!scalar.tagged).then_some(scalar.style),
                not_scalar: false,
            },
            None => Value {
                text: Text::default(),
                location: self.location(node),
                width: node.width,
                style: None,
                not_scalar: true,
            },
        }
    }

    /// The kind, name, namespace and ignore list of an object; `None` without a kind.
    fn header(&self, node: &Node) -> Option<Object> {
        let kind = node.str_at("kind")?;
        let metadata = node.get("metadata");
        let name_node = metadata.and_then(|m| m.get("name"));
        let name = name_node.and_then(Node::as_str).unwrap_or_default();
        Some(Object {
            kind: kind.into(),
            name: name.into(),
            namespace: explicit_namespace(metadata)
                .unwrap_or(self.default_namespace)
                .into(),
            location: self.location(name_node.unwrap_or(node)),
            ignore: ignore_list(metadata),
        })
    }

    fn object(&mut self, node: &Node) {
        let Some(object) = self.header(node) else {
            return;
        };
        let kind = object.kind.clone();
        let kind = kind.as_str();
        let metadata = node.get("metadata");
        // `--namespace` names the namespace of objects that name none exactly as if they
        // named it; without it they belong to the group.
        let namespace = object.namespace.as_str();
        if namespace != GROUP_NAMESPACE && !self.inventory.object_namespaces.contains(namespace) {
            self.inventory
                .object_namespaces
                .insert(namespace.to_string());
        }
        self.inventory.objects += 1;
        self.address_fields(&object, node);
        match kind {
            "ConfigMap" => self.config_map(object, node),
            "Secret" => self.secret(object, node),
            "Service" => self.service(object, node),
            "Namespace" => self.inventory.namespaces.push(Namespace {
                name: object.name.clone(),
                labels: string_map(metadata.and_then(|m| m.get("labels"))),
                location: object.location,
            }),
            "NetworkPolicy" => {
                let policy = self.network_policy(object, node);
                self.inventory.network_policies.push(policy);
            }
            "Pod" => {
                if let Some(spec) = node.get("spec") {
                    self.workload(object, metadata, spec);
                }
            }
            _ => {
                let template = node
                    .path(&["spec", "template"])
                    .or_else(|| node.path(&["spec", "jobTemplate", "spec", "template"]));
                if let Some(spec) = template.and_then(|t| t.get("spec")) {
                    if spec.get("containers").is_some() {
                        self.workload(object, template.and_then(|t| t.get("metadata")), spec);
                    }
                }
            }
        }
    }

    /// The NATS address fields of the integrations table that the object has.
    fn address_fields(&mut self, object: &Object, node: &Node) {
        for found in integrations::find(node, self.text) {
            let mut value = self.value(found.node);
            if let Some((inner, place)) = &found.embedded {
                value = Value {
                    location: Location::new(
                        self.file,
                        place.indicator_line + inner.line,
                        place.indent + inner.column,
                    ),
                    width: inner.width,
                    ..self.value(inner)
                };
            }
            self.inventory.address_fields.push(AddressField {
                object: object.clone(),
                integration: found.integration,
                path: found.path.into(),
                value,
            });
        }
    }

    fn config_map(&mut self, object: Object, node: &Node) {
        let entries = node
            .get("data")
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .filter_map(|(key, value)| {
                Some(DataEntry {
                    key: key.as_str()?.into(),
                    value: Some(self.value(value)),
                })
            })
            .collect_exact();
        self.inventory
            .config_data
            .push(crate::manifest::model::ConfigData {
                object,
                kind: RefKind::ConfigMap,
                entries,
            });
    }

    fn secret(&mut self, object: Object, node: &Node) {
        let mut entries = Vec::new();
        for (key, value) in node.get("data").map(Node::entries).unwrap_or_default() {
            let Some(key) = key.as_str() else { continue };
            // Decoded data is not YAML text any more: no scalar style applies.
            let decoded = value.as_str().and_then(decode_base64).map(|text| Value {
                text: text.into(),
                style: None,
                ..self.value(value)
            });
            entries.push(DataEntry {
                key: key.into(),
                value: decoded,
            });
        }
        for (key, value) in node
            .get("stringData")
            .map(Node::entries)
            .unwrap_or_default()
        {
            let Some(key) = key.as_str() else { continue };
            entries.push(DataEntry {
                key: key.into(),
                value: Some(self.value(value)),
            });
        }
        self.inventory
            .config_data
            .push(crate::manifest::model::ConfigData {
                object,
                kind: RefKind::Secret,
                entries: exact(entries),
            });
    }

    fn service(&mut self, object: Object, node: &Node) {
        let spec = node.get("spec");
        let ports = spec
            .and_then(|s| s.get("ports"))
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|port| {
                let number = port.get("port").and_then(port_number)?;
                Some(ServicePort {
                    port: number,
                    name: port.str_at("name").map(Text::from),
                    target_port: port.str_at("targetPort").map(Text::from),
                    protocol: port.str_at("protocol").unwrap_or("TCP").into(),
                    app_protocol: port.str_at("appProtocol").map(Text::from),
                    location: self.location(port.get("port").unwrap_or(port)),
                })
            })
            .collect_exact();
        let headless = spec
            .and_then(|s| s.get("clusterIP"))
            .and_then(Node::as_str)
            .is_some_and(|ip| ip.eq_ignore_ascii_case("none"));
        self.inventory.services.push(Service {
            object,
            ports,
            selector: string_map(spec.and_then(|s| s.get("selector"))),
            headless,
        });
    }

    /// Reads a NetworkPolicy, defaulting `policyTypes` as the API server does: Ingress
    /// always, Egress when the policy has egress rules.
    fn network_policy(&self, object: Object, node: &Node) -> NetworkPolicy {
        let spec = node.get("spec");
        let selector_entry = spec.and_then(|s| s.entry("podSelector"));
        let (selector_location, selector_width) = match selector_entry {
            Some((key, _)) => (self.location(key), key.width),
            None => (object.location.clone(), 1),
        };
        let declared: Vec<&Node> = spec
            .and_then(|s| s.get("policyTypes"))
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter(|item| item.as_str().is_some())
            .collect();
        let direction = |key: &str, type_name: &str, default_on: bool| {
            let rules_entry = spec.and_then(|s| s.entry(key));
            let rules: Vec<PolicyRule> = rules_entry
                .map(|(_, list)| list.items())
                .unwrap_or_default()
                .iter()
                .map(|rule| self.policy_rule(rule, if key == "egress" { "to" } else { "from" }))
                .collect();
            let declared_entry = declared.iter().find(|item| {
                item.as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case(type_name))
            });
            let isolates = if declared.is_empty() {
                default_on || !rules.is_empty()
            } else {
                declared_entry.is_some()
            };
            isolates.then(|| {
                let (location, width) = match (declared_entry, rules_entry) {
                    (Some(item), _) => (self.location(item), item.width),
                    (None, Some((key_node, _))) => (self.location(key_node), key_node.width),
                    (None, None) => (selector_location.clone(), selector_width),
                };
                Direction {
                    rules: exact(rules),
                    location,
                    width,
                }
            })
        };
        let ingress = direction("ingress", "Ingress", true);
        let egress = direction("egress", "Egress", false);
        NetworkPolicy {
            object,
            pod_selector: selector_entry
                .map(|(_, value)| label_selector(value))
                .unwrap_or_default(),
            pod_selector_location: selector_location,
            pod_selector_width: selector_width,
            ingress,
            egress,
        }
    }

    fn policy_rule(&self, node: &Node, peers_key: &str) -> PolicyRule {
        let peers = node
            .get(peers_key)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|peer| PolicyPeer {
                pod_selector: peer.get("podSelector").map(label_selector),
                namespace_selector: peer.get("namespaceSelector").map(label_selector),
                ip_block: peer.get("ipBlock").map(|block| IpBlock {
                    cidr: block.str_at("cidr").unwrap_or_default().into(),
                    except: block
                        .get("except")
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|e| e.as_str().map(Text::from))
                        .collect(),
                }),
            })
            .collect();
        let ports = node
            .get("ports")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|port| PolicyPort {
                port: port.get("port").map(|spec| match spec.as_str() {
                    Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                        match text.parse::<u16>() {
                            Ok(number) if number > 0 => PortSpec::Number(number),
                            _ => PortSpec::Invalid,
                        }
                    }
                    Some(text) if !text.is_empty() => PortSpec::Name(text.into()),
                    _ => PortSpec::Invalid,
                }),
                end_port: port.get("endPort").and_then(port_number),
                protocol: {
                    let mut protocol = Text::from(port.str_at("protocol").unwrap_or("TCP"));
                    protocol.make_ascii_uppercase();
                    protocol
                },
            })
            .collect();
        PolicyRule {
            peers,
            ports: exact(ports),
            location: self.location(node),
        }
    }

    fn workload(&mut self, object: Object, pod_metadata: Option<&Node>, spec: &Node) {
        let mut containers = Vec::new();
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for container in spec.get(list).map(Node::items).unwrap_or_default() {
                containers.push(self.container(container));
            }
        }
        self.inventory.workloads.push(Workload {
            object,
            platform: Platform::Kubernetes,
            pod_labels: string_map(pod_metadata.and_then(|m| m.get("labels"))),
            pod_ignore: ignore_list(pod_metadata),
            containers: exact(containers),
        });
    }

    fn container(&self, node: &Node) -> Container {
        let name_node = node.get("name");
        let env = node
            .get("env")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|var| self.env_var(var))
            .collect_exact();
        let env_from = node
            .get("envFrom")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|source| {
                let (kind, reference) = match (source.get("configMapRef"), source.get("secretRef"))
                {
                    (Some(reference), _) => (RefKind::ConfigMap, reference),
                    (None, Some(reference)) => (RefKind::Secret, reference),
                    (None, None) => return None,
                };
                let name_node = reference.get("name")?;
                Some(EnvFrom {
                    kind,
                    name: name_node.as_str()?.into(),
                    prefix: source.str_at("prefix").unwrap_or_default().into(),
                    optional: reference
                        .get("optional")
                        .and_then(Node::as_bool)
                        .unwrap_or(false),
                    location: self.location(name_node),
                    width: name_node.width,
                })
            })
            .collect_exact();
        let ports = node
            .get("ports")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|port| {
                Some(ContainerPort {
                    number: port.get("containerPort").and_then(port_number)?,
                    name: port.str_at("name").map(Text::from),
                })
            })
            .collect_exact();
        let image = node.str_at("image").unwrap_or_default();
        let command = ["command", "args"]
            .into_iter()
            .flat_map(|key| node.get(key).map(Node::items).unwrap_or_default())
            .filter_map(Node::as_str);
        Container {
            name: name_node.and_then(Node::as_str).unwrap_or_default().into(),
            location: self.location(name_node.unwrap_or(node)),
            width: name_node.map_or(1, |n| n.width),
            nats_server: integrations::runs_nats_server(image, command),
            base_env: Box::default(),
            env_from,
            env,
            ports,
        }
    }

    fn env_var(&self, node: &Node) -> Option<EnvVar> {
        let name_node = node.get("name")?;
        let source = if let Some(value) = node.get("value") {
            EnvSource::Value(self.value(value))
        } else if let Some(value_from) = node.get("valueFrom") {
            let key_ref = |kind, reference: &Node| {
                let name = reference.get("name");
                let key = reference.get("key");
                let at = key.or(name).unwrap_or(reference);
                EnvSource::KeyRef(KeyRef {
                    kind,
                    name: name.and_then(Node::as_str).unwrap_or_default().into(),
                    key: key.and_then(Node::as_str).unwrap_or_default().into(),
                    optional: reference
                        .get("optional")
                        .and_then(Node::as_bool)
                        .unwrap_or(false),
                    location: self.location(at),
                    width: at.width,
                })
            };
            match (
                value_from.get("configMapKeyRef"),
                value_from.get("secretKeyRef"),
            ) {
                (Some(reference), _) => key_ref(RefKind::ConfigMap, reference),
                (None, Some(reference)) => key_ref(RefKind::Secret, reference),
                (None, None) => EnvSource::Runtime,
            }
        } else {
            EnvSource::Empty
        };
        Some(EnvVar {
            name: name_node.as_str()?.into(),
            name_location: self.location(name_node),
            name_width: name_node.width,
            source,
        })
    }
}

fn port_number(node: &Node) -> Option<u16> {
    node.as_str()?.parse().ok()
}

/// `metadata.namespace` when it names one.
/// The namespace an object names; none for the release namespace of a chart rendered
/// without `--namespace` (see [`RELEASE_NAMESPACE`]).
fn explicit_namespace(metadata: Option<&Node>) -> Option<&str> {
    metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .filter(|ns| !ns.is_empty() && *ns != RELEASE_NAMESPACE)
}

/// Reads `matchLabels` and `matchExpressions`. An unknown operator, or a requirement
/// without the values its operator needs, makes the selector unreadable: the API server
/// would reject it, and the linter does not guess.
fn label_selector(node: &Node) -> LabelSelector {
    let mut selector = LabelSelector {
        match_labels: string_map(node.get("matchLabels")),
        expressions: Vec::new(),
        unreadable: !node.is_mapping() && node.as_str().is_none_or(|text| !text.is_empty()),
    };
    for expression in node
        .get("matchExpressions")
        .map(Node::items)
        .unwrap_or_default()
    {
        let operator = match expression.str_at("operator") {
            Some("In") => SelectorOperator::In,
            Some("NotIn") => SelectorOperator::NotIn,
            Some("Exists") => SelectorOperator::Exists,
            Some("DoesNotExist") => SelectorOperator::DoesNotExist,
            _ => {
                selector.unreadable = true;
                continue;
            }
        };
        let Some(key) = expression.str_at("key") else {
            selector.unreadable = true;
            continue;
        };
        let values: Vec<Text> = expression
            .get("values")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|value| value.as_str().map(Text::from))
            .collect();
        if matches!(operator, SelectorOperator::In | SelectorOperator::NotIn) && values.is_empty() {
            selector.unreadable = true;
        }
        selector.expressions.push(SelectorRequirement {
            key: key.into(),
            operator,
            values,
        });
    }
    selector
}

fn string_map(node: Option<&Node>) -> Labels {
    node.map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(key, value)| Some((key.as_str()?, value.as_str()?)))
        .collect()
}

fn ignore_list(metadata: Option<&Node>) -> Box<[String]> {
    metadata
        .and_then(|m| m.path(&["annotations", IGNORE_ANNOTATION]))
        .and_then(Node::as_str)
        .map(|list| {
            exact(
                list.split([',', ' '])
                    .map(str::trim)
                    .filter(|code| !code.is_empty())
                    .map(str::to_string)
                    .collect(),
            )
        })
        .unwrap_or_default()
}

/// Secret `data` is base64; line breaks inside are allowed, as `kubectl` writes them.
fn decode_base64(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Whether a mapping looks like a Kubernetes object rather than a compose file.
pub fn is_kubernetes_object(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Mapping(_)) && node.get("kind").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml;

    fn policy(text: &str) -> NetworkPolicy {
        let document = yaml::documents(text)
            .next()
            .expect("a document")
            .expect("valid YAML");
        let file = crate::diagnostic::FileName::from("policy.yaml");
        let mut inventory = Inventory::default();
        Extractor {
            file: &file,
            text: None,
            default_namespace: "default",
            inventory: &mut inventory,
        }
        .document(&document);
        inventory.network_policies.remove(0)
    }

    #[test]
    fn policy_types_default_as_the_api_server_does() {
        let ingress_only =
            policy("kind: NetworkPolicy\nmetadata: {name: a}\nspec:\n  podSelector: {}\n");
        assert!(ingress_only.ingress.is_some() && ingress_only.egress.is_none());
        let with_egress = policy(
            "kind: NetworkPolicy\nmetadata: {name: a}\nspec:\n  podSelector: {}\n  egress:\n  - {}\n",
        );
        assert!(with_egress.ingress.is_some() && with_egress.egress.is_some());
        let egress = with_egress.egress.expect("egress");
        assert_eq!((egress.location.line, egress.location.column), (5, 3));
        let declared = policy(
            "kind: NetworkPolicy\nmetadata: {name: a}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  ingress:\n  - {}\n",
        );
        assert!(declared.ingress.is_none() && declared.egress.is_some());
    }

    #[test]
    fn peers_and_ports_are_read() {
        let read = policy(
            "kind: NetworkPolicy\nmetadata: {name: a, namespace: apps}\nspec:\n  podSelector:\n    matchExpressions:\n    - {key: app, operator: Bogus}\n  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {team: x}}\n      podSelector: {}\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}\n    ports:\n    - {port: client}\n    - {port: 4000, endPort: 4999, protocol: udp}\n",
        );
        assert!(read.pod_selector.unreadable);
        let rule = &read.egress.expect("egress").rules[0];
        assert!(rule.peers[0].namespace_selector.is_some() && rule.peers[0].pod_selector.is_some());
        assert_eq!(
            rule.peers[1].ip_block.as_ref().map(|b| b.except.len()),
            Some(1)
        );
        assert_eq!(rule.ports[0].port, Some(PortSpec::Name("client".into())));
        assert_eq!(rule.ports[0].protocol, "TCP");
        assert_eq!(rule.ports[1].end_port, Some(4999));
        assert_eq!(rule.ports[1].protocol, "UDP");
    }
}
