//! Real components for the integration tests: `nats-server` processes and a DNS server,
//! all on loopback. Nothing here sends a packet outside 127.0.0.0/8.
#![allow(dead_code)]

pub mod dns_server;
pub mod nats_server;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A loopback address with that port.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}
