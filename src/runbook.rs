//! The troubleshooting steps of the messaging documentation, as data, filled in with the
//! real namespace, pod and Service names and the object (or file) a value was set in.
//! `lint` attaches one to the findings of the documented services, naming the object
//! the value is written in; `check` prints the ones its failing steps point to, naming
//! the pod, the env file or the command line.

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

/// Where the value a step is about was set, as its commands name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An object: its kind as `kubectl get` names it (`configmap`, `secret`,
    /// `deployment`, `stream`) and its name.
    Object { kind: String, name: String },
    /// The environment of the pod `check` runs in (`Names::pod`, when known). `kubectl
    /// describe pod` lists each variable with the ConfigMap or Secret it is read from.
    Pod,
    /// A `.env` file (`check --env-file`).
    EnvFile(String),
    /// `check`'s own command line (`check URL`, `--url`): the service reads its
    /// environment, which `kubectl describe pod` shows.
    CommandLine,
}

/// The names a runbook is filled in with. Unknown names keep a `<placeholder>`.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Namespace of the client pod.
    pub namespace: Option<String>,
    /// Name of the client pod, when known (`check` inside a pod).
    pub pod: Option<String>,
    pub service: Option<String>,
    pub service_namespace: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Where the value the step is about was set; unknown, the client pod's
    /// environment.
    pub origin: Option<Origin>,
}

/// A runbook entry with its commands, ready to print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub title: String,
    pub commands: Vec<String>,
}

/// A word as a POSIX shell reads it: as it is when it holds nothing the shell would
/// interpret, else in single quotes.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The command that shows where `variables` are set (`NATS_URL`, or every `NATS_`
/// variable), from the origin of the value.
fn show(names: &Names, namespace: &str, variables: &str) -> String {
    let pod = || {
        let pod = names
            .pod
            .as_deref()
            .map_or_else(|| "<pod-name>".to_string(), shell_word);
        format!("kubectl describe pod {pod} -n {namespace}")
    };
    let every = variables == "NATS_";
    match &names.origin {
        // `describe` lists a Secret's keys, never its values.
        Some(Origin::Object { kind, name }) if kind == "secret" => {
            let shown = format!("kubectl describe secret {name} -n {namespace}");
            if every { format!("{shown} | grep NATS_") } else { shown }
        }
        Some(Origin::Object { kind, name }) => {
            let shown = format!("kubectl get {kind} {name} -n {namespace} -o yaml");
            if every { format!("{shown} | grep NATS_") } else { shown }
        }
        Some(Origin::EnvFile(path)) => format!("grep -n {variables} {}", shell_word(path)),
        Some(Origin::CommandLine) => format!(
            "{}   # where the service's {variables} is set (this check took it from its command line)",
            pod(),
            variables = if every { "NATS_ variables are" } else { "NATS_URL" }
        ),
        Some(Origin::Pod) | None => format!(
            "{}   # its Environment shows {}",
            pod(),
            if every {
                "the NATS_ variables and the ConfigMap or Secret each is read from"
            } else {
                "NATS_URL and the ConfigMap or Secret it is read from"
            }
        ),
    }
}

/// Fills in the commands of a step. A command is given once, also when two names it is
/// filled in with are the same.
pub fn entry(step: Step, names: &Names) -> Entry {
    let namespace = names.namespace.as_deref().unwrap_or("<namespace>");
    let service = names.service.as_deref().unwrap_or("nats-server");
    let service_namespace = names.service_namespace.as_deref().unwrap_or(namespace);
    let host = names.host.as_deref().unwrap_or(service);
    let port = names.port.unwrap_or(crate::natsurl::DEFAULT_PORT);
    let pod = names
        .pod
        .as_deref()
        .map_or_else(|| "<pod-name>".to_string(), shell_word);
    let mut commands = match step {
        Step::ConnectionFailed => vec![
            format!("kubectl get pods -n {service_namespace} -o wide | grep {service}"),
            format!("kubectl get endpoints -n {service_namespace} {service}"),
            format!("kubectl logs -n {service_namespace} -l app.kubernetes.io/name=nats --tail=50"),
        ],
        Step::MessagesNotReceived => vec![
            show(names, namespace, "NATS_"),
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
            format!("kubectl exec -it {pod} -n {namespace} -- nc -zv {host} {port}"),
        ],
        Step::WrongUrl => vec![
            show(names, namespace, "NATS_URL"),
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
    // Two or three commands: a look back at each is cheaper than a set.
    let mut index = 0;
    while index < commands.len() {
        if commands[..index].contains(&commands[index]) {
            commands.remove(index);
        } else {
            index += 1;
        }
    }
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
