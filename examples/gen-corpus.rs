//! Writes a deterministic benchmark corpus: N applications, each a workload (Deployment,
//! StatefulSet or CronJob), its ConfigMap, a Service and a NetworkPolicy, spread over 40
//! namespaces, one file per application. About one application in five carries a NATS
//! mistake (an IP, localhost, a missing NATS_URL, an unquoted boolean, a route port).
//!
//!     cargo run --release --example gen-corpus -- 15000 target/bench-corpus

use std::fmt::Write as _;
use std::path::PathBuf;

const NAMESPACES: usize = 40;

/// A small linear congruential generator: the corpus must not change between runs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let apps: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(15_000);
    let root = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/bench-corpus".to_string()),
    );
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let mut random = Lcg(42);
    for namespace in 0..NAMESPACES {
        std::fs::create_dir_all(root.join(format!("team-{namespace:02}")))?;
    }
    for app in 0..apps {
        let namespace = format!("team-{:02}", app % NAMESPACES);
        let name = format!("extractor-{app:05}");
        let (url, enabled) = match random.next() % 20 {
            0 => (
                format!(
                    "\"nats://10.{}.{}.{}:4222\"",
                    app % 250,
                    app % 200,
                    app % 100
                ),
                "\"true\"",
            ),
            1 => ("\"nats://localhost:4222\"".to_string(), "\"true\""),
            2 => ("\"nats://nats-server.nats:8222\"".to_string(), "\"true\""),
            3 => (
                "\"nats://nats-server.nats.svc.cluster.local:4222\"".to_string(),
                "true",
            ),
            4 => ("\"nats://nats-server:4222\"".to_string(), "\"yes\""),
            _ => (
                "\"nats://nats-server.nats.svc.cluster.local:4222\"".to_string(),
                "\"true\"",
            ),
        };
        let mut text = String::new();
        let _ = write!(
            text,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\n  namespace: {namespace}\n  labels:\n    app.kubernetes.io/name: {name}\ndata:\n  NATS_URL: {url}\n  NATS_ENABLED: {enabled}\n  NATS_SUBJECT_PREFIX: \"binance.extraction\"\n  LOG_LEVEL: \"info\"\n  BINANCE_API_URL: \"https://api.binance.com\"\n---\n"
        );
        let container = format!(
            "      - name: extractor\n        image: petrosa/binance-extractor:1.{}.{}\n        args: [\"--period\", \"15m\", \"--symbols\", \"BTCUSDT,ETHUSDT\"]\n        ports:\n        - containerPort: 8080\n          name: http\n        envFrom:\n        - configMapRef:\n            name: {name}-config\n        env:\n        - name: POD_NAMESPACE\n          valueFrom:\n            fieldRef:\n              fieldPath: metadata.namespace\n        - name: NATS_TOKEN\n          valueFrom:\n            secretKeyRef:\n              name: nats-credentials\n              key: token\n        resources:\n          requests: {{cpu: 100m, memory: 128Mi}}\n          limits: {{cpu: 500m, memory: 512Mi}}\n",
            app % 7,
            app % 13
        );
        let template = format!(
            "    metadata:\n      labels:\n        app.kubernetes.io/name: {name}\n    spec:\n      containers:\n{container}"
        );
        match random.next() % 3 {
            0 => {
                let indented: String = template.lines().map(|l| format!("        {l}\n")).collect();
                let _ = write!(
                    text,
                    "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  schedule: \"*/15 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n{indented}---\n"
                );
            }
            kind => {
                let kind = if kind == 1 {
                    "Deployment"
                } else {
                    "StatefulSet"
                };
                let _ = write!(
                    text,
                    "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n  template:\n{template}---\n"
                );
            }
        }
        let _ = write!(
            text,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  selector:\n    app.kubernetes.io/name: {name}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n---\n"
        );
        let _ = write!(
            text,
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: monitoring\n  egress:\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: nats\n    ports:\n    - {{port: 4222, protocol: TCP}}\n  - ports:\n    - {{port: 53, protocol: UDP}}\n    - {{port: 53, protocol: TCP}}\n"
        );
        std::fs::write(root.join(&namespace).join(format!("{name}.yaml")), text)?;
    }
    println!(
        "{} objects in {apps} files under {}",
        apps * 4,
        root.display()
    );
    Ok(())
}
