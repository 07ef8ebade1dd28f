//! The test support itself: a real nats-server answers with INFO, the DNS server answers.
mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::time::Duration;
use support::nats_server::{Auth, NatsServer, Options};

fn first_line(port: u16) -> String {
    let stream = TcpStream::connect(support::loopback(port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("read");
    line
}

#[test]
fn nats_server_sends_info_and_is_killed_on_drop() {
    let port = {
        let server = NatsServer::plain();
        assert!(first_line(server.port).starts_with("INFO {"));
        server.port
    };
    assert!(TcpStream::connect(support::loopback(port)).is_err());
}

#[test]
fn tls_and_auth_servers_start() {
    let server = NatsServer::start(Options {
        auth: Auth::Token,
        tls: true,
        ..Options::default()
    });
    let info = first_line(server.port);
    assert!(info.contains("\"tls_required\":true"), "{info}");
    assert!(info.contains("\"auth_required\":true"), "{info}");
    assert!(server.tls.as_ref().is_some_and(|files| files.ca.is_file()));
}

fn ask(server: &support::dns_server::DnsServer, name: &str) -> Option<hickory_proto::op::Message> {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RecordType};
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut query = Message::query();
    query.add_query(Query::query(
        Name::from_ascii(name).expect("name"),
        RecordType::A,
    ));
    socket
        .send_to(&query.to_vec().expect("encode"), server.addr)
        .expect("send");
    let mut buffer = [0u8; 2048];
    let (length, _) = socket.recv_from(&mut buffer).ok()?;
    Some(Message::from_vec(&buffer[..length]).expect("decode"))
}

#[test]
fn dns_server_answers_and_fails_on_demand() {
    use hickory_proto::op::ResponseCode;
    use support::dns_server::{Answer, DnsServer, NATS_FQDN};
    let server = DnsServer::start();
    let answer = ask(&server, NATS_FQDN).expect("an answer");
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(answer.answers.len(), 1);
    let missing = ask(&server, "nope.nats.svc.cluster.local.").expect("an answer");
    assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        missing.authorities.len(),
        1,
        "negative answers carry the SOA"
    );
    server.set("broken.svc.cluster.local.", Answer::ServFail);
    let broken = ask(&server, "broken.svc.cluster.local.").expect("an answer");
    assert_eq!(broken.metadata.response_code, ResponseCode::ServFail);
    server.set("silent.svc.cluster.local.", Answer::Ignore);
    assert!(ask(&server, "silent.svc.cluster.local.").is_none());
    assert_eq!(server.queries(), 4);
}
