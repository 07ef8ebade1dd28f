//! Where a URL's host leads, seen from a pod: the IP ranges that matter (loopback,
//! private, link-local, the documentation ranges, …), a name's class (a short Service
//! name, `name.namespace`, the cluster FQDN, an external name), and the Public Suffix
//! List that tells `nats.io` from `nats-server.nats`.

use super::Host;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr};

/// Where an IP address points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpRange {
    Loopback,
    Private,
    LinkLocal,
    Unspecified,
    Public,
}

impl IpRange {
    pub fn describe(self) -> &'static str {
        match self {
            IpRange::Loopback => "a loopback address",
            IpRange::Private => {
                "a private address (a pod or ClusterIP that changes when it is recreated)"
            }
            IpRange::LinkLocal => "a link-local address",
            IpRange::Unspecified => "the unspecified address",
            IpRange::Public => "a public address outside the cluster",
        }
    }
}

/// Classifies an IP address with the IANA special-purpose ranges that matter here.
pub fn ip_range(ip: IpAddr) -> IpRange {
    const V4: &[(Ipv4Net, IpRange)] = &[
        (net4(0, 0, 0, 0, 32), IpRange::Unspecified),
        (net4(127, 0, 0, 0, 8), IpRange::Loopback),
        (net4(10, 0, 0, 0, 8), IpRange::Private),
        (net4(172, 16, 0, 0, 12), IpRange::Private),
        (net4(192, 168, 0, 0, 16), IpRange::Private),
        (net4(100, 64, 0, 0, 10), IpRange::Private),
        (net4(169, 254, 0, 0, 16), IpRange::LinkLocal),
    ];
    match ip {
        IpAddr::V4(v4) => V4
            .iter()
            .find(|(net, _)| net.contains(&v4))
            .map_or(IpRange::Public, |(_, range)| *range),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return ip_range(IpAddr::V4(v4));
            }
            let in_net = |text: &str| text.parse::<Ipv6Net>().is_ok_and(|net| net.contains(&v6));
            if v6.is_unspecified() {
                IpRange::Unspecified
            } else if v6.is_loopback() {
                IpRange::Loopback
            } else if in_net("fc00::/7") {
                IpRange::Private
            } else if in_net("fe80::/10") {
                IpRange::LinkLocal
            } else {
                IpRange::Public
            }
        }
    }
}

const fn net4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    match Ipv4Net::new(Ipv4Addr::new(a, b, c, d), prefix) {
        Ok(net) => net,
        Err(_) => panic!("invalid prefix length in a constant network"),
    }
}

/// Whether `ip` lies in `net` (for callers that hold an [`IpNet`]).
pub fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    net.contains(&ip)
}

/// What a host names, seen from a pod. The names are borrowed from the host: lint
/// classifies each server once per rule that asks, and a class that owned its names
/// allocated four strings each time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostClass<'h> {
    Ip {
        address: IpAddr,
        range: IpRange,
    },
    /// `localhost`, `*.localhost`: the pod itself.
    Localhost,
    /// `nats-server`: a Service in the pod's own namespace.
    Short {
        service: &'h str,
    },
    /// `nats-server.nats` or `nats-server.nats.svc`.
    Namespaced {
        service: &'h str,
        namespace: &'h str,
    },
    /// `nats-server.nats.svc.cluster.local` (any domain after `svc`; compare it with
    /// the cluster domain). `subdomain` holds StatefulSet pod names (`nats-0`).
    ClusterFqdn {
        service: &'h str,
        namespace: &'h str,
        domain: &'h str,
        subdomain: Option<&'h str>,
    },
    /// A DNS name outside the cluster.
    External,
}

impl<'h> HostClass<'h> {
    /// The Service and the namespace it is looked up in, for names that point at one.
    /// `own_namespace` is the namespace of the pod that resolves a short name.
    pub fn service<'a>(&self, own_namespace: &'a str) -> Option<(&'a str, &'a str)>
    where
        'h: 'a,
    {
        match self {
            HostClass::Short { service } => Some((service, own_namespace)),
            HostClass::Namespaced { service, namespace }
            | HostClass::ClusterFqdn {
                service, namespace, ..
            } => Some((service, namespace)),
            _ => None,
        }
    }
}

/// Classifies a host. `is_known_namespace` answers for namespaces seen in the input or
/// given on the command line; it decides `name.ns` versus `host.tld`.
pub fn classify_host<'h>(
    host: &'h Host,
    is_known_namespace: &dyn Fn(&str) -> bool,
) -> HostClass<'h> {
    let name = match host {
        Host::Ip(address) => {
            return HostClass::Ip {
                address: *address,
                range: ip_range(*address),
            }
        }
        Host::Name { name, .. } => name.as_str(),
    };
    if name.rsplit('.').next() == Some("localhost") {
        return HostClass::Localhost;
    }
    // The labels as ranges of `name`: the two before the first `svc` are the Service
    // and its namespace, what comes before them a subdomain, and after it the domain.
    let mut before: [Option<(usize, usize)>; 2] = [None, None];
    let mut start = 0;
    for (index, label) in name.split('.').enumerate() {
        let end = start + label.len();
        if label == "svc" {
            let [Some(service), Some(namespace)] = before else {
                break;
            };
            let subdomain = (index > 2).then(|| &name[..service.0 - 1]);
            let (service, namespace) =
                (&name[service.0..service.1], &name[namespace.0..namespace.1]);
            if end == name.len() && subdomain.is_none() {
                return HostClass::Namespaced { service, namespace };
            }
            return HostClass::ClusterFqdn {
                service,
                namespace,
                domain: name.get(end + 1..).unwrap_or(""),
                subdomain,
            };
        }
        before = [before[1], Some((start, end))];
        start = end + 1;
    }
    match name.split_once('.') {
        None => HostClass::Short { service: name },
        Some((service, namespace))
            if !namespace.contains('.')
                && (is_known_namespace(namespace) || !is_top_level_domain(namespace)) =>
        {
            HostClass::Namespaced { service, namespace }
        }
        _ => HostClass::External,
    }
}

/// Whether `label` is a top-level domain on the Public Suffix List (ICANN or private
/// section), so that `nats.io` is a website while `nats-server.nats` is a Service.
pub fn is_top_level_domain(label: &str) -> bool {
    match psl::suffix(label.as_bytes()) {
        Some(suffix) => suffix.typ().is_some() && suffix.as_bytes() == label.as_bytes(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::natsurl::parse_server;

    fn server(text: &str) -> crate::natsurl::ServerUrl {
        parse_server(text, 0).expect("parses")
    }

    fn class(server: &crate::natsurl::ServerUrl) -> HostClass<'_> {
        classify_host(&server.host, &|ns| ns == "petrosa-apps")
    }

    #[test]
    fn classifies_hosts_as_a_pod_resolves_them() {
        let cases = [
            (
                "nats://nats-server",
                HostClass::Short {
                    service: "nats-server",
                },
            ),
            (
                "nats://nats-server.nats",
                HostClass::Namespaced {
                    service: "nats-server",
                    namespace: "nats",
                },
            ),
            (
                "nats://nats-server.nats.svc",
                HostClass::Namespaced {
                    service: "nats-server",
                    namespace: "nats",
                },
            ),
            (
                "nats://nats-server.petrosa-apps",
                HostClass::Namespaced {
                    service: "nats-server",
                    namespace: "petrosa-apps",
                },
            ),
            (
                "nats://nats-0.nats-headless.nats.svc.cluster.local.",
                HostClass::ClusterFqdn {
                    service: "nats-headless",
                    namespace: "nats",
                    domain: "cluster.local",
                    subdomain: Some("nats-0"),
                },
            ),
            (
                "nats://a.b.nats.nats.svc",
                HostClass::ClusterFqdn {
                    service: "nats",
                    namespace: "nats",
                    domain: "",
                    subdomain: Some("a.b"),
                },
            ),
            (
                "nats://nats.nats.svc.corp.example",
                HostClass::ClusterFqdn {
                    service: "nats",
                    namespace: "nats",
                    domain: "corp.example",
                    subdomain: None,
                },
            ),
            // Only the first `svc` label counts: one too early leaves a plain name.
            (
                "nats://nats.svc",
                HostClass::Namespaced {
                    service: "nats",
                    namespace: "svc",
                },
            ),
            (
                "nats://svc.nats.nats.svc.cluster.local",
                HostClass::External,
            ),
            ("nats://external-server.com", HostClass::External),
            ("nats://nats.example.org", HostClass::External),
            ("nats://localhost", HostClass::Localhost),
            ("nats://nats.localhost", HostClass::Localhost),
        ];
        for (text, expected) in cases {
            assert_eq!(class(&server(text)), expected, "{text}");
        }
        assert!(matches!(
            class(&server("nats://192.168.194.253:4222")),
            HostClass::Ip {
                range: IpRange::Private,
                ..
            }
        ));
        assert!(matches!(
            class(&server("nats://[::1]:4222")),
            HostClass::Ip {
                range: IpRange::Loopback,
                ..
            }
        ));
    }

    #[test]
    fn top_level_domains_come_from_the_public_suffix_list() {
        assert!(is_top_level_domain("com"));
        assert!(is_top_level_domain("io"));
        assert!(!is_top_level_domain("nats"));
        assert!(!is_top_level_domain("petrosa-apps"));
    }
}
