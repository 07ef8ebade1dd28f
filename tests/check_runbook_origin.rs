//! `check`'s runbook names where a setting was set — the pod's environment, the
//! `--env-file`, the command line — never a fixed ConfigMap, and gives each command
//! once; its JSON says where each setting came from once. Real nats-server on
//! loopback; the DNS fault is a closed nameserver port on 127.0.0.1.
mod support;

use support::nats_server::NatsServer;

const IN_A_POD: &[(&str, &str)] = &[
    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
    ("HOSTNAME", "extractor-7d9f8-x2k4p"),
    ("POD_NAMESPACE", "petrosa-apps"),
];

fn assert_no_fixed_config_map(run: &support::Run) {
    assert!(
        !run.stdout.contains("petrosa-common-config"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_env_file_setting_is_shown_from_the_file() {
    let server = NatsServer::plain();
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("extractor settings.env");
    std::fs::write(
        &path,
        format!("NATS_URL={}\nNATS_ENABLED=yes\n", server.url()),
    )
    .expect("write the env file");
    let path = path.to_str().expect("path");
    let run = support::check(&["--format", "json", "--env-file", path], &[]);
    assert_eq!(run.runbook(), ["Messages Not Received"], "{}", run.stdout);
    let commands = run.runbook_commands();
    assert!(
        commands.contains(&format!("grep -n NATS_ '{path}'")),
        "{commands}"
    );
    assert_no_fixed_config_map(&run);

    let detail = &run.step("config")["detail"];
    assert_eq!(detail["NATS_URL"]["source"], "env_file");
    assert_eq!(detail["NATS_URL"]["file"], path);
    assert_eq!(detail["NATS_SUBJECT_PREFIX"]["source"], "default");
    assert_eq!(
        detail["NATS_SUBJECT_PREFIX"]["file"],
        serde_json::Value::Null
    );
    for name in ["NATS_URL", "NATS_ENABLED", "NATS_SUBJECT_PREFIX"] {
        let keys: Vec<&String> = detail[name]
            .as_object()
            .expect("a setting")
            .keys()
            .collect();
        assert_eq!(keys, ["file", "source", "value"], "{name}");
    }
}

#[test]
fn an_unset_url_in_a_pod_is_looked_up_on_the_pod() {
    let run = support::check(&["--format", "json", "--timeout", "500ms"], IN_A_POD);
    assert_eq!(
        run.runbook().first().map(String::as_str),
        Some("Wrong NATS URL configuration")
    );
    let commands = run.runbook_commands();
    assert!(
        commands.contains(
            "kubectl describe pod extractor-7d9f8-x2k4p -n petrosa-apps   # its Environment shows NATS_URL and the ConfigMap or Secret it is read from"
        ),
        "{commands}"
    );
    assert_no_fixed_config_map(&run);

    // POD_NAME (the downward API) wins; outside a pod HOSTNAME is not a pod's name.
    let mut named = IN_A_POD.to_vec();
    named.push(("POD_NAME", "extractor-0"));
    let run = support::check(&["--format", "json", "--timeout", "500ms"], &named);
    assert!(run
        .runbook_commands()
        .contains("kubectl describe pod extractor-0 -n petrosa-apps"));
    let run = support::check(
        &["--format", "json", "--timeout", "500ms"],
        &[("HOSTNAME", "laptop")],
    );
    let commands = run.runbook_commands();
    assert!(
        commands.contains("kubectl describe pod <pod-name> -n <namespace>"),
        "{commands}"
    );
    assert!(!commands.contains("laptop"), "{commands}");
}

#[test]
fn a_url_from_the_command_line_says_so() {
    // The monitoring port (ND105): a URL finding, so the runbook shows the setting.
    let run = support::check(
        &[
            "nats://127.0.0.1:8222",
            "--timeout",
            "500ms",
            "--color",
            "never",
        ],
        IN_A_POD,
    );
    assert!(
        run.stdout.contains(
            "$ kubectl describe pod extractor-7d9f8-x2k4p -n petrosa-apps   # where the service's NATS_URL is set (this check took it from its command line)"
        ),
        "{}",
        run.stdout
    );
    assert_no_fixed_config_map(&run);
}

#[test]
fn each_runbook_command_is_given_once() {
    // A nameserver port on which nothing answers, held for the whole test.
    let (closed, _held) = support::listener::closed_udp_port();
    let nameserver = format!("127.0.0.1:{closed}");
    for env in [&[][..], IN_A_POD] {
        let run = support::check(
            &[
                "nats://nats-server:4222",
                "--nameserver",
                &nameserver,
                "--no-system-resolver",
                "--timeout",
                "500ms",
                "--format",
                "json",
            ],
            env,
        );
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            run.runbook()
                .contains(&"Network Policy Blocking NATS".to_string()),
            "{}",
            run.stdout
        );
        for entry in run.json()["runbook"].as_array().expect("runbook") {
            let commands: Vec<&str> = entry["commands"]
                .as_array()
                .expect("commands")
                .iter()
                .map(|command| command.as_str().expect("a command"))
                .collect();
            let mut unique = commands.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(commands.len(), unique.len(), "{commands:?}");
        }
        let namespace = env.iter().find(|(name, _)| *name == "POD_NAMESPACE");
        let namespace = namespace.map_or("<namespace>", |(_, value)| value);
        let commands = run.runbook_commands();
        assert_eq!(
            commands
                .matches(&format!("kubectl get networkpolicy -n {namespace}\n"))
                .count(),
            1,
            "{commands}"
        );
    }
}
