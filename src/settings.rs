//! The three settings of the documented services, by name and default, defined once for
//! `lint` (which judges them in manifests) and for `check`, `test-messaging` and
//! `watch` (which read them as a service does).

/// The server list; a comma-separated list is allowed.
pub const URL_VARIABLE: &str = "NATS_URL";
/// Messaging on or off.
pub const ENABLED_VARIABLE: &str = "NATS_ENABLED";
/// The first tokens of every event subject.
pub const PREFIX_VARIABLE: &str = "NATS_SUBJECT_PREFIX";

/// What the services use when `NATS_URL` is unset.
pub const DEFAULT_URL: &str = "nats://localhost:4222";
/// What the services use when `NATS_ENABLED` is unset.
pub const DEFAULT_ENABLED: &str = "true";
/// What the services use when `NATS_SUBJECT_PREFIX` is unset, and what the documented
/// monitoring subjects assume.
pub const DEFAULT_PREFIX: &str = "binance.extraction";

/// Whether a `NATS_ENABLED` value turns messaging on: the services compare
/// `value.lower() == "true"`, so anything else turns it off.
pub fn messaging_enabled(value: &str) -> bool {
    value.to_lowercase() == "true"
}
