//! The address a request really came from. Behind a load balancer the connection's peer is
//! the balancer, so a telco's source network can only be checked against `X-Forwarded-For`;
//! that header is believed only when the peer is a configured trusted proxy, since anyone
//! else can write it.
//!
//! Each proxy appends the address it received the request from, so the header is read from
//! the right, one hop at a time, for as long as the hop is a trusted proxy. An entry that
//! cannot be read (`unknown`, garbage, an empty slot) ends the walk at the last trusted hop:
//! everything left of it was written by someone we cannot vouch for, so it is never believed.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy. When the walk meets an entry
/// it cannot read, or runs out of entries, the answer is the last trusted hop it reached.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut last_trusted = peer.to_canonical();
    if !is_trusted(&last_trusted) {
        return last_trusted;
    }
    // Several header lines are one list in order; a line that is not text is one entry
    // that cannot be read.
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|line| match line.to_str() {
            Ok(line) => line.rsplit(',').map(forwarded_address).collect(),
            Err(_) => vec![None],
        });
    for entry in entries {
        let Some(ip) = entry else {
            return last_trusted;
        };
        if !is_trusted(&ip) {
            return ip;
        }
        last_trusted = ip;
    }
    last_trusted
}

/// One `X-Forwarded-For` entry as an address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443` (a port says nothing about who sent it). Anything
/// else (`unknown`, obfuscated names, zone ids, an empty slot) is `None`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = if let Ok(ip) = entry.parse::<IpAddr>() {
        ip
    } else if let Ok(socket) = entry.parse::<SocketAddr>() {
        socket.ip()
    } else {
        let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
        IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?)
    };
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(
                "x-forwarded-for",
                axum::http::HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn entries_are_read_as_addresses_or_not_at_all() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        #[rustfmt::skip]
        let cases: &[(&str, Option<IpAddr>)] = &[
            ("196.201.214.5", ip("196.201.214.5")),
            (" 196.201.214.5 ", ip("196.201.214.5")),
            ("196.201.214.5:41234", ip("196.201.214.5")),
            ("2001:db8::1", ip("2001:db8::1")),
            ("[2001:db8::1]", ip("2001:db8::1")),
            ("[2001:db8::1]:443", ip("2001:db8::1")),
            ("::ffff:196.201.214.5", ip("196.201.214.5")),
            ("unknown", None),
            ("", None),
            ("_hidden", None),
            ("fe80::1%eth0", None),
            ("196.201.214", None),
            ("196.201.214.5:port", None),
            ("[196.201.214.5]", None),
        ];
        for (entry, want) in cases {
            assert_eq!(forwarded_address(entry), *want, "{entry:?}");
        }
    }

    #[test]
    fn the_header_is_walked_from_the_right_through_trusted_proxies_only() {
        let lb: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // (name, peer, X-Forwarded-For lines, trusted proxies, the client's address)
        type Case<'a> = (&'a str, &'a str, &'a [&'a [u8]], &'a [IpNet], &'a str);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("no proxies configured", "10.0.0.7", &[b"196.201.214.5"], &[], "10.0.0.7"),
            ("peer is not a proxy", "192.168.1.1", &[b"196.201.214.5"], &lb, "192.168.1.1"),
            ("no header", "10.0.0.7", &[], &lb, "10.0.0.7"),
            ("from the load balancer", "10.0.0.7", &[b"196.201.214.5"], &lb, "196.201.214.5"),
            ("peer as mapped v6", "::ffff:10.0.0.7", &[b"196.201.214.5"], &lb, "196.201.214.5"),
            ("a forged left-most entry", "10.0.0.7", &[b"1.2.3.4, 196.201.214.5"], &lb, "196.201.214.5"),
            ("chain of proxies", "10.0.0.7", &[b"196.201.214.5, 10.0.0.9"], &lb, "196.201.214.5"),
            ("chain over two lines", "10.0.0.7", &[b"1.2.3.4, 196.201.214.5", b"10.0.0.9"], &lb, "196.201.214.5"),
            ("ip:port is that ip", "10.0.0.7", &[b"196.201.214.5:41234"], &lb, "196.201.214.5"),
            ("[v6]:port is that ip", "10.0.0.7", &[b"[2001:db8::5]:443, 10.0.0.9"], &lb, "2001:db8::5"),
            ("only proxies: the left-most", "10.0.0.7", &[b"10.0.0.8, 10.0.0.9"], &lb, "10.0.0.8"),
            ("garbage header", "10.0.0.7", &[b"not-an-ip"], &lb, "10.0.0.7"),
            ("unknown stops the walk", "10.0.0.7", &[b"196.201.214.5, unknown"], &lb, "10.0.0.7"),
            ("unknown after a proxy", "10.0.0.7", &[b"196.201.214.5, unknown, 10.0.0.9"], &lb, "10.0.0.9"),
            ("an empty slot stops the walk", "10.0.0.7", &[b"196.201.214.5,,10.0.0.9"], &lb, "10.0.0.9"),
            ("trailing comma", "10.0.0.7", &[b"196.201.214.5,"], &lb, "10.0.0.7"),
            ("a line that is not text", "10.0.0.7", &[b"196.201.214.5", b"\xff"], &lb, "10.0.0.7"),
            ("garbage left of the client", "10.0.0.7", &[b"unknown, 196.201.214.5"], &lb, "196.201.214.5"),
        ];
        for (name, peer, xff, trusted, want) in cases {
            assert_eq!(
                client_ip(ip(peer), &headers(xff), trusted),
                ip(want),
                "{name}"
            );
        }
    }
}
