//! Hostile inputs under the 16 MiB file limit: each is built here, linted by the binary,
//! and must end with the finding that names the limit it reached, within a peak
//! resident memory far below what it cost before the limits (gigabytes). Memory is
//! measured for the child alone (GNU time); the child runs under an address-space limit,
//! so that a regression fails the test instead of exhausting the machine. Wall time is
//! not asserted (the machine is shared): a child that spins is ended by a limit of
//! processor time, which the load of the machine does not reach, and every child is
//! killed after a far longer deadline of wall time, so each test ends.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::nats_doctor;

/// The contract: no input under 16 MiB takes more than this.
const MEMORY_TARGET_KIB: i64 = 512 * 1024;
/// The address space a child may reserve: far above the target, far below the machine.
const ADDRESS_SPACE_LIMIT: u64 = 4 << 30;
/// Processor time a child may use: in a debug build, the costliest input here (twenty
/// thousand workloads) takes some 3 s of it, and took 163 s while the documented
/// services were computed per workload; far above either, so only a spin reaches it.
const CPU_SECONDS: u64 = 600;
/// Wall time after which a child is killed (one blocked, not spinning): far longer than
/// any run takes, even on a loaded machine of two cores.
const DEADLINE: Duration = Duration::from_secs(1800);

struct Measured {
    report: Value,
    stderr: String,
    exit: i32,
    peak_kib: i64,
}

/// Runs `nats-doctor lint --format json PATH` under the address-space limit and measures
/// its peak resident memory.
fn lint_measured(path: &Path) -> Measured {
    let measured = nats_doctor(["lint", "--format", "json"])
        .arg(path)
        .address_space_limit(ADDRESS_SPACE_LIMIT)
        .cpu_limit(CPU_SECONDS)
        .kill_after(DEADLINE)
        .measured();
    let run = measured.run;
    eprintln!("{}: peak RSS {} KiB", path.display(), measured.max_rss_kib);
    assert!(
        run.signal.is_none(),
        "lint of {} ended by signal {:?} (out of memory under the address-space limit, or SIGXCPU: more than {CPU_SECONDS} s of processor time?): {}",
        path.display(),
        run.signal,
        run.stderr
    );
    Measured {
        report: run.json(),
        stderr: run.stderr,
        exit: run.code,
        peak_kib: i64::try_from(measured.max_rss_kib).expect("a peak in KiB"),
    }
}

fn messages<'r>(report: &'r Value, code: &str) -> Vec<&'r str> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["message"].as_str().expect("message"))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write input");
    path
}

#[test]
fn a_configmap_listing_two_million_servers() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let servers = vec!["tls://a"; 2_000_000].join(",");
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: many, namespace: apps}}\ndata:\n  NATS_URL: \"{servers}\"\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: client, namespace: apps}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: client\n        image: x\n        envFrom:\n        - configMapRef: {{name: many}}\n"
    );
    assert!(
        text.len() < 16 << 20 && text.len() > 15 << 20,
        "{}",
        text.len()
    );
    let path = write(dir.path(), "servers.yaml", &text);
    let measured = lint_measured(&path);
    assert_eq!(measured.exit, 1, "{}", measured.stderr);
    let too_many = messages(&measured.report, "ND107");
    assert_eq!(too_many.len(), 1, "{too_many:?}");
    assert!(
        too_many[0].contains("the list has 2000000 servers; nats-doctor reads the first 1,024"),
        "{}",
        too_many[0]
    );
    // Read through envFrom, the value is one environment string of 16 MB: the
    // container cannot start.
    let too_large = messages(&measured.report, "ND311");
    assert_eq!(too_large.len(), 1, "{:#}", measured.report);
    assert!(
        too_large[0].starts_with("`NATS_URL` is 15999999 bytes long"),
        "{}",
        too_large[0]
    );
    assert!(
        measured.peak_kib < MEMORY_TARGET_KIB / 2,
        "peak RSS {} KiB",
        measured.peak_kib
    );
}

/// A 1.4 KB Pod whose values double through `$(VAR)` `levels` times.
fn doubling_pod(levels: usize) -> String {
    let mut text = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: doubling, namespace: apps}\nspec:\n  containers:\n  - name: c\n    image: x\n    env:\n    - {name: V0, value: \"nats://aaaaaaaaaaaaaaaa\"}\n",
    );
    for level in 1..=levels {
        let before = level - 1;
        text.push_str(&format!(
            "    - {{name: V{level}, value: \"$(V{before}),$(V{before})\"}}\n"
        ));
    }
    text.push_str(&format!(
        "    - {{name: NATS_URL, value: \"$(V{levels})\"}}\n"
    ));
    text
}

#[test]
fn a_pod_whose_environment_doubles_29_and_30_times() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for levels in [29, 30] {
        let text = doubling_pod(levels);
        assert!(text.len() < 1500, "{}", text.len());
        let path = write(dir.path(), &format!("doubling-{levels}.yaml"), &text);
        let measured = lint_measured(&path);
        assert_eq!(measured.exit, 1, "{}", measured.stderr);
        let too_large = messages(&measured.report, "ND311");
        // V13 is the first over 128 KiB: 24 bytes doubled 13 times, with the commas.
        assert_eq!(
            too_large,
            [format!(
                "`V13` is 196607 bytes long as the kubelet expands it (and {} later variables), more than the 131072 bytes Linux allows for one `NAME=value` environment string: container `c` cannot start (E2BIG)",
                levels - 13 + 1
            )
            .as_str()],
            "levels {levels}"
        );
        // The longest value built, V12, lists 4,096 servers.
        assert!(messages(&measured.report, "ND107")
            .iter()
            .any(|m| m.contains("the list has 4096 servers")));
        assert!(
            measured.peak_kib < 128 * 1024,
            "{levels} levels: peak RSS {} KiB",
            measured.peak_kib
        );
    }
}

#[test]
fn thousands_of_containers_each_expanding_to_the_string_limit() {
    // Each container stays within every limit of Linux: its NATS_URL expands to 112 KiB.
    // Two thousand of them would build about 700 MB; the run's budget stops at 64 MiB.
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut text = String::new();
    for pod in 0..2000 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{pod}, namespace: apps}}\nspec:\n  containers:\n  - name: c\n    image: x\n    env:\n    - {{name: A0, value: \"nats://a:4222\"}}\n"
        ));
        for level in 1..=13 {
            let before = level - 1;
            text.push_str(&format!(
                "    - {{name: A{level}, value: \"$(A{before}),$(A{before})\"}}\n"
            ));
        }
        text.push_str("    - {name: NATS_URL, value: \"$(A13)\"}\n");
    }
    let path = write(dir.path(), "many.yaml", &text);
    let measured = lint_measured(&path);
    assert_eq!(measured.exit, 2, "the budget is reported as an input error");
    assert!(
        measured
            .stderr
            .contains("`$(VAR)` expansion stopped at `A13`: this input's values expand to more than the 64 MiB"),
        "{}",
        measured.stderr
    );
    assert!(messages(&measured.report, "ND311").is_empty());
    assert!(
        measured.peak_kib < MEMORY_TARGET_KIB / 2,
        "peak RSS {} KiB",
        measured.peak_kib
    );
}

#[test]
fn a_configmap_of_eight_thousand_lists_of_1024_servers() {
    // Each value is within the limit of one list; together they list 8.3 million
    // servers in 16 MiB. A parsed server takes some 150 bytes, so the run's budget of
    // servers stops the parse.
    let dir = tempfile::tempdir().expect("temporary directory");
    let list = format!("nats://a{}", ",a".repeat(1023));
    let mut text = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lists, namespace: apps}\ndata:\n",
    );
    let mut keys: usize = 0;
    while text.len() + list.len() + 16 < 16 << 20 {
        text.push_str(&format!("  K{keys}: \"{list}\"\n"));
        keys += 1;
    }
    let path = write(dir.path(), "lists.yaml", &text);
    let measured = lint_measured(&path);
    assert_eq!(measured.exit, 2, "the budget is reported as an input error");
    assert!(
        measured.stderr.contains(&format!(
            "servers not checked from `K{}` on: the input's URL values list more than {} servers in all",
            (65_536 + 8 * keys).div_ceil(1024),
            65_536 + 8 * keys
        )),
        "{keys} keys: {}",
        measured.stderr
    );
    assert!(
        measured.peak_kib < MEMORY_TARGET_KIB / 2,
        "peak RSS {} KiB",
        measured.peak_kib
    );
}

#[test]
fn the_budget_of_servers_stops_at_the_same_site_on_two_threads() {
    // Enough workloads for the servers to be parsed on two threads, in runs the budget
    // covers: the parse stops at the value it stops at one site after the other, the
    // first with no budget left.
    let dir = tempfile::tempdir().expect("temporary directory");
    let list = format!("nats://a{}", ",a".repeat(1023));
    let workloads: usize = 1100;
    let mut text = String::new();
    for i in 0..workloads {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: apps}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        env: [{{name: SEED_{i}, value: \"{list}\"}}]\n"
        ));
    }
    let path = write(dir.path(), "seeds.yaml", &text);
    let measured = lint_measured(&path);
    assert_eq!(measured.exit, 2, "the budget is reported as an input error");
    let budget = 65_536 + 8 * workloads;
    assert!(
        measured.stderr.contains(&format!(
            "servers not checked from `SEED_{}` on: the input's URL values list more than {budget} servers in all",
            budget.div_ceil(1024)
        )),
        "{}",
        measured.stderr
    );
}

#[test]
fn a_value_of_1024_servers_read_by_twenty_thousand_workloads() {
    // Findings at the value name its readers, and the policy rules judge every reader
    // against every server: both once made twenty million of something (2 GB from a
    // 4 MiB input). The readers are kept once per value, and the pairs judged stop at
    // the rules' budget, with an input error.
    let dir = tempfile::tempdir().expect("temporary directory");
    let servers: Vec<String> = (0..1024)
        .map(|i| format!("nats://s{i}.n{i}:4222"))
        .collect();
    let mut text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: shared, namespace: apps}}\ndata:\n  NATS_URL: \"{}\"\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: dns-only, namespace: apps}}\nspec:\n  podSelector: {{}}\n  egress:\n  - ports: [{{protocol: UDP, port: 53}}]\n",
        servers.join(",")
    );
    let mut workloads = 0;
    while text.len() < 4 << 20 {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{workloads}, namespace: apps}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        envFrom: [{{configMapRef: {{name: shared}}}}]\n"
        ));
        workloads += 1;
    }
    let path = write(dir.path(), "shared.yaml", &text);
    let measured = lint_measured(&path);
    assert_eq!(measured.exit, 2, "{}", measured.stderr);
    assert!(
        measured.stderr.contains(
            "ND401 (egress-blocks-nats) stopped at `NATS_URL`: judging the input's NATS clients, servers, pods and NetworkPolicies takes more than 4194304 steps"
        ),
        "{}",
        measured.stderr
    );
    let blocked = messages(&measured.report, "ND401");
    assert!(blocked.len() > 100, "{}", blocked.len());
    assert!(
        blocked[0].contains(&format!("and {} more;", workloads - 10)),
        "{}",
        blocked[0]
    );
    assert!(
        measured.peak_kib < MEMORY_TARGET_KIB / 2,
        "peak RSS {} KiB",
        measured.peak_kib
    );
}

#[test]
fn thousands_of_policies_no_label_indexes_meet_thousands_of_pods() {
    // A selector of `DoesNotExist` and `Exists` requirements names no label a pod must
    // carry, so every such policy of a namespace may select every pod of it, and the
    // NATS pods behind one Service are met by every client: three thousand of each
    // are nine million steps per rule. The policy rules stop at their budget.
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut text = String::from(
        "apiVersion: v1\nkind: Service\nmetadata: {name: nats, namespace: nats}\nspec:\n  selector: {app: nats}\n  ports: [{port: 4222}]\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: nats}\nspec:\n  podSelector: {}\n",
    );
    for i in 0..3000 {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: apps}}\nspec:\n  template:\n    metadata: {{labels: {{app: w{i}}}}}\n    spec:\n      containers: [{{name: c, image: x, env: [{{name: NATS_URL, value: \"nats://nats.nats:4222\"}}]}}]\n\
             ---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: apps}}\nspec:\n  podSelector: {{matchExpressions: [{{key: app, operator: DoesNotExist}}, {{key: x{i}, operator: Exists}}]}}\n  policyTypes: [Egress]\n\
             ---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: nats{i}, namespace: nats}}\nspec:\n  template:\n    metadata: {{labels: {{app: nats, i: \"{i}\"}}}}\n    spec:\n      containers: [{{name: c, image: x, ports: [{{containerPort: 4222}}]}}]\n"
        ));
    }
    let path = write(dir.path(), "policies.yaml", &text);
    let measured = lint_measured(&path);
    assert_eq!(measured.exit, 2, "{}", measured.stderr);
    for rule in [
        "ND401 (egress-blocks-nats)",
        "ND402 (egress-blocks-dns)",
        "ND403 (policy-selects-nothing)",
        "ND404 (ingress-blocks-clients)",
    ] {
        assert!(
            measured.stderr.contains(&format!("{rule} stopped at `"))
                && measured.stderr.contains("takes more than 4194304 steps"),
            "{rule}: {}",
            measured.stderr
        );
    }
    assert!(
        measured.peak_kib < MEMORY_TARGET_KIB / 2,
        "peak RSS {} KiB",
        measured.peak_kib
    );
}

#[test]
fn names_that_thousands_of_namespaces_have_and_prefixes_of_their_own() {
    // Five thousand refs to a ConfigMap that five thousand other namespaces have, and
    // twenty thousand workloads with a subject prefix each: every finding listed every
    // namespace or every other prefix (1.6 GB and 3.3 GB, and as much output).
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut refs = String::new();
    for i in 0..5000 {
        refs.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: n{i}}}\ndata: {{A: b}}\n\
             ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: apps}}\nspec:\n  template:\n    spec:\n      containers: [{{name: c, image: x, envFrom: [{{configMapRef: {{name: x}}}}]}}]\n"
        ));
    }
    let measured = lint_measured(&write(dir.path(), "refs.yaml", &refs));
    let other = messages(&measured.report, "ND307");
    assert_eq!(other.len(), 5000);
    assert!(
        other[0].starts_with("ConfigMap `x` is in namespace `n0`, `n1`, `n10`, `n100`, `n1000` and 4995 more, not in `apps`"),
        "{}",
        other[0]
    );
    assert!(
        measured.peak_kib < MEMORY_TARGET_KIB / 4,
        "peak RSS {} KiB",
        measured.peak_kib
    );

    let mut prefixes = String::new();
    for i in 0..20_000 {
        prefixes.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: apps}}\nspec:\n  template:\n    spec:\n      containers: [{{name: c, image: x, env: [{{name: NATS_SUBJECT_PREFIX, value: \"p{i}\"}}]}}]\n"
        ));
    }
    let measured = lint_measured(&write(dir.path(), "prefixes.yaml", &prefixes));
    let inconsistent = messages(&measured.report, "ND305");
    assert_eq!(inconsistent.len(), 20_000);
    assert!(inconsistent[0].ends_with("; other workloads use: p1, p10, p100, p1000, p10000, p10001, p10002, p10003, p10004, p10005 and 19989 more"), "{}", inconsistent[0]);
    assert!(
        measured.peak_kib < MEMORY_TARGET_KIB / 2,
        "peak RSS {} KiB",
        measured.peak_kib
    );
}
