//! Where a load may be sent: only http(s), and only this machine unless the run says
//! otherwise, because a load generator pointed at the wrong host by a typo is an attack.
//! And the HTTP client loads are sent with.

use anyhow::{ensure, Context};
use std::time::Duration;

/// Refuses `url` unless it is http(s) on a loopback address (or `allow_remote`).
pub fn check(url: &str, allow_remote: bool) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "{url} must be http or https"
    );
    let host = parsed.host_str().unwrap_or("");
    let loopback = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    ensure!(
        loopback || allow_remote,
        "{url} is not on this machine; add --allow-remote if you mean it"
    );
    Ok(())
}

/// The client of a load: `timeout` for each request (connecting included), up to
/// `connections` kept open, no proxy, no redirects (a redirect is an answer to count).
pub fn client(timeout: Duration, connections: usize) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_max_idle_per_host(connections)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_unless_allowed() {
        let cases = [
            ("http://127.0.0.1:8080", false, true),
            ("http://localhost:8080", false, true),
            ("http://[::1]:8080", false, true),
            ("https://127.0.0.2", false, true),
            ("http://192.0.2.1:8080", false, false),
            ("http://192.0.2.1:8080", true, true),
            ("ftp://127.0.0.1", true, false),
            ("not a url", true, false),
        ];
        for (url, allow_remote, ok) in cases {
            assert_eq!(check(url, allow_remote).is_ok(), ok, "{url} {allow_remote}");
        }
    }
}
