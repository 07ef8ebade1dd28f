//! Where NATS addresses are written outside environment variables: the address fields of
//! the custom resources and configurations that NATS users deploy (NACK, Dapr, KEDA,
//! Argo Events, Knative, OpenFunction, Numaflow, wasmCloud), as one table of rows, and
//! the walk that reads a row's field out of an object. A new integration is one row.
//!
//! Each row names where its project documents the field; the rule documentation of
//! ND101–ND108 and ND201–ND203 and the README list them.

use crate::manifest::yaml::{Node, NodeKind, Style};

/// What a field or variable holds, and so what the URL rules expect of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expectation {
    /// A comma-separated list of NATS client URLs. `scheme_optional`: the reader (nats.go
    /// or async-nats) adds `nats://` to an address written without a scheme.
    Servers { scheme_optional: bool },
    /// A host name or address (`NATS_HOST`), its port given elsewhere; a URL is accepted
    /// too, as the apps that name such a variable `..._HOST` often pass it on as one.
    Host,
    /// `scheme://host` without a port: the reader appends the port of another field
    /// (wasmCloud's `natsAddress`, followed by `natsClientPort`).
    ServerWithoutPort,
    /// The HTTP monitoring endpoint as `host:port`, to which the reader adds `http://`
    /// or `https://` itself (KEDA).
    MonitoringHostPort,
    /// The HTTP monitoring endpoint, `http(s)://host:port` or `host:port` (the
    /// `NATS_MON_URL` of monitoring tools).
    MonitoringUrl,
}

impl Expectation {
    /// Whether the value is read as the HTTP monitoring endpoint, not a client port.
    pub fn monitoring(self) -> bool {
        matches!(
            self,
            Expectation::MonitoringHostPort | Expectation::MonitoringUrl
        )
    }
}

/// Where a short Service name in the field is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolver {
    /// By pods in the object's own namespace (a Dapr sidecar, an event source).
    ObjectNamespace,
    /// By a controller whose namespace the input does not tie to the object (the NACK
    /// controller, the KEDA operator): short names are not judged, qualified ones are.
    Controller,
}

/// One step of the path to a field.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// The value under this key of a mapping.
    Key(&'static str),
    /// Every item of a sequence.
    Each,
    /// The items of a sequence whose `key` is one of `values` (compared without case,
    /// as Dapr reads metadata names).
    Where {
        key: &'static str,
        values: &'static [&'static str],
    },
    /// The value under every key of a mapping (Argo Events' named sources).
    EachValue,
}

/// A NATS address field of one integration.
#[derive(Debug)]
pub struct Integration {
    /// The project, as messages name it.
    pub project: &'static str,
    /// The API group (the part of `apiVersion` before `/`; empty for the core group).
    pub group: &'static str,
    pub kinds: &'static [&'static str],
    /// The row applies only when the scalar at this path of the object is one of these
    /// values (Dapr's `spec.type`, Knative's ConfigMap name).
    pub when: Option<(&'static [&'static str], &'static [&'static str])>,
    pub field: &'static [Step],
    /// A YAML document held in the field's text, and the path to the address in it
    /// (Knative's `config-nats`).
    pub embedded: Option<&'static [&'static str]>,
    pub expects: Expectation,
    pub resolver: Resolver,
    /// Whose pod `localhost` means there, when no NATS server can be there: `None` where
    /// the same object also configures a process outside Kubernetes (Dapr components of
    /// `dapr run`).
    pub localhost: Option<&'static str>,
    /// Where the project documents the field.
    pub source: &'static str,
}

use Step::{Each, EachValue, Key, Where};

const NACK_KINDS: &[&str] = &["Stream", "Consumer", "KeyValue", "ObjectStore", "Account"];
const GO_SERVERS: Expectation = Expectation::Servers {
    scheme_optional: true,
};

/// Every NATS address field read, one row each.
pub static INTEGRATIONS: &[Integration] = &[
    Integration {
        project: "NACK",
        group: "jetstream.nats.io",
        kinds: NACK_KINDS,
        when: None,
        field: &[Key("spec"), Key("servers"), Each],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::Controller,
        localhost: Some("the NACK controller's pod"),
        source: "nats-io/nack docs/api.md (`servers`: \"A list of servers for creating stream\", and for consumers, KV and object stores; Account `servers`: \"A list of servers to connect\") and README, \"Managing Multiple NATS Systems and Accounts\"",
    },
    Integration {
        project: "Dapr",
        group: "dapr.io",
        kinds: &["Component"],
        when: Some((
            &["spec", "type"],
            &["pubsub.jetstream", "pubsub.natsstreaming", "state.jetstream"],
        )),
        field: &[
            Key("spec"),
            Key("metadata"),
            Where {
                key: "name",
                values: &["natsURL"],
            },
            Key("value"),
        ],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: None,
        source: "docs.dapr.io, components reference: JetStream pub/sub, NATS Streaming pub/sub and JetStream KV state store (`natsURL`: \"NATS server address URL\")",
    },
    Integration {
        project: "KEDA",
        group: "keda.sh",
        kinds: &["ScaledObject", "ScaledJob"],
        when: None,
        field: &[
            Key("spec"),
            Key("triggers"),
            Where {
                key: "type",
                values: &["nats-jetstream", "stan"],
            },
            Key("metadata"),
            Key("natsServerMonitoringEndpoint"),
        ],
        embedded: None,
        expects: Expectation::MonitoringHostPort,
        resolver: Resolver::Controller,
        localhost: Some("the KEDA operator's pod"),
        source: "keda.sh scalers NATS JetStream and NATS Streaming (`natsServerMonitoringEndpoint`: \"Location of the NATS server monitoring endpoint\", `nats.nats.svc.cluster.local:8222`; the scaler adds `http://` or `https://` per `useHttps`)",
    },
    Integration {
        project: "Argo Events",
        group: "argoproj.io",
        kinds: &["EventBus"],
        when: None,
        field: &[Key("spec"), Key("nats"), Key("exotic"), Key("url")],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the event source and sensor pods"),
        source: "argo-events docs/eventbus/stan.md, \"Exotic\" (`spec.nats.exotic.url`)",
    },
    Integration {
        project: "Argo Events",
        group: "argoproj.io",
        kinds: &["EventBus"],
        when: None,
        field: &[Key("spec"), Key("jetstreamExotic"), Key("url")],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the event source and sensor pods"),
        source: "argo-events docs/eventbus/jetstream.md, \"Exotic\" (`spec.jetstreamExotic.url`)",
    },
    Integration {
        project: "Argo Events",
        group: "argoproj.io",
        kinds: &["EventSource"],
        when: None,
        field: &[Key("spec"), Key("nats"), EachValue, Key("url")],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the event source pod"),
        source: "argo-events examples/event-sources/nats.yaml (`spec.nats.<name>.url`: \"url of the nats service\")",
    },
    Integration {
        project: "Argo Events",
        group: "argoproj.io",
        kinds: &["Sensor"],
        when: None,
        field: &[
            Key("spec"),
            Key("triggers"),
            Each,
            Key("template"),
            Key("nats"),
            Key("url"),
        ],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the sensor pod"),
        source: "argo-events docs/sensors/triggers/nats-trigger.md and examples/sensors/trigger-nats-messages.yaml (`template.nats.url`)",
    },
    Integration {
        project: "Knative eventing-natss",
        group: "",
        kinds: &["ConfigMap"],
        when: Some((&["metadata", "name"], &["config-nats"])),
        field: &[Key("data"), Key("eventing-nats")],
        embedded: Some(&["url"]),
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the channel controller and dispatcher pods"),
        source: "knative-extensions/eventing-natss config/mtbroker/config-nats.yaml (`eventing-nats: url:`)",
    },
    Integration {
        project: "OpenFunction",
        group: "events.openfunction.io",
        kinds: &["EventBus"],
        when: None,
        field: &[Key("spec"), Key("natsStreaming"), Key("natsURL")],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the event source and trigger pods"),
        source: "OpenFunction docs/concepts/OpenFunction-events-framework.md (EventBus `spec.natsStreaming.natsURL`, passed to Dapr's `pubsub.natsstreaming`)",
    },
    Integration {
        project: "OpenFunction",
        group: "events.openfunction.io",
        kinds: &["ClusterEventBus"],
        when: None,
        field: &[Key("spec"), Key("natsStreaming"), Key("natsURL")],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::Controller,
        localhost: Some("the event source and trigger pods"),
        source: "OpenFunction docs/concepts/OpenFunction-events-framework.md (ClusterEventBus `spec.natsStreaming.natsURL`)",
    },
    Integration {
        project: "Numaflow",
        group: "numaflow.numaproj.io",
        kinds: &["Pipeline"],
        when: None,
        field: &[
            Key("spec"),
            Key("vertices"),
            Each,
            Key("source"),
            Key("nats"),
            Key("url"),
        ],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the vertex pods"),
        source: "numaflow docs/user-guide/sources/nats.md (`url`: \"Multiple urls separated by comma\")",
    },
    Integration {
        project: "Numaflow",
        group: "numaflow.numaproj.io",
        kinds: &["Pipeline"],
        when: None,
        field: &[
            Key("spec"),
            Key("vertices"),
            Each,
            Key("source"),
            Key("jetstream"),
            Key("url"),
        ],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the vertex pods"),
        source: "numaflow docs/user-guide/sources/jetstream.md (`url`: \"Jetstream server url\")",
    },
    Integration {
        project: "Numaflow",
        group: "numaflow.numaproj.io",
        kinds: &["MonoVertex"],
        when: None,
        field: &[Key("spec"), Key("source"), Key("nats"), Key("url")],
        embedded: None,
        expects: GO_SERVERS,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the vertex pods"),
        source: "numaflow docs/user-guide/sources/nats.md (the same source in a MonoVertex)",
    },
    Integration {
        project: "wasmCloud",
        group: "k8s.wasmcloud.dev",
        kinds: &["WasmCloudHostConfig"],
        when: None,
        field: &[Key("spec"), Key("natsAddress")],
        embedded: None,
        expects: Expectation::ServerWithoutPort,
        resolver: Resolver::ObjectNamespace,
        localhost: Some("the wasmCloud hosts' NATS leaf node sidecar"),
        source: "wasmCloud/wasmcloud-operator crates/types/src/v1alpha1/wasmcloud_host_config.rs (`natsAddress`: \"The address of the NATS server to connect to\", default `nats://nats.default.svc.cluster.local`; the operator appends `natsClientPort` and `natsLeafnodePort`)",
    },
];

/// The documentation of where NATS addresses are read, for the rules that judge them
/// (`nats-doctor explain ND101`): the variables, and every row of [`INTEGRATIONS`] with
/// where its project documents the field.
pub fn sources_section() -> String {
    let mut text = String::from(
        "## Where NATS addresses are read\n\
         - Env values of Kubernetes containers, compose services, `.env` files and `--env`, \
         and the ConfigMap and Secret keys they read: `NATS_URL`; names that say they hold \
         a NATS address (`NATS_SERVERS`, `NATS_SERVER`, `NATS_ADDRESS`, `NATS_URI`, \
         `<APP>_NATS_URL`, …: server lists; `NATS_HOST`, `<APP>_NATS_HOST`: a host, its port \
         in `NATS_PORT`; `NATS_MON_URL`: a monitoring endpoint); every `--url-var`; any value \
         that starts with `nats://` or `tls://` (`ws://`, `wss://` under a name with `NATS`).\n\
         - The address fields of custom resources and integration configurations:\n",
    );
    for row in INTEGRATIONS {
        let group = if row.group.is_empty() {
            "core"
        } else {
            row.group
        };
        let expects = match row.expects {
            Expectation::Servers { .. } => "NATS server URLs, scheme optional",
            Expectation::Host => "a host",
            Expectation::ServerWithoutPort => "`nats://host`, no port",
            Expectation::MonitoringHostPort => "the monitoring endpoint `host:8222`, no scheme",
            Expectation::MonitoringUrl => "the monitoring endpoint",
        };
        let resolved = match row.resolver {
            Resolver::ObjectNamespace => "short names resolve in the object's namespace",
            Resolver::Controller => "read by a controller: short names are not judged",
        };
        text.push_str(&format!(
            "  - {} ({group}) {}: `{}`{} — {expects}; {resolved}. Source: {}.\n",
            row.project,
            row.kinds.join(", "),
            field_pattern(row),
            conditions(row),
            row.source
        ));
    }
    text
}

/// A row's field as a pattern: `spec.metadata[name=natsURL].value`.
pub fn field_pattern(row: &Integration) -> String {
    let mut pattern = String::new();
    for step in row.field {
        match step {
            Key(key) => {
                if !pattern.is_empty() {
                    pattern.push('.');
                }
                pattern.push_str(key);
            }
            Each => pattern.push_str("[*]"),
            Where { key, values } => pattern.push_str(&format!("[{key}={}]", values.join("|"))),
            EachValue => pattern.push_str(".<name>"),
        }
    }
    pattern
}

/// What else a row requires of the object, for the documentation.
fn conditions(row: &Integration) -> String {
    let mut text = String::new();
    if let Some(inner) = row.embedded {
        text.push_str(&format!(" (a YAML document; its `{}`)", inner.join(".")));
    }
    if let Some((path, values)) = row.when {
        text.push_str(&format!(
            ", where `{}` is `{}`",
            path.join("."),
            values.join("`, `")
        ));
    }
    text
}

/// An address read from an object by one row: where it is in the object and the node.
pub struct Found<'n> {
    pub integration: &'static Integration,
    pub path: String,
    pub node: &'n Node,
    /// For an address inside an embedded document: the node there, and how its lines
    /// map to the file's (see [`EmbeddedPlace`]).
    pub embedded: Option<(Node, EmbeddedPlace)>,
}

/// Where an embedded document's text starts in the file: its first line is the line
/// after `indicator_line`, its columns are shifted by `indent`.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddedPlace {
    pub indicator_line: u32,
    pub indent: u32,
}

/// The address fields of an object, for every row whose group and kind it has.
/// `text` is the file the object was read from, for the indentation of embedded
/// documents.
pub fn find<'n>(object: &'n Node, text: Option<&str>) -> Vec<Found<'n>> {
    let Some(kind) = object.str_at("kind") else {
        return Vec::new();
    };
    let group = object
        .str_at("apiVersion")
        .map(|version| version.rsplit_once('/').map_or("", |(group, _)| group))
        .unwrap_or_default();
    let mut found = Vec::new();
    for integration in INTEGRATIONS {
        if integration.group != group || !integration.kinds.contains(&kind) {
            continue;
        }
        if let Some((path, values)) = integration.when {
            let applies = object
                .path(path)
                .and_then(Node::as_str)
                .is_some_and(|value| values.contains(&value));
            if !applies {
                continue;
            }
        }
        let mut reached = Vec::new();
        walk(object, integration.field, String::new(), &mut reached);
        for (path, node) in reached {
            match integration.embedded {
                None => found.push(Found {
                    integration,
                    path,
                    node,
                    embedded: None,
                }),
                Some(inner) => {
                    if let Some((inner_node, place)) = embedded(node, inner, text) {
                        found.push(Found {
                            integration,
                            path: format!("{path}: {}", inner.join(".")),
                            node,
                            embedded: Some((inner_node, place)),
                        });
                    }
                }
            }
        }
    }
    found
}

/// Every scalar at the end of `steps`, with its path written as `a.b[0].c`.
fn walk<'n>(node: &'n Node, steps: &[Step], path: String, out: &mut Vec<(String, &'n Node)>) {
    let Some((step, rest)) = steps.split_first() else {
        if node.as_scalar().is_some() {
            out.push((path, node));
        }
        return;
    };
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match step {
        Key(key) => {
            if let Some(child) = node.get(key) {
                walk(child, rest, join(key), out);
            }
        }
        Each => {
            for (index, item) in node.items().iter().enumerate() {
                walk(item, rest, format!("{path}[{index}]"), out);
            }
        }
        Where { key, values } => {
            for (index, item) in node.items().iter().enumerate() {
                let matches = item
                    .str_at(key)
                    .is_some_and(|value| values.iter().any(|v| v.eq_ignore_ascii_case(value)));
                if matches {
                    walk(item, rest, format!("{path}[{index}]"), out);
                }
            }
        }
        EachValue => {
            for (key, value) in node.entries() {
                if let Some(key) = key.as_str() {
                    walk(value, rest, join(key), out);
                }
            }
        }
    }
}

/// Reads the address at `inner` from the YAML document a literal block scalar holds.
/// Only a literal block (`|`) keeps the document's lines as written, so only there can
/// its places be mapped back to the file.
fn embedded(node: &Node, inner: &[&str], text: Option<&str>) -> Option<(Node, EmbeddedPlace)> {
    let NodeKind::Scalar(scalar) = &node.kind else {
        return None;
    };
    if scalar.style != Style::Block {
        return None;
    }
    let text = text?;
    let mut lines = text.lines().skip(node.line.saturating_sub(1) as usize);
    let indicator = lines.next()?;
    let after = indicator
        .chars()
        .skip(node.column.saturating_sub(1) as usize)
        .collect::<String>();
    if !after.starts_with('|') {
        return None;
    }
    let first = lines.find(|line| !line.trim().is_empty())?;
    let indent = first.chars().take_while(|c| *c == ' ').count() as u32;
    let document = crate::manifest::yaml::documents(&scalar.text)
        .next()?
        .ok()?;
    let address = document.root.path(inner)?;
    address.as_scalar()?;
    Some((
        address.clone(),
        EmbeddedPlace {
            indicator_line: node.line,
            indent,
        },
    ))
}

/// Whether a container runs a NATS server: its image is one (`nats`, `nats-server`,
/// `nats-streaming` of any registry and tag), or its command and arguments run
/// `nats-server` or read a `nats*.conf` configuration file.
pub fn runs_nats_server<'s>(image: &str, command: impl IntoIterator<Item = &'s str>) -> bool {
    let repository = image.rsplit('/').next().unwrap_or_default();
    let repository = repository
        .split(['@', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if matches!(
        repository.as_str(),
        "nats" | "nats-server" | "nats-streaming" | "nats-streaming-server"
    ) {
        return true;
    }
    command.into_iter().any(|word| {
        word.split_whitespace().any(|part| {
            let name = part.rsplit('/').next().unwrap_or_default();
            let name = name.rsplit('=').next().unwrap_or_default();
            name == "nats-server"
                || name == "nats-streaming-server"
                || (name.starts_with("nats") && name.ends_with(".conf"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml;

    fn object(text: &str) -> yaml::Node {
        yaml::documents(text)
            .next()
            .expect("a document")
            .expect("valid YAML")
            .root
    }

    #[test]
    fn rows_read_lists_metadata_items_and_named_sources() {
        let nack = object("apiVersion: jetstream.nats.io/v1beta2\nkind: Stream\nspec:\n  servers:\n  - nats://a:4222\n  - nats://b:4222\n");
        let paths: Vec<String> = find(&nack, None).into_iter().map(|f| f.path).collect();
        assert_eq!(paths, ["spec.servers[0]", "spec.servers[1]"]);
        let dapr = object("apiVersion: dapr.io/v1alpha1\nkind: Component\nspec:\n  type: pubsub.jetstream\n  metadata:\n  - name: jwt\n    value: x\n  - name: NatsURL\n    value: nats://nats:4222\n");
        let found = find(&dapr, None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "spec.metadata[1].value");
        assert_eq!((found[0].node.line, found[0].node.column), (9, 12));
        let redis = object("apiVersion: dapr.io/v1alpha1\nkind: Component\nspec:\n  type: pubsub.redis\n  metadata:\n  - name: natsURL\n    value: nats://nats:4222\n");
        assert!(find(&redis, None).is_empty(), "only NATS component types");
        let argo = object("apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nspec:\n  nats:\n    example:\n      url: nats://nats:4222\n");
        let paths: Vec<String> = find(&argo, None).into_iter().map(|f| f.path).collect();
        assert_eq!(paths, ["spec.nats.example.url"]);
    }

    #[test]
    fn an_embedded_document_maps_back_to_the_file() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-nats\ndata:\n  eventing-nats: |\n    url: nats://nats.nats-io.svc.cluster.local\n    connOpts: {}\n";
        let root = object(text);
        let found = find(&root, Some(text));
        assert_eq!(found.len(), 1);
        let (node, place) = found[0].embedded.as_ref().expect("embedded");
        assert_eq!(place.indicator_line + node.line, 7);
        assert_eq!(place.indent + node.column, 10);
        assert_eq!(found[0].path, "data.eventing-nats: url");
    }

    #[test]
    fn nats_servers_are_told_by_image_or_command() {
        assert!(runs_nats_server("nats:2.10-alpine", []));
        assert!(runs_nats_server("docker.io/bitnami/nats@sha256:00", []));
        assert!(runs_nats_server("quay.io/devtron/nats:2.9.3-alpine", []));
        assert!(!runs_nats_server("natsio/nats-box:0.14", []));
        assert!(!runs_nats_server(
            "natsio/prometheus-nats-exporter:0.15",
            []
        ));
        assert!(runs_nats_server(
            "alpine:3",
            ["/bin/nats-server", "--config", "/etc/nats/nats.conf"]
        ));
        assert!(runs_nats_server(
            "busybox",
            ["-c", "/etc/nats-config/nats-server.conf"]
        ));
        assert!(!runs_nats_server(
            "my-app:1",
            ["serve", "--nats", "nats://nats:4222"]
        ));
    }
}
