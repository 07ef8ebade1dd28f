//! Network namespaces for what loopback cannot show: packets dropped, answered with
//! ICMP unreachable or reset, and a system resolver that sees what a pod sees.
//!
//! A [`PodNetwork`] is two namespaces the test creates and removes on drop (also when it
//! fails): the pod (198.51.100.2/24) and the cluster (198.51.100.1/24), joined by a veth
//! pair, with the cluster's Service addresses on 203.0.113.0/24 routed through it — the
//! DNS Service at 203.0.113.53, others as the test adds them. The pod's
//! `/etc/netns/<pod>/resolv.conf` has a pod's search list and `ndots:5`; `ip netns exec`
//! mounts it over /etc/resolv.conf, so getaddrinfo reads it too. nftables rules in the
//! cluster namespace play the NetworkPolicy or the dead node. Only documentation
//! addresses, only inside these namespaces.
//!
//! Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN), `ip` (iproute2) and `nft` (nftables);
//! without them a test fails and says so.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The pod's address, and the cluster side of the link (the pod's gateway).
pub const POD: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// The cluster DNS Service (kube-dns), in the pod's resolv.conf.
pub const DNS: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 53);
/// The NATS Service address the tests use.
pub const NATS: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);

const HOW: &str = "run them as root, for example `sudo -E cargo test --test netns`";

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();

/// Fails the test, saying what is missing, unless namespaces can be made here.
fn require() {
    // Worked out once; every test that needs it fails with the same message.
    if let Err(missing) = CHECKED.get_or_init(missing_privilege_or_tool) {
        panic!("{missing}");
    }
}

fn missing_privilege_or_tool() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|bits| u64::from_str_radix(bits.trim(), 16).ok())
        .unwrap_or(0);
    const CAP_NET_ADMIN: u64 = 1 << 12;
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    if effective & CAP_NET_ADMIN == 0 || effective & CAP_SYS_ADMIN == 0 {
        return Err(format!(
            "the network-namespace tests need root (CAP_NET_ADMIN and CAP_SYS_ADMIN, for \
             `ip netns`): {HOW}"
        ));
    }
    for (name, package) in [("ip", "iproute2"), ("nft", "nftables")] {
        if find(name).is_none() {
            return Err(format!(
                "the network-namespace tests need `{name}`: apt-get install {package}"
            ));
        }
    }
    Ok(())
}

/// A tool on PATH or in the system directories (which a user's PATH often lacks).
fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The tool's full path, for commands (and for `ip netns exec`, which looks programs
/// up on its own PATH).
fn tool(name: &str) -> String {
    find(name).map_or_else(|| name.to_string(), |path| path.display().to_string())
}

/// Runs a tool to completion; a failure fails the test with its output.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(tool(program))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {} failed: {}\n(the network-namespace tests need root and iproute2: {HOW})",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// A tool run with `stdin` as its input.
fn run_with_input(program: &str, args: &[&str], stdin: &str) {
    use std::io::Write;
    let mut child = Command::new(tool(program))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .expect("write to the tool");
    }
    let output = child.wait_with_output().expect("wait for the tool");
    assert!(
        output.status.success(),
        "{program} {} failed: {}\ninput:\n{stdin}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// Namespaces left by test processes that were killed before they could remove them.
fn remove_stale() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("ndt-")
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = Command::new(tool("ip"))
                .args(["netns", "del", &name])
                .stderr(Stdio::null())
                .status();
            let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&name));
        }
    }
}

/// A pod and its cluster; both namespaces are removed on drop.
pub struct PodNetwork {
    pub pod: String,
    pub cluster: String,
    etc: PathBuf,
}

impl PodNetwork {
    /// The two namespaces, linked and routed, with a pod's resolv.conf for a pod in
    /// `namespace`.
    pub fn new(namespace: &str) -> PodNetwork {
        require();
        remove_stale();
        let base = format!(
            "ndt-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let network = PodNetwork {
            pod: format!("{base}-pod"),
            cluster: format!("{base}-cluster"),
            etc: Path::new("/etc/netns").join(format!("{base}-pod")),
        };
        let (pod, cluster) = (network.pod.as_str(), network.cluster.as_str());
        run("ip", &["netns", "add", pod]);
        run("ip", &["netns", "add", cluster]);
        // Created inside the namespaces, so that parallel tests never share a name.
        run(
            "ip",
            &[
                "-n", pod, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns",
                cluster,
            ],
        );
        let pod_address = format!("{POD}/24");
        let gateway_address = format!("{GATEWAY}/24");
        let dns_address = format!("{DNS}/32");
        let gateway = GATEWAY.to_string();
        run(
            "ip",
            &["-n", pod, "addr", "add", &pod_address, "dev", "eth0"],
        );
        run(
            "ip",
            &[
                "-n",
                cluster,
                "addr",
                "add",
                &gateway_address,
                "dev",
                "eth0",
            ],
        );
        for name in [pod, cluster] {
            run("ip", &["-n", name, "link", "set", "lo", "up"]);
            run("ip", &["-n", name, "link", "set", "eth0", "up"]);
        }
        run(
            "ip",
            &["-n", pod, "route", "add", "203.0.113.0/24", "via", &gateway],
        );
        // Every Service and pod address of 203.0.113.0/24 is local to the cluster: a
        // listener can bind any of them, and nothing else answers for them.
        run(
            "ip",
            &["-n", cluster, "addr", "add", &dns_address, "dev", "lo"],
        );
        run(
            "ip",
            &[
                "-n",
                cluster,
                "route",
                "add",
                "local",
                "203.0.113.0/24",
                "dev",
                "lo",
            ],
        );
        // Linux answers at most a few packets a second with ICMP errors per peer; a
        // test sends more than that, and each must get its answer.
        run(
            "ip",
            &[
                "netns",
                "exec",
                cluster,
                &tool("sh"),
                "-c",
                "echo 0 > /proc/sys/net/ipv4/icmp_ratelimit",
            ],
        );
        std::fs::create_dir_all(&network.etc).expect("create /etc/netns/<pod>");
        std::fs::write(
            network.etc.join("resolv.conf"),
            format!(
                "nameserver {DNS}\nsearch {namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
            ),
        )
        .expect("write the pod's resolv.conf");
        network
    }

    /// nftables rules for packets arriving in the cluster (`tcp dport 4222 drop`, `udp
    /// dport 53 reject with icmpx type port-unreachable`, …), in order; they replace the
    /// rules set before.
    pub fn firewall(&self, rules: &[&str]) {
        let mut ruleset = String::from(
            "flush ruleset\ntable inet netpol {\n  chain input {\n    type filter hook input priority 0; policy accept;\n",
        );
        for rule in rules {
            ruleset.push_str("    ");
            ruleset.push_str(rule);
            ruleset.push('\n');
        }
        ruleset.push_str("  }\n}\n");
        run_with_input(
            "ip",
            &["netns", "exec", &self.cluster, &tool("nft"), "-f", "-"],
            &ruleset,
        );
    }

    /// Runs `work` on a thread inside the cluster namespace; sockets it opens stay there.
    pub fn in_cluster<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        enter_and_run(&self.cluster, work)
    }

    /// A UDP socket bound in the cluster namespace.
    pub fn bind_udp(&self, address: SocketAddr) -> UdpSocket {
        self.in_cluster(|| UdpSocket::bind(address))
            .unwrap_or_else(|error| panic!("bind UDP {address} in the cluster: {error}"))
    }

    /// A TCP listener bound in the cluster namespace.
    pub fn bind_tcp(&self, address: SocketAddr) -> TcpListener {
        self.in_cluster(|| TcpListener::bind(address))
            .unwrap_or_else(|error| panic!("bind TCP {address} in the cluster: {error}"))
    }

    /// `nats-doctor check ARGS` in the pod, with its resolv.conf and exactly `env`.
    pub fn check(&self, args: &[&str], env: &[(&str, &str)]) -> super::Run {
        super::check_through(&[&tool("ip"), "netns", "exec", &self.pod], args, env)
    }

    /// A `nats-server` listening on `address` in the cluster; killed on drop. Ready once
    /// its ports file appears (it is written when the listener is bound).
    pub fn nats_server(&self, address: SocketAddr) -> ClusterProcess {
        let ports = tempfile::tempdir().expect("a directory for the ports file");
        let child = Command::new(tool("ip"))
            .args(["netns", "exec", &self.cluster])
            .arg(super::nats_server::which_nats_server())
            .args([
                "-a",
                &address.ip().to_string(),
                "-p",
                &address.port().to_string(),
                "--ports_file_dir",
            ])
            .arg(ports.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server in the cluster namespace");
        // `ip netns exec` replaces itself with nats-server: the child's pid is the server's.
        let file = ports
            .path()
            .join(format!("nats-server_{}.ports", child.id()));
        let process = ClusterProcess {
            child,
            _ports: ports,
        };
        super::listener::wait_until(
            &format!("nats-server's ports file for {address}"),
            Duration::from_secs(5),
            || std::fs::read_to_string(&file).is_ok_and(|text| text.contains(&address.to_string())),
        );
        process
    }
}

impl Drop for PodNetwork {
    fn drop(&mut self) {
        for name in [&self.pod, &self.cluster] {
            let _ = Command::new(tool("ip"))
                .args(["netns", "del", name])
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

/// A process started in the cluster namespace (`ip netns exec` replaces itself with
/// it, so the child is the process); killed on drop.
pub struct ClusterProcess {
    child: Child,
    _ports: tempfile::TempDir,
}

impl Drop for ClusterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn enter_and_run<T: Send>(namespace: &str, work: impl FnOnce() -> T + Send) -> T {
    let path = Path::new("/run/netns").join(namespace);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let handle = std::fs::File::open(&path)
                    .unwrap_or_else(|error| panic!("open {}: {error}", path.display()));
                // SAFETY: setns on this thread alone, with a descriptor of a network
                // namespace that stays open for the call; the thread ends after `work`.
                let entered = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(
                    entered,
                    0,
                    "setns into {namespace}: {}",
                    std::io::Error::last_os_error()
                );
                work()
            })
            .join()
            .expect("the thread in the namespace")
    })
}
