//! What a DNS reply says: the kinds of answer, told apart and ranked by how much they
//! explain; the addresses of a reply after its CNAME chain; the A and AAAA lookups of
//! one name combined into one answer; and the loopback names that need no query.

use super::exchange::Fault;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::{Serialize, Serializer};
use std::net::IpAddr;

/// What one query (or one candidate name) came back with. The names are permanent:
/// they appear in JSON output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Answered,
    NxDomain,
    NoData,
    ServFail,
    Refused,
    NotImp,
    FormErr,
    Timeout,
    Unreachable,
    Truncated,
    Short,
    PointerLoop,
    BadLength,
    Malformed,
    WrongName,
    WrongId,
    CnameLoop,
    CnameChainTooLong,
    Error,
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Aliases followed within one answer before the chain counts as too long (hickory's
/// resolver and CoreDNS stop at about this depth; a Service needs one, an ExternalName
/// two or three).
pub const CNAME_CHAIN_LIMIT: usize = 8;

impl Answer {
    /// The permanent name, as JSON has it (`nxdomain`, `pointer_loop`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Answer::Answered => "answered",
            Answer::NxDomain => "nxdomain",
            Answer::NoData => "nodata",
            Answer::ServFail => "servfail",
            Answer::Refused => "refused",
            Answer::NotImp => "notimp",
            Answer::FormErr => "formerr",
            Answer::Timeout => "timeout",
            Answer::Unreachable => "unreachable",
            Answer::Truncated => "truncated",
            Answer::Short => "short",
            Answer::PointerLoop => "pointer_loop",
            Answer::BadLength => "bad_length",
            Answer::Malformed => "malformed",
            Answer::WrongName => "wrong_name",
            Answer::WrongId => "wrong_id",
            Answer::CnameLoop => "cname_loop",
            Answer::CnameChainTooLong => "cname_chain_too_long",
            Answer::Error => "error",
        }
    }

    /// A response code of DNS itself, as DNS tools print it (`NXDOMAIN`).
    pub fn is_response_code(&self) -> bool {
        matches!(
            self,
            Answer::NxDomain
                | Answer::NoData
                | Answer::ServFail
                | Answer::Refused
                | Answer::NotImp
                | Answer::FormErr
        )
    }

    pub(super) fn describe(&self) -> &'static str {
        match self {
            Answer::Answered => "answered",
            Answer::NxDomain => "NXDOMAIN (no such name)",
            Answer::NoData => "NODATA (the name exists, with no A/AAAA record)",
            Answer::ServFail => "SERVFAIL (the nameserver failed to answer)",
            Answer::Refused => "REFUSED (the nameserver refuses to answer this query)",
            Answer::NotImp => "NOTIMP (the nameserver does not implement this query)",
            Answer::FormErr => "FORMERR (the nameserver could not read the query)",
            Answer::Timeout => "timeout (no answer from the nameserver)",
            Answer::Unreachable => "nameserver unreachable",
            Answer::Truncated => "truncated reply (TC bit) and no usable answer over TCP",
            Answer::Short => "short reply (fewer bytes than a DNS header)",
            Answer::PointerLoop => "malformed reply: a name compression pointer loops",
            Answer::BadLength => "malformed reply: a length runs past the end of the message",
            Answer::Malformed => "malformed reply (not a readable DNS message)",
            Answer::WrongName => "the only reply was for another name",
            Answer::WrongId => "the only reply had a mismatched id",
            Answer::CnameLoop => "CNAME loop (an alias leads back to a name already seen)",
            Answer::CnameChainTooLong => "CNAME chain too long (more than 8 aliases)",
            Answer::Error => "error",
        }
    }

    /// The kinds whose one-line description needs the particulars (what was tried,
    /// which server sent what) to be useful.
    pub(super) fn needs_reason(&self) -> bool {
        !matches!(
            self,
            Answer::Answered
                | Answer::NxDomain
                | Answer::NoData
                | Answer::ServFail
                | Answer::Timeout
                | Answer::Unreachable
                | Answer::Error
        )
    }

    /// glibc goes on to the next name after NXDOMAIN, NODATA and SERVFAIL; anything
    /// else (an answer, a dead or refusing nameserver, a reply it cannot use) ends the
    /// search.
    pub(super) fn stops_search(&self) -> bool {
        !matches!(self, Answer::NxDomain | Answer::NoData | Answer::ServFail)
    }

    /// A reply that matched the query and cannot be read: the resolver takes it and
    /// fails on it, without asking another nameserver.
    pub(super) fn is_broken_reply(&self) -> bool {
        matches!(
            self,
            Answer::PointerLoop | Answer::BadLength | Answer::Malformed
        )
    }
}

/// Orders failures by how much they explain: a dead nameserver hides everything else,
/// a reply that cannot be used explains more than a response code, and a name that is
/// not there explains least.
pub(super) fn more_serious(current: Option<Answer>, next: Answer) -> Answer {
    let rank = |answer: &Answer| match answer {
        Answer::Unreachable => 19,
        Answer::Timeout => 18,
        Answer::Truncated => 17,
        Answer::WrongId => 16,
        Answer::WrongName => 15,
        Answer::Short => 14,
        Answer::PointerLoop => 13,
        Answer::BadLength => 12,
        Answer::Malformed => 11,
        Answer::Refused => 10,
        Answer::NotImp => 9,
        Answer::FormErr => 8,
        Answer::ServFail => 7,
        Answer::CnameLoop => 6,
        Answer::CnameChainTooLong => 5,
        Answer::Error => 3,
        Answer::NxDomain => 2,
        Answer::NoData => 1,
        Answer::Answered => 0,
    };
    match current {
        Some(current) if rank(&current) >= rank(&next) => current,
        _ => next,
    }
}

/// `localhost.` and the names under it are the loopback addresses without a query
/// (RFC 6761, as resolvers that follow it answer them), so that a check of a local
/// server never waits on a nameserver for them.
pub(super) fn loopback_name(name: &Name) -> Option<(Vec<String>, Vec<IpAddr>)> {
    let localhost = Name::from_ascii("localhost.").ok()?;
    if !localhost.zone_of(name) {
        return None;
    }
    let addresses = vec![
        IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
    ];
    let records = vec![
        format!("{name} A {}", addresses[0]),
        format!("{name} AAAA {}", addresses[1]),
    ];
    Some((records, addresses))
}

/// One record type for one name: the records of the answer as text, and its
/// addresses or why there are none.
pub(super) struct Lookup {
    pub(super) records: Vec<String>,
    pub(super) addresses: Result<Vec<IpAddr>, Fault>,
}

/// The addresses an answer gives for `asked`: the CNAME chain from `asked` followed
/// within the answer (as a stub resolver does), then the records of `kind` owned by
/// its last name.
pub(super) fn read_answer(message: &Message, asked: &Name, kind: RecordType) -> Lookup {
    let records = message
        .answers
        .iter()
        .map(|record| match &record.data {
            RData::A(a) => format!("{} A {}", record.name, a.0),
            RData::AAAA(aaaa) => format!("{} AAAA {}", record.name, aaaa.0),
            RData::CNAME(target) => format!("{} CNAME {}", record.name, target.0),
            other => format!("{} {}", record.name, other.record_type()),
        })
        .fold(Vec::new(), |mut unique, text| {
            if !unique.contains(&text) {
                unique.push(text);
            }
            unique
        });
    let fault = |answer: Answer, reason: String| Lookup {
        records: records.clone(),
        addresses: Err(Fault { answer, reason }),
    };
    if message.metadata.response_code == ResponseCode::NXDomain {
        return fault(Answer::NxDomain, "NXDOMAIN".to_string());
    }
    let mut chain: Vec<&Name> = vec![asked];
    let mut current = asked;
    // Bounded: one more step than the limit, and a name seen twice stops it.
    for _ in 0..=CNAME_CHAIN_LIMIT {
        let Some(target) = message
            .answers
            .iter()
            .find_map(|record| match &record.data {
                RData::CNAME(target) if record.name == *current => Some(&target.0),
                _ => None,
            })
        else {
            break;
        };
        let looped = chain.contains(&target);
        chain.push(target);
        let path = || {
            chain
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        };
        if looped {
            return fault(Answer::CnameLoop, path());
        }
        if chain.len() > CNAME_CHAIN_LIMIT + 1 {
            return fault(
                Answer::CnameChainTooLong,
                format!("more than {CNAME_CHAIN_LIMIT} aliases: {}", path()),
            );
        }
        current = target;
    }
    let mut addresses = Vec::new();
    let mut elsewhere: Vec<String> = Vec::new();
    for record in &message.answers {
        let address = match &record.data {
            RData::A(a) if kind == RecordType::A => IpAddr::V4(a.0),
            RData::AAAA(aaaa) if kind == RecordType::AAAA => IpAddr::V6(aaaa.0),
            _ => continue,
        };
        if record.name == *current {
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        } else {
            let owner = record.name.to_string();
            if !elsewhere.contains(&owner) {
                elsewhere.push(owner);
            }
        }
    }
    if !addresses.is_empty() {
        return Lookup {
            records,
            addresses: Ok(addresses),
        };
    }
    if !elsewhere.is_empty() {
        return fault(
            Answer::WrongName,
            format!(
                "the answer holds {kind} records for {}, not for {current}",
                elsewhere.join(", ")
            ),
        );
    }
    let reason = if chain.len() > 1 {
        format!("the alias {current} has no {kind} record in the answer")
    } else {
        format!("no {kind} record")
    };
    fault(Answer::NoData, reason)
}

pub(super) type Combined = (Answer, Vec<String>, Vec<IpAddr>, Option<String>);

pub(super) fn combine(a: Lookup, aaaa: Lookup) -> Combined {
    let mut records = Vec::new();
    let mut addresses = Vec::new();
    let mut failures = Vec::new();
    for lookup in [a, aaaa] {
        for record in lookup.records {
            if !records.contains(&record) {
                records.push(record);
            }
        }
        match lookup.addresses {
            Ok(found) => addresses.extend(found),
            Err(fault) => failures.push(fault),
        }
    }
    if !addresses.is_empty() {
        return (Answer::Answered, records, addresses, None);
    }
    let mut worst: Option<Answer> = None;
    let mut message = None;
    for Fault { answer, reason } in failures {
        // NXDOMAIN for one type is NXDOMAIN for the name.
        if worst == Some(Answer::NxDomain) {
            break;
        }
        let ranked = if answer == Answer::NxDomain {
            Answer::NxDomain
        } else {
            more_serious(worst.clone(), answer.clone())
        };
        if ranked == answer {
            message = Some(reason);
        }
        worst = Some(ranked);
    }
    (
        worst.unwrap_or(Answer::NoData),
        records,
        Vec::new(),
        message,
    )
}

#[cfg(test)]
mod tests {
    use super::loopback_name;
    use hickory_proto::rr::Name;

    #[test]
    fn localhost_names_are_loopback_without_a_query() {
        let name = |text: &str| Name::from_ascii(text).expect("a name");
        let (records, addresses) = loopback_name(&name("localhost.")).expect("loopback");
        assert_eq!(records, ["localhost. A 127.0.0.1", "localhost. AAAA ::1"]);
        assert_eq!(addresses.len(), 2);
        assert!(loopback_name(&name("nats.LocalHost.")).is_some());
        assert!(loopback_name(&name("localhost.petrosa-apps.svc.cluster.local.")).is_none());
        assert!(loopback_name(&name("notlocalhost.")).is_none());
    }

    #[test]
    fn names_are_the_serialized_ones() {
        for answer in [super::Answer::NxDomain, super::Answer::PointerLoop] {
            let json = serde_json::to_string(&answer).expect("json");
            assert_eq!(json, format!("\"{}\"", answer.name()));
        }
    }
}
