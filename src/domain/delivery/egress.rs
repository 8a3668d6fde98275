//! Where deliveries may go: only public addresses, checked on the address actually connected
//! to (names through a resolver that drops non-public answers, literal addresses here), with no
//! redirects and no proxy. Webhook validation uses the same rules when a URL is saved.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::config::DeliverySettings;

/// The client every delivery is posted with: the webhook timeout, no redirects, no proxy
/// from the environment, and (unless private receivers are allowed) the public-only resolver.
pub fn client(settings: &DeliverySettings) -> Result<reqwest::Client, String> {
    let mut client = reqwest::Client::builder()
        .timeout(settings.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("keyport-webhooks/", env!("CARGO_PKG_VERSION")));
    if !settings.webhook_allow_private {
        client = client.dns_resolver(Arc::new(PublicOnlyResolver));
    }
    client
        .build()
        .map_err(|e| format!("cannot build the webhook client: {e}"))
}

/// A URL that names an address directly never reaches the resolver: check it here.
pub fn check_literal_address(url: &str, allow_private: bool) -> std::result::Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("the URL is not valid: {e}"))?;
    match non_public_literal(&parsed) {
        Some(ip) => Err(format!("refused: {ip} is not a public address")),
        None => Ok(()),
    }
}

/// The address a URL names directly, when it is not public. Names are checked when resolved.
pub fn non_public_literal(url: &url::Url) -> Option<IpAddr> {
    let ip = match url.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(_) => return None,
    };
    (!is_public(ip)).then_some(ip)
}

/// Addresses a webhook may reach: not loopback, private, link-local (which holds cloud
/// metadata at 169.254.169.254), shared, multicast, unspecified or documentation space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Resolves names and keeps only public addresses, so the address checked is the address
/// connected to: DNS rebinding cannot slip a private address in afterwards.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                all.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                // The addresses are for the operator's log only: shown to the webhook's owner,
                // they would let any key holder map this network's internal names.
                let shown: Vec<String> = all.iter().map(|a| a.ip().to_string()).collect();
                tracing::warn!(%host, addresses = %shown.join(", "), "webhook delivery refused: the name resolves only to addresses that are not public");
                return Err(format!(
                    "refused: {host} resolves only to addresses that are not public"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }
}
