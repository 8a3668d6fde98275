//! A key's IP allow-list: the addresses and networks (IPv4 and IPv6, CIDR) it may be used
//! from, one per line; empty means anywhere. Checked against the client address keyport works
//! out (trusted proxies honoured).

use std::net::IpAddr;

use ipnet::IpNet;

use super::{Error, Result};

/// At most this many lines.
pub const MAX_ENTRIES: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedAddresses(Vec<IpNet>);

impl AllowedAddresses {
    /// From the form: one address or network per line, blank lines ignored. A wrong line is
    /// named; nothing is taken from a list with one.
    pub fn parse(text: &str) -> Result<Self> {
        let mut nets = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let entry = line.trim();
            if entry.is_empty() {
                continue;
            }
            let net = network(entry).ok_or_else(|| {
                    Error::InvalidField {
                        field: "allowed_ips",
                        reason: format!(
                            "line {}: “{}” is not an IP address or a network such as 203.0.113.0/24 or 2001:db8::/32",
                            n + 1,
                            super::mail::one_line(entry, 60)
                        ),
                    }
                })?;
            if !nets.contains(&net) {
                nets.push(net);
            }
        }
        if nets.len() > MAX_ENTRIES {
            return Err(Error::InvalidField {
                field: "allowed_ips",
                reason: format!("at most {MAX_ENTRIES} addresses or networks, one per line"),
            });
        }
        Ok(AllowedAddresses(nets))
    }

    /// As stored: written by `to_stored`, so every line parses.
    pub fn from_stored(text: &str) -> Self {
        AllowedAddresses(text.lines().filter_map(network).collect())
    }

    /// One per line, a single address without its prefix length.
    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|net| {
                if net.prefix_len() == net.max_prefix_len() {
                    net.addr().to_string()
                } else {
                    net.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether a call from `addr` may use the key: anywhere when the list is empty; an
    /// unknown address only then. An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`) is itself.
    pub fn permits(&self, addr: Option<IpAddr>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let Some(addr) = addr else {
            return false;
        };
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|net| net.contains(&addr))
    }
}

/// `10.0.0.0/8` (host bits dropped) or a single address.
fn network(entry: &str) -> Option<IpNet> {
    entry
        .parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_read_line_by_line_and_checked() {
        let list = AllowedAddresses::parse("10.0.0.0/8\n\n  ::1/128 \n203.0.113.7\n10.1.2.3/8")
            .expect("valid");
        assert_eq!(list.to_stored(), "10.0.0.0/8\n::1\n203.0.113.7");
        assert_eq!(AllowedAddresses::from_stored(&list.to_stored()), list);
        assert!(list.permits(Some("10.200.0.1".parse().expect("ip"))));
        assert!(list.permits(Some("::ffff:203.0.113.7".parse().expect("ip"))));
        assert!(!list.permits(Some("198.51.100.7".parse().expect("ip"))));
        assert!(!list.permits(None));
        assert!(AllowedAddresses::default().permits(None));
        let wrong = AllowedAddresses::parse("10.0.0.0/8\nexample.com").expect_err("a host name");
        assert!(wrong.to_string().contains("line 2"), "{wrong}");
        assert!(AllowedAddresses::parse("10.0.0.0/33").is_err());
        let many: String = (0..51).map(|n| format!("10.0.0.{n}\n")).collect();
        assert!(AllowedAddresses::parse(&many).is_err());
    }
}
