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

/// What a host names, seen from a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostClass {
    Ip {
        address: IpAddr,
        range: IpRange,
    },
    /// `localhost`, `*.localhost`: the pod itself.
    Localhost,
    /// `nats-server`: a Service in the pod's own namespace.
    Short {
        service: String,
    },
    /// `nats-server.nats` or `nats-server.nats.svc`.
    Namespaced {
        service: String,
        namespace: String,
    },
    /// `nats-server.nats.svc.cluster.local` (any domain after `svc`; compare it with
    /// the cluster domain). `subdomain` holds StatefulSet pod names (`nats-0`).
    ClusterFqdn {
        service: String,
        namespace: String,
        domain: String,
        subdomain: Option<String>,
    },
    /// A DNS name outside the cluster.
    External,
}

impl HostClass {
    /// The Service and the namespace it is looked up in, for names that point at one.
    /// `own_namespace` is the namespace of the pod that resolves a short name.
    pub fn service<'a>(&'a self, own_namespace: &'a str) -> Option<(&'a str, &'a str)> {
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
pub fn classify_host(host: &Host, is_known_namespace: &dyn Fn(&str) -> bool) -> HostClass {
    let name = match host {
        Host::Ip(address) => {
            return HostClass::Ip {
                address: *address,
                range: ip_range(*address),
            }
        }
        Host::Name { name, .. } => name,
    };
    let labels: Vec<&str> = name.split('.').collect();
    if labels.last() == Some(&"localhost") {
        return HostClass::Localhost;
    }
    if let Some(svc) = labels.iter().position(|label| *label == "svc") {
        if svc >= 2 {
            let service = labels[svc - 2].to_string();
            let namespace = labels[svc - 1].to_string();
            let subdomain = (svc > 2).then(|| labels[..svc - 2].join("."));
            if svc + 1 == labels.len() && subdomain.is_none() {
                return HostClass::Namespaced { service, namespace };
            }
            return HostClass::ClusterFqdn {
                service,
                namespace,
                domain: labels[svc + 1..].join("."),
                subdomain,
            };
        }
    }
    match labels.as_slice() {
        [service] => HostClass::Short {
            service: service.to_string(),
        },
        [service, namespace]
            if is_known_namespace(namespace) || !is_top_level_domain(namespace) =>
        {
            HostClass::Namespaced {
                service: service.to_string(),
                namespace: namespace.to_string(),
            }
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

    fn class(text: &str) -> HostClass {
        classify_host(&parse_server(text, 0).expect("parses").host, &|ns| {
            ns == "petrosa-apps"
        })
    }

    #[test]
    fn classifies_hosts_as_a_pod_resolves_them() {
        assert_eq!(
            class("nats://nats-server"),
            HostClass::Short {
                service: "nats-server".into()
            }
        );
        assert_eq!(
            class("nats://nats-server.nats"),
            HostClass::Namespaced {
                service: "nats-server".into(),
                namespace: "nats".into()
            }
        );
        assert_eq!(class("nats://external-server.com"), HostClass::External);
        assert_eq!(class("nats://nats.example.org"), HostClass::External);
        assert_eq!(class("nats://localhost"), HostClass::Localhost);
        assert!(matches!(
            class("nats://nats-0.nats-headless.nats.svc.cluster.local."),
            HostClass::ClusterFqdn { ref subdomain, ref domain, .. }
                if subdomain.as_deref() == Some("nats-0") && domain == "cluster.local"
        ));
        assert!(matches!(
            class("nats://192.168.194.253:4222"),
            HostClass::Ip {
                range: IpRange::Private,
                ..
            }
        ));
        assert!(matches!(
            class("nats://[::1]:4222"),
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
