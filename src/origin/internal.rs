//! Internal hosts: where a fetch that a third party steers (an ADS's redirect, a
//! VAST wrapper's `VASTAdTagURI`) must not go (issue #13, the fault matrix's
//! "ADS redirects to an internal host").
//!
//! Pure. A host is internal when it is `localhost` (or under `.localhost`), or an
//! IP literal that is loopback, private (RFC 1918, IPv6 unique local), link-local
//! (cloud metadata services live at 169.254.169.254), unspecified, shared
//! (RFC 6598, 100.64.0.0/10) or an IPv4-mapped form of one of those. Names that
//! resolve to such addresses are not caught here (that needs a resolver hook).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Whether `url`'s host is internal (see the module docs).
pub fn is_internal(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => is_internal_v4(ip),
        Some(Host::Ipv6(ip)) => is_internal_v6(ip),
        None => false,
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || (a == 100 && (64..128).contains(&b))
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
}

/// Whether a redirect from `first` (where the request began) to `to` may be
/// followed: never to an internal host other than the one the request began at,
/// so a public server cannot steer us to this network, and a configured server on
/// this network keeps working.
pub fn may_redirect(first: &Url, to: &Url) -> bool {
    !is_internal(to) || first.host() == to.host()
}

/// Whether `ip` is internal (see the module docs).
pub fn is_internal_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn internal_hosts() {
        for s in [
            "http://127.0.0.1/",
            "http://127.0.0.2:8080/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://[::1]/",
            "http://[::]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://localhost:6379/",
            "http://LOCALHOST./",
            "http://redis.localhost/",
        ] {
            assert!(is_internal(&u(s)), "{s}");
        }
        for s in [
            "http://8.8.8.8/",
            "https://ads.example/vast",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://[2001:4860::8888]/",
            "http://[::ffff:8.8.8.8]/",
            "http://localhost.example/",
        ] {
            assert!(!is_internal(&u(s)), "{s}");
        }
    }

    #[test]
    fn redirects_to_another_internal_host_are_refused() {
        let public = u("https://ads.example/vast");
        let local = u("http://127.0.0.1:9000/vast");
        assert!(may_redirect(&public, &u("https://cdn.example/v")));
        assert!(!may_redirect(&public, &u("http://169.254.169.254/")));
        assert!(!may_redirect(&public, &u("http://127.0.0.1:6379/")));
        assert!(may_redirect(&local, &u("http://127.0.0.1:9001/v")));
        assert!(!may_redirect(&local, &u("http://127.0.0.2:9000/v")));
        assert!(!may_redirect(&local, &u("http://10.0.0.1/")));
        assert!(is_internal_ip("10.0.0.1".parse().unwrap()));
        assert!(!is_internal_ip("1.1.1.1".parse().unwrap()));
    }
}
