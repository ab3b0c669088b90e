//! Resource names (AIP-122) such as `units/so-noi-vu`, and the IDs inside them.

use rand::Rng;

/// The longest resource ID, as AIP-122 recommends (it fits a DNS label).
pub const MAX_ID_LEN: usize = 63;

/// Why a resource ID or name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("is required")]
    Empty,
    /// The name is not of the form `{collection}/{id}` (or a nested form under it).
    #[error("must be a resource name starting with {collection}/, e.g. {collection}/abc")]
    WrongPattern {
        /// The expected collection, e.g. `units`.
        collection: &'static str,
    },
    /// The ID breaks the ID rules.
    #[error(
        "ID {0:?} must be 1 to 63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen"
    )]
    BadId(String),
}

/// Checks an ID against AIP-122: `^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`.
pub fn validate_id(id: &str) -> Result<(), NameError> {
    let bytes = id.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_ID_LEN
        && bytes[0].is_ascii_lowercase()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[bytes.len() - 1] != b'-';
    if ok { Ok(()) } else { Err(NameError::BadId(id.chars().take(80).collect())) }
}

/// The ID in `{collection}/{id}`.
pub fn parse(collection: &'static str, name: &str) -> Result<String, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let id = name
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or(NameError::WrongPattern { collection })?;
    validate_id(id)?;
    Ok(id.to_owned())
}

/// The two IDs in `{parent}/{parent_id}/{child}/{child_id}`, e.g.
/// `plans/kh-963-ubnd/tasks/t1`.
pub fn parse_nested(parent: &'static str, child: &'static str, name: &str) -> Result<(String, String), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let wrong = || NameError::WrongPattern { collection: parent };
    let rest = name.strip_prefix(parent).and_then(|r| r.strip_prefix('/')).ok_or_else(wrong)?;
    let (parent_id, rest) = rest.split_once('/').ok_or_else(wrong)?;
    let child_id = rest.strip_prefix(child).and_then(|r| r.strip_prefix('/')).ok_or_else(wrong)?;
    validate_id(parent_id)?;
    validate_id(child_id)?;
    Ok((parent_id.to_owned(), child_id.to_owned()))
}

/// `{collection}/{id}`.
pub fn format(collection: &str, id: &str) -> String {
    format!("{collection}/{id}")
}

/// A fresh random ID: a letter then 15 base-32 characters (80 bits), so IDs are opaque,
/// URL-safe, valid by [`validate_id`] and practically never collide.
pub fn generate_id() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::rng();
    let mut id = String::with_capacity(16);
    id.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
    for _ in 0..15 {
        id.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!(parse("units", "units/so-noi-vu"), Ok("so-noi-vu".into()));
        assert_eq!(parse("units", ""), Err(NameError::Empty));
        assert_eq!(parse("units", "plans/x"), Err(NameError::WrongPattern { collection: "units" }));
        assert_eq!(parse("units", "unitsx"), Err(NameError::WrongPattern { collection: "units" }));
        assert!(matches!(parse("units", "units/"), Err(NameError::BadId(_))));
        assert!(matches!(parse("units", "units/a/b"), Err(NameError::BadId(_))));
        assert!(matches!(parse("units", "units/Sở"), Err(NameError::BadId(_))));
        assert!(matches!(parse("units", "units/x'--"), Err(NameError::BadId(_))));
    }

    #[test]
    fn parses_nested_names() {
        assert_eq!(parse_nested("plans", "tasks", "plans/p1/tasks/t1"), Ok(("p1".into(), "t1".into())));
        for bad in [
            "",
            "plans/p1",
            "plans/p1/tasks",
            "plans/p1/tasks/",
            "plans/p1/reports/t1",
            "tasks/p1/plans/t1",
            "plans/P/tasks/t",
        ] {
            assert!(parse_nested("plans", "tasks", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn id_rules() {
        assert!(validate_id("a").is_ok());
        assert!(validate_id("so-noi-vu-2").is_ok());
        assert!(validate_id(&"a".repeat(63)).is_ok());
        for bad in ["", "1a", "-a", "a-", "A", "a_b", "a b", &"a".repeat(64)] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| generate_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| validate_id(id).is_ok() && id.len() == 16));
    }
}
