//! Who is calling: the tenant, key and role an API key stands for.

/// A key's role: what its holder may do within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Manages units, plans and keys of the tenant; reads everything.
    Admin,
    /// The monitoring side: reads everything of the tenant, reviews, urges.
    Monitor,
    /// Bound to one unit: acts only on its own unit's work.
    Unit,
    /// Reads everything of the tenant, changes nothing.
    Reader,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Monitor, Role::Unit, Role::Reader];

    /// The name stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Monitor => "MONITOR",
            Role::Unit => "UNIT",
            Role::Reader => "READER",
        }
    }

    /// The role named `s` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller of one RPC, put in the request's extensions by the auth layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant every query of this call is scoped to.
    pub tenant: String,
    /// The key's id, recorded as the actor in the audit trail.
    pub key_id: String,
    /// The key's role.
    pub role: Role,
    /// The unit a UNIT key (or a unit-bound MONITOR key) acts for.
    pub unit: Option<String>,
}

impl Principal {
    /// The actor as the audit trail records it.
    pub fn actor(&self) -> String {
        format!("keys/{}", self.key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_by_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::parse(&role.as_str().to_lowercase()), Some(role));
        }
        assert_eq!(Role::parse("ROOT"), None);
    }
}
