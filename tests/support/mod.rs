//! Real components for the integration tests: the one runner of the binary (`run`),
//! `nats-server` processes, a DNS server and a raw DNS responder on loopback, listeners
//! the tests own, the chart and overlay renderers, and network namespaces that emulate a
//! pod and its cluster. Nothing here sends a packet outside 127.0.0.0/8, except to
//! documentation addresses inside namespaces a test created.
#![allow(dead_code)]

pub mod client;
pub mod dns_server;
pub mod hostile;
pub mod listener;
pub mod nats_server;
pub mod netns;
pub mod raw_dns;
pub mod run;
pub mod tools;
pub mod watch;

#[allow(unused_imports)]
pub use run::{
    assert_within, binary, check, check_through, nats_doctor, run_measured, Measured, Run,
};

use std::net::{Ipv4Addr, SocketAddr};

/// A loopback address with that port.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// The repository's root, where the fixtures are.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
