//! Rules about units: codes, kinds, the tree and dissolution.

use chrono::NaiveDate;

/// The longest unit code; real ones are a few letters (`SNV`, `UBND`, `BTĐKT`).
pub const MAX_CODE_CHARS: usize = 20;

/// The longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 300;

/// What kind of body a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// A People's Committee (Ủy ban nhân dân).
    PeoplesCommittee,
    /// A specialised department (sở, ban, ngành).
    Department,
    /// Another agency or public service unit.
    Agency,
    /// A commune, ward or special zone.
    Commune,
    /// An inspectorate.
    Inspectorate,
    /// Any other body.
    Other,
}

impl UnitKind {
    /// Every kind, in declaration order.
    pub const ALL: [UnitKind; 6] = [
        UnitKind::PeoplesCommittee,
        UnitKind::Department,
        UnitKind::Agency,
        UnitKind::Commune,
        UnitKind::Inspectorate,
        UnitKind::Other,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::PeoplesCommittee => "PEOPLES_COMMITTEE",
            UnitKind::Department => "DEPARTMENT",
            UnitKind::Agency => "AGENCY",
            UnitKind::Commune => "COMMUNE",
            UnitKind::Inspectorate => "INSPECTORATE",
            UnitKind::Other => "OTHER",
        }
    }

    /// The kind stored as `s`.
    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a unit code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Empty.
    #[error("is required")]
    Empty,
    /// Too long.
    #[error("must be at most {MAX_CODE_CHARS} characters")]
    TooLong,
    /// Holds something other than letters and digits.
    #[error("must contain only letters (Vietnamese included) and digits, e.g. SNV or BTĐKT; found {0:?}")]
    BadCharacter(char),
}

/// Parses a unit code: NFC, letters (any script, case kept) and digits only, as document
/// symbols use them (`SNV` in `45/BC-SNV`).
pub fn parse_code(input: &str) -> Result<String, CodeError> {
    let code = crate::domain::text::normalize(input);
    if code.is_empty() {
        return Err(CodeError::Empty);
    }
    if let Some(c) = code.chars().find(|c| !c.is_alphanumeric()) {
        return Err(CodeError::BadCharacter(c));
    }
    if code.chars().count() > MAX_CODE_CHARS {
        return Err(CodeError::TooLong);
    }
    Ok(code)
}

/// Why a new parent is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The unit would become its own ancestor.
    #[error("unit {unit} cannot be placed under {parent}: {parent} is {unit} itself or one of its descendants")]
    Cycle {
        /// The unit being moved.
        unit: String,
        /// The proposed parent.
        parent: String,
    },
    /// The parent no longer exists, or is about to cease.
    #[error("unit {parent} is dissolved (valid until {valid_to}); no new unit can be placed under it")]
    ParentDissolved {
        /// The proposed parent.
        parent: String,
        /// The day it ceased (or will cease).
        valid_to: NaiveDate,
    },
}

/// Checks that placing `unit` under `parent` keeps the tree a tree.
///
/// `parent_lineage` is the parent followed by its ancestors up to the root.
pub fn check_no_cycle(unit: &str, parent: &str, parent_lineage: &[String]) -> Result<(), TreeError> {
    if parent_lineage.iter().any(|ancestor| ancestor == unit) {
        return Err(TreeError::Cycle { unit: unit.to_owned(), parent: parent.to_owned() });
    }
    Ok(())
}

/// Checks that `parent` can take a new child: it must not be dissolved, nor scheduled to
/// be, because a child of a unit that ceases would be orphaned in the tree.
pub fn check_parent_open(parent: &str, parent_valid_to: Option<NaiveDate>) -> Result<(), TreeError> {
    match parent_valid_to {
        Some(valid_to) => Err(TreeError::ParentDissolved { parent: parent.to_owned(), valid_to }),
        None => Ok(()),
    }
}

/// Whether a unit with these validity dates exists on `day` (`valid_to` is exclusive).
pub fn is_active_on(valid_from: NaiveDate, valid_to: Option<NaiveDate>, day: NaiveDate) -> bool {
    valid_from <= day && valid_to.is_none_or(|end| day < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn codes_keep_case_and_vietnamese_letters() {
        assert_eq!(parse_code("SNV"), Ok("SNV".into()));
        assert_eq!(parse_code(" BTĐKT "), Ok("BTĐKT".into()));
        assert_eq!(parse_code("TTr"), Ok("TTr".into()));
        assert_eq!(parse_code("NV1"), Ok("NV1".into()));
        assert_eq!(parse_code(""), Err(CodeError::Empty));
        assert_eq!(parse_code("KH-UBND"), Err(CodeError::BadCharacter('-')));
        assert_eq!(parse_code("S NV"), Err(CodeError::BadCharacter(' ')));
        assert_eq!(parse_code(&"A".repeat(21)), Err(CodeError::TooLong));
    }

    #[test]
    fn cycle_detection() {
        let lineage = vec!["b".to_owned(), "a".to_owned()];
        assert!(check_no_cycle("c", "b", &lineage).is_ok());
        assert!(check_no_cycle("a", "b", &lineage).is_err());
        assert!(check_no_cycle("b", "b", &lineage).is_err());
    }

    #[test]
    fn dissolved_parent_takes_no_child() {
        assert!(check_parent_open("p", None).is_ok());
        assert!(check_parent_open("p", Some(d(2025, 7, 1))).is_err());
    }

    #[test]
    fn activity_is_half_open() {
        let from = d(2020, 1, 1);
        let to = Some(d(2025, 7, 1));
        assert!(!is_active_on(from, to, d(2019, 12, 31)));
        assert!(is_active_on(from, to, d(2020, 1, 1)));
        assert!(is_active_on(from, to, d(2025, 6, 30)));
        assert!(!is_active_on(from, to, d(2025, 7, 1)));
        assert!(is_active_on(from, None, d(2099, 1, 1)));
    }

    #[test]
    fn kinds_round_trip_through_storage_names() {
        for kind in UnitKind::ALL {
            assert_eq!(UnitKind::from_db(kind.as_str()), Some(kind));
        }
        assert_eq!(UnitKind::from_db("nope"), None);
    }
}
