//! What a key may do. `Full` is everything its owner may; `Read` reads everything; `Custom`
//! grants each resource `none`, `read` or `write`. Reads need `read` or `write`, writes need
//! `write`; `/api/v1/me` needs no scope. Scopes are named `contacts:read`, `jobs:write`, …

use std::fmt;

use super::{Error, Result, invalid};
use crate::models::KeyAccess;

/// What the API guards, each with its own scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Contacts,
    Companies,
    Jobs,
    Webhooks,
}

impl Resource {
    pub const ALL: [Resource; 4] = [
        Resource::Contacts,
        Resource::Companies,
        Resource::Jobs,
        Resource::Webhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Contacts => "contacts",
            Resource::Companies => "companies",
            Resource::Jobs => "jobs",
            Resource::Webhooks => "webhooks",
        }
    }

    /// As a person reads it: "Contacts".
    pub fn label(self) -> &'static str {
        match self {
            Resource::Contacts => "Contacts",
            Resource::Companies => "Companies",
            Resource::Jobs => "Jobs",
            Resource::Webhooks => "Webhooks",
        }
    }
}

/// How much of one resource a key may use; ordered, so `write` covers `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    #[default]
    None,
    Read,
    Write,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Read => "read",
            Level::Write => "write",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Level::None),
            "read" => Some(Level::Read),
            "write" => Some(Level::Write),
            _ => None,
        }
    }
}

/// One scope: `contacts:write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub resource: Resource,
    pub level: Level,
}

impl Scope {
    pub fn read(resource: Resource) -> Self {
        Scope {
            resource,
            level: Level::Read,
        }
    }
    pub fn write(resource: Resource) -> Self {
        Scope {
            resource,
            level: Level::Write,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource.as_str(), self.level.as_str())
    }
}

/// A key's access as the domain reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Full,
    Read,
    /// The level of each resource, in `Resource::ALL` order.
    Custom([Level; 4]),
}

impl Access {
    /// From the key's columns. Anything unreadable in `scopes` grants nothing.
    pub fn from_columns(access: KeyAccess, scopes: &str) -> Self {
        match access {
            KeyAccess::Full => Access::Full,
            KeyAccess::Read => Access::Read,
            KeyAccess::Custom => {
                let mut levels = [Level::None; 4];
                for scope in scopes.split_whitespace() {
                    let Some((resource, level)) = scope.split_once(':') else {
                        continue;
                    };
                    let at = Resource::ALL.iter().position(|r| r.as_str() == resource);
                    if let (Some(at), Some(level)) = (at, Level::parse(level)) {
                        levels[at] = level;
                    }
                }
                Access::Custom(levels)
            }
        }
    }

    /// The columns it is stored in.
    pub fn columns(&self) -> (KeyAccess, String) {
        match self {
            Access::Full => (KeyAccess::Full, String::new()),
            Access::Read => (KeyAccess::Read, String::new()),
            Access::Custom(_) => (KeyAccess::Custom, self.scope_names().join(" ")),
        }
    }

    /// The form's fields: `access` is `full`, `read` or `custom`, and with `custom` each
    /// resource's level (`none` when not given). A custom key must grant something.
    pub fn parse(access: &str, levels: [Option<&str>; 4]) -> Result<Self> {
        match access {
            "full" => Ok(Access::Full),
            "read" => Ok(Access::Read),
            "custom" => {
                let mut parsed = [Level::None; 4];
                for ((slot, given), resource) in parsed.iter_mut().zip(levels).zip(Resource::ALL) {
                    let given = given.map(str::trim).filter(|t| !t.is_empty());
                    *slot = match given {
                        None => Level::None,
                        Some(text) => Level::parse(text).ok_or_else(|| {
                            Error::Invalid(format!(
                                "{}: choose none, read or write.",
                                resource.label()
                            ))
                        })?,
                    };
                }
                if parsed.iter().all(|l| *l == Level::None) {
                    return Err(Error::Invalid(
                        "Custom access: give the key read or write on at least one of contacts, companies, jobs or webhooks.".into(),
                    ));
                }
                Ok(Access::Custom(parsed))
            }
            _ => Err(invalid("access", "choose full, read or custom")),
        }
    }

    pub fn level(&self, resource: Resource) -> Level {
        match self {
            Access::Full => Level::Write,
            Access::Read => Level::Read,
            Access::Custom(levels) => {
                let at = Resource::ALL.iter().position(|r| *r == resource);
                at.map_or(Level::None, |at| levels[at])
            }
        }
    }

    pub fn allows(&self, needed: Scope) -> bool {
        self.level(needed.resource) >= needed.level
    }

    /// Every scope it grants: `["contacts:write", "jobs:read"]` (write implies read).
    pub fn scope_names(&self) -> Vec<String> {
        Resource::ALL
            .iter()
            .filter_map(|&resource| match self.level(resource) {
                Level::None => None,
                level => Some(Scope { resource, level }.to_string()),
            })
            .collect()
    }

    /// As lists show it: "Full access", "Read-only", "Contacts: write, Jobs: read".
    pub fn label(&self) -> String {
        match self {
            Access::Full => "Full access".into(),
            Access::Read => "Read-only".into(),
            Access::Custom(_) => Resource::ALL
                .iter()
                .filter(|&&r| self.level(r) != Level::None)
                .map(|&r| format!("{}: {}", r.label(), self.level(r).as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Refuses a call this key may not make, naming the scope it needs.
    pub fn require(&self, needed: Scope) -> Result<()> {
        if self.allows(needed) {
            return Ok(());
        }
        let verb = match needed.level {
            Level::Write => "write",
            _ => "read",
        };
        Err(Error::ScopeRequired {
            message: format!("this key may not {verb} {}", needed.resource.as_str()),
            scope: needed.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_access_round_trips_through_its_columns_and_write_covers_read() {
        let access = Access::parse("custom", [Some("write"), None, Some("none"), Some("read")])
            .expect("valid");
        let (kind, scopes) = access.columns();
        assert_eq!(kind, KeyAccess::Custom);
        assert_eq!(scopes, "contacts:write webhooks:read");
        assert_eq!(Access::from_columns(kind, &scopes), access);
        assert!(access.allows(Scope::read(Resource::Contacts)));
        assert!(access.allows(Scope::write(Resource::Contacts)));
        assert!(!access.allows(Scope::read(Resource::Jobs)));
        assert!(!access.allows(Scope::write(Resource::Webhooks)));
        assert_eq!(access.label(), "Contacts: write, Webhooks: read");
    }

    #[test]
    fn read_only_reads_everything_and_writes_nothing() {
        for resource in Resource::ALL {
            assert!(Access::Read.allows(Scope::read(resource)));
            assert!(!Access::Read.allows(Scope::write(resource)));
            assert!(Access::Full.allows(Scope::write(resource)));
        }
        let refused = Access::Read
            .require(Scope::write(Resource::Contacts))
            .expect_err("refused");
        assert_eq!(refused.to_string(), "this key may not write contacts");
    }

    #[test]
    fn a_custom_key_must_grant_something_and_levels_are_checked() {
        assert!(Access::parse("custom", [None; 4]).is_err());
        assert!(Access::parse("custom", [Some("admin"), None, None, None]).is_err());
        assert!(Access::parse("root", [None; 4]).is_err());
    }
}
