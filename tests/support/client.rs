//! A second NATS client for the tests, beside the binary under test: nats-doctor's own
//! client library, driven synchronously, on plain loopback connections to the test's
//! own nats-server. It publishes what `watch` must see and listens to what
//! `test-messaging` publishes.

use nats_doctor::nats::connect::connect_plain;
use nats_doctor::nats::{Client, Incoming, Message};
use std::collections::VecDeque;
use std::time::Duration;

/// Upper bound for anything this client waits for.
const PATIENCE: Duration = Duration::from_secs(10);

pub struct TestClient {
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// Messages that arrived while waiting for something else.
    queued: VecDeque<Message>,
}

impl TestClient {
    pub fn connect(port: u16) -> TestClient {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = runtime
            .block_on(connect_plain(super::loopback(port), PATIENCE))
            .unwrap_or_else(|error| panic!("connect to 127.0.0.1:{port}: {error}"));
        TestClient {
            runtime,
            client,
            queued: VecDeque::new(),
        }
    }

    pub fn subscribe(&mut self, subject: &str) -> u64 {
        self.client.subscribe(subject).expect("a valid subject")
    }

    pub fn publish(&mut self, subject: &str, headers: &[(&str, &str)], payload: &[u8]) {
        self.client
            .publish(subject, headers, payload)
            .expect("a valid message");
        // Written in batches, so that a large publication does not pile up unsent.
        if self.client.pending_output() > 1 << 20 {
            self.runtime
                .block_on(self.client.write_queued())
                .expect("write");
        }
    }

    /// PING until PONG: the server has processed everything sent before.
    pub fn flush(&mut self) {
        self.client.ping();
        let Self {
            runtime,
            client,
            queued,
        } = self;
        runtime.block_on(async {
            tokio::time::timeout(PATIENCE, async {
                // Bounded: the timeout ends the wait.
                loop {
                    match client.next().await.expect("connection") {
                        Incoming::Pong => return,
                        Incoming::Message(message) => queued.push_back(message),
                        Incoming::ServerError(error) => panic!("server error: {error}"),
                        Incoming::Info => {}
                    }
                }
            })
            .await
            .expect("PONG within the limit")
        });
    }

    /// The next message on any subscription.
    pub fn next_message(&mut self) -> Message {
        if let Some(message) = self.queued.pop_front() {
            return message;
        }
        let client = &mut self.client;
        self.runtime.block_on(async {
            tokio::time::timeout(PATIENCE, async {
                // Bounded: the timeout ends the wait.
                loop {
                    match client.next().await.expect("connection") {
                        Incoming::Message(message) => return message,
                        Incoming::ServerError(error) => panic!("server error: {error}"),
                        Incoming::Pong | Incoming::Info => {}
                    }
                }
            })
            .await
            .expect("a message within the limit")
        })
    }
}
