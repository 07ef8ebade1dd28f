//! The environment variables that hold NATS addresses, told by their names: the
//! documented `NATS_URL`, and the names real apps read (`NATS_SERVERS`, `NATS_SERVER`,
//! `NATS_ADDRESS`, `NATS_URI`, `NATS_HOST` with `NATS_PORT`, `<APP>_NATS_URL`,
//! `NATS_MON_URL`, …), each with what its value is expected to hold.

use crate::manifest::integrations::Expectation;

/// What a variable's name says it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NamedAddress {
    /// An address with this expectation.
    Address(Expectation),
    /// The port that goes with a `..._HOST` variable of the same prefix.
    Port,
}

/// The words after `NATS` that name a server list.
const SERVER_WORDS: &[&str] = &[
    "URL",
    "URLS",
    "URI",
    "URIS",
    "SERVERS",
    "SERVER",
    "ADDRESS",
    "ADDR",
    "ADDRS",
    "ENDPOINT",
    "ENDPOINTS",
];
/// Words that make a name one of a server's own settings, not a client's address.
const SERVER_SIDE_WORDS: &[&str] = &[
    "ROUTE",
    "ROUTES",
    "LEAF",
    "LEAFNODE",
    "LEAFNODES",
    "GATEWAY",
];
const MONITORING_WORDS: &[&str] = &["MON", "MONITOR", "MONITORING", "HTTP"];

/// What a variable named `name` holds, by its name alone: `None` for names that do not
/// name a NATS address. `NATS_URL` and the names given with `--url-var` are server
/// lists.
pub(crate) fn by_name(name: &str, url_vars: &[String]) -> Option<NamedAddress> {
    if name == crate::lint::context::URL_VARIABLE || url_vars.iter().any(|v| v == name) {
        return Some(NamedAddress::Address(Expectation::Servers {
            scheme_optional: false,
        }));
    }
    // Every name recognised below has a word `NATS`; nearly every variable of an input
    // has not, and is told apart without allocating.
    if !mentions_nats(name) {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-', '.']).collect();
    // The words after the last `NATS`: `DEVICECONNECT_NATS_URI` has `URI`.
    let at = words.iter().rposition(|word| *word == "NATS")?;
    let after = &words[at + 1..];
    let last = *after.last()?;
    if after.iter().any(|word| SERVER_SIDE_WORDS.contains(word)) {
        return None;
    }
    let monitoring = after.iter().any(|word| MONITORING_WORDS.contains(word));
    if SERVER_WORDS.contains(&last) {
        return Some(NamedAddress::Address(if monitoring {
            Expectation::MonitoringUrl
        } else {
            Expectation::Servers {
                scheme_optional: false,
            }
        }));
    }
    match (last, monitoring) {
        ("HOST" | "HOSTNAME" | "HOSTS", false) => Some(NamedAddress::Address(Expectation::Host)),
        ("PORT", false) => Some(NamedAddress::Port),
        _ => None,
    }
}

/// Whether `name` holds `NATS` in any case.
pub(crate) fn mentions_nats(name: &str) -> bool {
    name.as_bytes()
        .windows(4)
        .any(|piece| piece.eq_ignore_ascii_case(b"NATS"))
}

/// The name of the port variable that goes with a host variable (`NATS_HOST` →
/// `NATS_PORT`, `APP_NATS_HOST` → `APP_NATS_PORT`).
pub(crate) fn port_variable(host_variable: &str) -> Option<String> {
    let upper = host_variable.to_ascii_uppercase();
    for suffix in ["HOSTNAME", "HOSTS", "HOST"] {
        if let Some(stem) = upper.strip_suffix(suffix) {
            let stem_length = stem.len();
            return Some(format!("{}PORT", &host_variable[..stem_length]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers() -> Option<NamedAddress> {
        Some(NamedAddress::Address(Expectation::Servers {
            scheme_optional: false,
        }))
    }

    #[test]
    fn names_real_apps_read() {
        for name in [
            "NATS_URL",
            "NATS_SERVERS",
            "NATS_SERVER",
            "NATS_ADDRESS",
            "NATS_URI",
            "DEVICECONNECT_NATS_URI",
            "MF_NATS_URL",
            "nats_url",
        ] {
            assert_eq!(by_name(name, &[]), servers(), "{name}");
        }
        assert_eq!(
            by_name("NATS_HOST", &[]),
            Some(NamedAddress::Address(Expectation::Host))
        );
        assert_eq!(
            by_name("NATS_SERVER_HOST", &[]),
            Some(NamedAddress::Address(Expectation::Host))
        );
        assert_eq!(by_name("NATS_PORT", &[]), Some(NamedAddress::Port));
        assert_eq!(
            by_name("NATS_MON_URL", &[]),
            Some(NamedAddress::Address(Expectation::MonitoringUrl))
        );
        for name in [
            "NATS_ENABLED",
            "NATS_SUBJECT_PREFIX",
            "NATS_TOKEN",
            "NATS_PASSWORD",
            "NATS_CLUSTER_ROUTES",
            "NATS_LEAFNODE_URL",
            "NATS_MONITOR_PORT",
            "NATSURL",
            "KAFKA_URL",
        ] {
            assert_eq!(by_name(name, &[]), None, "{name}");
        }
        assert_eq!(by_name("EVENTS", &["EVENTS".to_string()]), servers());
    }

    #[test]
    fn a_host_has_its_port_beside_it() {
        assert_eq!(port_variable("NATS_HOST").as_deref(), Some("NATS_PORT"));
        assert_eq!(
            port_variable("APP_NATS_HOSTNAME").as_deref(),
            Some("APP_NATS_PORT")
        );
        assert_eq!(port_variable("NATS_URL"), None);
    }
}
