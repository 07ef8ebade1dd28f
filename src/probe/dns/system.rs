//! The system resolver (getaddrinfo), what the client libraries use, run beside the
//! step's own queries so that the two can be compared.

use std::net::IpAddr;
use std::time::Duration;
use tokio::time::timeout_at;

/// getaddrinfo, on a thread of its own, within the step's deadline. A lookup that never
/// returns (a nameserver that drops packets, with glibc's 5 s × attempts per name) is
/// left behind: neither the step nor the end of the process waits for it, as they
/// would for a task of the runtime's blocking pool.
pub(super) async fn system_resolve(
    name: &str,
    port: u16,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Result<Vec<IpAddr>, String> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let host = name.to_string();
    let spawned = std::thread::Builder::new()
        .name("getaddrinfo".to_string())
        .spawn(move || {
            use std::net::ToSocketAddrs;
            let result = (host.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            // The step may be over; then nobody listens, which is fine.
            let _ = sender.send(result);
        });
    if let Err(error) = spawned {
        return Err(format!("cannot start the lookup: {error}"));
    }
    match timeout_at(deadline, receiver).await {
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(_)) => Err("the lookup ended without a result".to_string()),
        Ok(Ok(Err(error))) => Err(error.to_string()),
        Ok(Ok(Ok(addresses))) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for address in addresses {
                if !ips.contains(&address.ip()) {
                    ips.push(address.ip());
                }
            }
            Ok(ips)
        }
    }
}
