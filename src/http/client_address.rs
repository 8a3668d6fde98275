//! Where a request came from. The socket's peer, unless that peer is a proxy named in
//! `KEYPORT_TRUSTED_PROXIES`: then the nearest `X-Forwarded-For` hop that is not one of the
//! trusted proxies. Hops to its left were written by the client and are never believed, so a
//! spoofed header cannot move a request to another address's limits.

use std::net::IpAddr;

use actix_web::{HttpRequest, web};

use crate::AppState;
use crate::config::AddressRanges;

pub fn client_addr(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let proxies = req
        .app_data::<web::Data<AppState>>()
        .map(|state| &state.settings.trusted_proxies);
    match proxies {
        Some(proxies) => Some(resolve(peer, forwarded_for(req), proxies)),
        None => Some(peer),
    }
}

/// The client address as text, for the audit trail and last-used records.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    client_addr(req).map(|addr| addr.to_string())
}

/// The scheme and host people reach keyport at, for the addresses pages show: the configured
/// public URL; else, from a trusted proxy, what it forwarded; else this request's own `Host`.
/// Anyone else's `X-Forwarded-Host` or `Forwarded` is not believed.
pub fn origin(req: &HttpRequest) -> String {
    let settings = req
        .app_data::<web::Data<AppState>>()
        .map(|state| &state.settings);
    if let Some(url) = settings.and_then(|s| s.public_url.as_deref()) {
        return url.trim_end_matches('/').to_owned();
    }
    let from_proxy = req
        .peer_addr()
        .zip(settings)
        .is_some_and(|(peer, s)| s.trusted_proxies.contains(&peer.ip()));
    if from_proxy {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or_else(|| req.app_config().host());
    format!("{scheme}://{host}")
}

/// Every `X-Forwarded-For` hop, leftmost (furthest from us) first, across repeated headers.
fn forwarded_for(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|hop| hop.trim().to_owned())
        .collect()
}

fn resolve(peer: IpAddr, hops: Vec<String>, proxies: &AddressRanges) -> IpAddr {
    let mut client = peer;
    if !proxies.contains(&client) {
        return client;
    }
    for hop in hops.iter().rev() {
        // A hop a trusted proxy wrote is an address; anything else came from the client, and
        // the last address we could believe stands.
        let Ok(addr) = hop.parse::<IpAddr>() else {
            return client;
        };
        client = addr.to_canonical();
        if !proxies.contains(&client) {
            return client;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hops(list: &[&str]) -> Vec<String> {
        list.iter().map(|h| (*h).to_owned()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxies = AddressRanges::parse("10.0.0.0/8, 192.168.1.1").expect("valid list");
        let untrusted_peer = ip("203.0.113.9");
        assert_eq!(
            resolve(untrusted_peer, hops(&["198.51.100.1"]), &proxies),
            untrusted_peer
        );
        assert_eq!(
            resolve(ip("10.1.2.3"), hops(&["198.51.100.1"]), &proxies),
            ip("198.51.100.1")
        );
        // The client wrote the left hops; the proxies appended the right ones.
        assert_eq!(
            resolve(
                ip("10.1.2.3"),
                hops(&["1.2.3.4", "198.51.100.1", "192.168.1.1"]),
                &proxies
            ),
            ip("198.51.100.1")
        );
        assert_eq!(
            resolve(ip("10.1.2.3"), hops(&["garbage", "10.9.9.9"]), &proxies),
            ip("10.9.9.9")
        );
        assert_eq!(resolve(ip("10.1.2.3"), hops(&[]), &proxies), ip("10.1.2.3"));
        assert_eq!(
            resolve(ip("10.1.2.3"), hops(&["::ffff:198.51.100.7"]), &proxies),
            ip("198.51.100.7")
        );
        assert!(AddressRanges::parse("10.0.0.0/33").is_err());
        assert!(AddressRanges::parse("proxy.example").is_err());
        assert_eq!(AddressRanges::parse(" ").expect("empty is fine").0.len(), 0);
    }
}
