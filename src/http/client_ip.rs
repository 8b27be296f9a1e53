//! The address a request really came from. Behind a load balancer the connection's peer is
//! the balancer, so a telco's source network can only be checked against `X-Forwarded-For`;
//! that header is believed only when the peer is a configured trusted proxy, since anyone
//! else can write it.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_header_counts_only_from_trusted_proxies() {
        let lb: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        #[rustfmt::skip]
        let cases: &[(&str, &[&str], &[IpNet], &str)] = &[
            ("no proxies configured", &["196.201.214.5"], &[], "10.0.0.7"),
            ("peer is not a proxy", &["196.201.214.5"], &lb, "10.0.0.7"),
            ("from the load balancer", &["196.201.214.5"], &lb, "196.201.214.5"),
            ("a forged left-most entry", &["1.2.3.4, 196.201.214.5"], &lb, "196.201.214.5"),
            ("chain of proxies", &["196.201.214.5, 10.0.0.9"], &lb, "196.201.214.5"),
            ("garbage header", &["not-an-ip"], &lb, "10.0.0.7"),
        ];
        for (name, xff, trusted, want) in cases {
            let peer = if *name == "peer is not a proxy" {
                ip("192.168.1.1")
            } else {
                ip("10.0.0.7")
            };
            let want = if *name == "peer is not a proxy" {
                ip("192.168.1.1")
            } else {
                ip(want)
            };
            assert_eq!(client_ip(peer, &headers(xff), trusted), want, "{name}");
        }
    }
}
