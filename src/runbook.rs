//! The troubleshooting steps of the messaging documentation, as data, filled in with the
//! real namespace, Service and ConfigMap names. `lint` attaches one to the findings of
//! the documented services, naming the object the value is written in;
//! `check` prints the ones its failing steps point to.

use serde::Serialize;

/// A troubleshooting section of the documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    ConnectionFailed,
    MessagesNotReceived,
    ServiceNotFound,
    NetworkPolicy,
    WrongUrl,
    CrossNamespace,
    Credentials,
}

impl Step {
    pub fn title(self) -> &'static str {
        match self {
            Step::ConnectionFailed => "NATS Connection Failed",
            Step::MessagesNotReceived => "Messages Not Received",
            Step::ServiceNotFound => "NATS Service Not Found",
            Step::NetworkPolicy => "Network Policy Blocking NATS",
            Step::WrongUrl => "Wrong NATS URL configuration",
            Step::CrossNamespace => "Cross-Namespace NATS Access",
            Step::Credentials => "Credentials and permissions",
        }
    }
}

/// The names a runbook is filled in with. Unknown names keep a `<placeholder>`.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Namespace of the client pod.
    pub namespace: Option<String>,
    pub service: Option<String>,
    pub service_namespace: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The ConfigMap that holds the settings, when known.
    pub config_map: Option<String>,
    /// The object the value is written in, as `kubectl get` names it (`configmap`,
    /// `deployment`, `stream`) with its name. Set, it takes the place of `config_map` in
    /// the commands that show the value.
    pub source: Option<(String, String)>,
}

/// A runbook entry with its commands, ready to print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub title: String,
    pub commands: Vec<String>,
}

/// Fills in the commands of a step.
pub fn entry(step: Step, names: &Names) -> Entry {
    let namespace = names.namespace.as_deref().unwrap_or("<namespace>");
    let service = names.service.as_deref().unwrap_or("nats-server");
    let service_namespace = names.service_namespace.as_deref().unwrap_or(namespace);
    let host = names.host.as_deref().unwrap_or(service);
    let port = names.port.unwrap_or(crate::natsurl::DEFAULT_PORT);
    let config_map = names
        .config_map
        .as_deref()
        .unwrap_or("petrosa-common-config");
    let show = match &names.source {
        // `describe` lists a Secret's keys, never its values.
        Some((kind, name)) if kind == "secret" => {
            format!("kubectl describe secret {name} -n {namespace}")
        }
        Some((kind, name)) => format!("kubectl get {kind} {name} -n {namespace} -o yaml"),
        None => format!("kubectl get configmap {config_map} -n {namespace} -o yaml"),
    };
    let commands = match step {
        Step::ConnectionFailed => vec![
            format!("kubectl get pods -n {service_namespace} -o wide | grep {service}"),
            format!("kubectl get endpoints -n {service_namespace} {service}"),
            format!("kubectl logs -n {service_namespace} -l app.kubernetes.io/name=nats --tail=50"),
        ],
        Step::MessagesNotReceived => vec![
            format!("{show} | grep NATS_"),
            "nats-doctor watch --count 10".to_string(),
            format!("kubectl logs -n {service_namespace} -l app.kubernetes.io/name=nats --tail=50"),
        ],
        Step::ServiceNotFound => vec![
            format!("kubectl get svc -n {service_namespace} | grep nats"),
            format!("kubectl get endpoints -n {service_namespace} {service}"),
            format!("kubectl run test-nats --rm -it --image=busybox -n {namespace} -- nslookup {host}"),
        ],
        Step::NetworkPolicy => vec![
            format!("kubectl get networkpolicy -n {namespace}"),
            format!("kubectl get networkpolicy -n {service_namespace}"),
            format!("kubectl exec -it <pod-name> -n {namespace} -- nc -zv {host} {port}"),
        ],
        Step::WrongUrl => vec![
            show.clone(),
            format!("# expected: nats://{service}.{service_namespace}.svc.cluster.local:{port}, not an IP address"),
        ],
        Step::CrossNamespace => vec![
            format!("kubectl get svc -n {service_namespace} {service}"),
            format!("# from namespace {namespace} use nats://{service}.{service_namespace}.svc.cluster.local:{port}"),
        ],
        Step::Credentials => vec![
            format!("kubectl get secret -n {namespace} | grep -i nats"),
            "nats-doctor check --format json   # shows which step rejects the credentials".to_string(),
        ],
    };
    Entry {
        title: step.title().to_string(),
        commands,
    }
}

/// Where the steps come from, as lint findings name it.
pub const GUIDE: &str = "the troubleshooting guide of the service's NATS documentation";

/// A one-line form for lint findings of the documented services: the title, where it
/// comes from, and the first command.
pub fn documented_line(step: Step, names: &Names) -> String {
    let entry = entry(step, names);
    match entry.commands.first() {
        Some(command) => format!("{} ({GUIDE}): {command}", entry.title),
        None => format!("{} ({GUIDE})", entry.title),
    }
}
