//! Report periods and their data cut-off windows (Decree 09/2019/NĐ-CP, art. 12).
//!
//! A period's window runs from the 15th of one month to the 14th of another, so that a
//! report can be compiled and sent in the days after the cut-off:
//!
//! | kind | key | window |
//! |---|---|---|
//! | month | `2020-M07` | 15/06 → 14/07 |
//! | quarter | `2020-Q3` | 15/06 → 14/09 (15th of the month before the quarter → 14th of its last month) |
//! | half year | `2020-H1`, `2020-H2` | 15/12 of 2019 → 14/06; 15/06 → 14/12 |
//! | nine months | `2020-9M` | 15/12 of 2019 → the configured end (default 14/09) |
//! | year | `2020` | 15/12 of 2019 → 14/12 |
//!
//! No national cut-off for nine-month reports was found, hence the configurable end.

use chrono::{Datelike, NaiveDate};

/// The kinds of periodic report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    /// Monthly.
    Month,
    /// Quarterly.
    Quarter,
    /// Six-monthly: first (H1) or second (H2) half.
    HalfYear,
    /// Nine months.
    NineMonths,
    /// Annual.
    Year,
}

impl PeriodKind {
    /// Every kind.
    pub const ALL: [PeriodKind; 5] =
        [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::HalfYear, PeriodKind::NineMonths, PeriodKind::Year];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Month => "MONTH",
            PeriodKind::Quarter => "QUARTER",
            PeriodKind::HalfYear => "HALF_YEAR",
            PeriodKind::NineMonths => "NINE_MONTHS",
            PeriodKind::Year => "YEAR",
        }
    }

    /// The kind stored as `s`.
    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How many periods of this kind a year has.
    fn per_year(self) -> u32 {
        match self {
            PeriodKind::Month => 12,
            PeriodKind::Quarter => 4,
            PeriodKind::HalfYear => 2,
            PeriodKind::NineMonths | PeriodKind::Year => 1,
        }
    }
}

/// Where a nine-month window ends (it starts on 15 December of the previous year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NineMonthsEnd {
    /// The month of the last day.
    pub month: u32,
    /// The last day.
    pub day: u32,
}

impl Default for NineMonthsEnd {
    fn default() -> Self {
        Self { month: 9, day: 14 }
    }
}

/// One period: a kind, a year, and the period's number within the year (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// The kind.
    pub kind: PeriodKind,
    /// The year the period belongs to (the year its window ends in).
    pub year: i32,
    /// 1..=12 for months, 1..=4 for quarters, 1..=2 for halves, 1 otherwise.
    pub number: u32,
}

/// Why a period key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a period key; use e.g. 2020-M07, 2020-Q3, 2020-H1, 2020-9M or 2020")]
pub struct PeriodKeyError(pub String);

/// The 15th of the month before `month` of `year` (15 December of the year before for January).
fn fifteenth_before(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
    NaiveDate::from_ymd_opt(y, m, 15).unwrap_or(NaiveDate::MIN)
}

fn fourteenth(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 14).unwrap_or(NaiveDate::MIN)
}

impl Period {
    /// A period, if `number` fits the kind and the year is a plausible one.
    pub fn new(kind: PeriodKind, year: i32, number: u32) -> Option<Self> {
        ((1..=kind.per_year()).contains(&number) && (1900..=9998).contains(&year)).then_some(Self {
            kind,
            year,
            number,
        })
    }

    /// The readable key: `2020-M07`, `2020-Q3`, `2020-H1`, `2020-9M`, `2020`.
    pub fn key(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{}-M{:02}", self.year, self.number),
            PeriodKind::Quarter => format!("{}-Q{}", self.year, self.number),
            PeriodKind::HalfYear => format!("{}-H{}", self.year, self.number),
            PeriodKind::NineMonths => format!("{}-9M", self.year),
            PeriodKind::Year => format!("{}", self.year),
        }
    }

    /// Parses a key made by [`Period::key`].
    pub fn parse(key: &str) -> Result<Self, PeriodKeyError> {
        let bad = || PeriodKeyError(key.chars().take(40).collect());
        let (year, rest) = match key.split_once('-') {
            Some((year, rest)) => (year, Some(rest)),
            None => (key, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let number = |digits: &str, width: usize| -> Result<u32, PeriodKeyError> {
            if digits.len() != width || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            digits.parse().map_err(|_| bad())
        };
        let period = match rest {
            None => Period::new(PeriodKind::Year, year, 1),
            Some("9M") => Period::new(PeriodKind::NineMonths, year, 1),
            Some(r) if r.starts_with('M') => Period::new(PeriodKind::Month, year, number(&r[1..], 2)?),
            Some(r) if r.starts_with('Q') => Period::new(PeriodKind::Quarter, year, number(&r[1..], 1)?),
            Some(r) if r.starts_with('H') => Period::new(PeriodKind::HalfYear, year, number(&r[1..], 1)?),
            Some(_) => None,
        };
        period.ok_or_else(bad)
    }

    /// The first and last day (inclusive) of the period's data window.
    pub fn window(&self, nine_months: NineMonthsEnd) -> (NaiveDate, NaiveDate) {
        let y = self.year;
        match self.kind {
            PeriodKind::Month => (fifteenth_before(y, self.number), fourteenth(y, self.number)),
            PeriodKind::Quarter => {
                let first = 3 * self.number - 2;
                (fifteenth_before(y, first), fourteenth(y, first + 2))
            }
            PeriodKind::HalfYear => {
                let first = 6 * self.number - 5;
                (fifteenth_before(y, first), fourteenth(y, first + 5))
            }
            PeriodKind::NineMonths => (
                fifteenth_before(y, 1),
                NaiveDate::from_ymd_opt(y, nine_months.month, nine_months.day).unwrap_or(fourteenth(y, 9)),
            ),
            PeriodKind::Year => (fifteenth_before(y, 1), fourteenth(y, 12)),
        }
    }

    /// The period of the same kind after this one.
    pub fn next(&self) -> Period {
        if self.number < self.kind.per_year() {
            Period { number: self.number + 1, ..*self }
        } else {
            Period { year: self.year + 1, number: 1, ..*self }
        }
    }

    /// The period of `kind` whose window holds `day`. For nine-month periods, the one of
    /// the year the window would end in (a day after the nine-month end belongs to none,
    /// and is given the next year's).
    pub fn containing(kind: PeriodKind, day: NaiveDate) -> Period {
        // Days from the 15th on belong to the next month's period.
        let (mut year, mut month) = (day.year(), day.month());
        if day.day() >= 15 {
            if month == 12 {
                year += 1;
                month = 1;
            } else {
                month += 1;
            }
        }
        let number = match kind {
            PeriodKind::Month => month,
            PeriodKind::Quarter => month.div_ceil(3),
            PeriodKind::HalfYear => month.div_ceil(6),
            PeriodKind::NineMonths | PeriodKind::Year => 1,
        };
        Period { kind, year, number }
    }
}

/// The periods of `kind` whose cut-off has passed by `as_of` (their window ends before
/// it) and that end on or after `since` (a plan reports from its issue date on), oldest
/// first. At most 1200 (a century of months), so a wild date cannot run away.
pub fn due_periods(kind: PeriodKind, since: NaiveDate, as_of: NaiveDate, nine_months: NineMonthsEnd) -> Vec<Period> {
    let mut out = Vec::new();
    let mut period = Period::containing(kind, since);
    for _ in 0..1200 {
        let (_, end) = period.window(nine_months);
        if end >= as_of {
            break;
        }
        if end >= since {
            out.push(period);
        }
        period = period.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn window(key: &str) -> (NaiveDate, NaiveDate) {
        Period::parse(key).unwrap().window(NineMonthsEnd::default())
    }

    #[test]
    fn windows_follow_decree_09() {
        assert_eq!(window("2020-M07"), (d(2020, 6, 15), d(2020, 7, 14)));
        assert_eq!(window("2020-M01"), (d(2019, 12, 15), d(2020, 1, 14)));
        assert_eq!(window("2020-Q1"), (d(2019, 12, 15), d(2020, 3, 14)));
        assert_eq!(window("2020-Q3"), (d(2020, 6, 15), d(2020, 9, 14)));
        assert_eq!(window("2020-Q4"), (d(2020, 9, 15), d(2020, 12, 14)));
        assert_eq!(window("2020-H1"), (d(2019, 12, 15), d(2020, 6, 14)));
        assert_eq!(window("2020-H2"), (d(2020, 6, 15), d(2020, 12, 14)));
        assert_eq!(window("2020-9M"), (d(2019, 12, 15), d(2020, 9, 14)));
        assert_eq!(window("2020"), (d(2019, 12, 15), d(2020, 12, 14)));
        let custom = Period::parse("2020-9M").unwrap().window(NineMonthsEnd { month: 9, day: 30 });
        assert_eq!(custom.1, d(2020, 9, 30));
    }

    #[test]
    fn keys_round_trip_and_bad_keys_are_refused() {
        for key in ["2020-M07", "2020-M12", "2020-Q3", "2020-H1", "2020-H2", "2020-9M", "2020"] {
            assert_eq!(Period::parse(key).unwrap().key(), key);
        }
        for bad in
            ["", "2020-M7", "2020-M13", "2020-Q5", "2020-H3", "2020-Q0", "20-Q1", "2020-X1", "2020-9m", "2020-M0a"]
        {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_period_of_a_day_turns_on_the_15th() {
        assert_eq!(Period::containing(PeriodKind::Month, d(2020, 7, 14)).key(), "2020-M07");
        assert_eq!(Period::containing(PeriodKind::Month, d(2020, 7, 15)).key(), "2020-M08");
        assert_eq!(Period::containing(PeriodKind::Month, d(2020, 12, 15)).key(), "2021-M01");
        assert_eq!(Period::containing(PeriodKind::Quarter, d(2020, 6, 15)).key(), "2020-Q3");
        assert_eq!(Period::containing(PeriodKind::HalfYear, d(2020, 12, 20)).key(), "2021-H1");
        assert_eq!(Period::containing(PeriodKind::Year, d(2020, 12, 14)).key(), "2020");
        assert_eq!(Period::containing(PeriodKind::Year, d(2020, 12, 15)).key(), "2021");
    }

    #[test]
    fn due_periods_are_those_cut_off_since_the_start() {
        let keys = |kind, since, as_of| {
            due_periods(kind, since, as_of, NineMonthsEnd::default()).iter().map(Period::key).collect::<Vec<_>>()
        };
        // Plan issued 20 May 2020; on 15 September the months M06..M09 and Q2, Q3 are cut off.
        assert_eq!(
            keys(PeriodKind::Month, d(2020, 5, 20), d(2020, 9, 15)),
            ["2020-M06", "2020-M07", "2020-M08", "2020-M09"]
        );
        assert_eq!(keys(PeriodKind::Quarter, d(2020, 5, 20), d(2020, 9, 15)), ["2020-Q2", "2020-Q3"]);
        assert_eq!(keys(PeriodKind::Quarter, d(2020, 5, 20), d(2020, 9, 14)), ["2020-Q2"]);
        assert_eq!(keys(PeriodKind::Year, d(2020, 5, 20), d(2021, 1, 1)), ["2020"]);
        assert_eq!(keys(PeriodKind::NineMonths, d(2020, 5, 20), d(2021, 10, 1)), ["2020-9M", "2021-9M"]);
        assert!(keys(PeriodKind::Month, d(2020, 5, 20), d(2020, 5, 21)).is_empty());
    }

    fn tiling_kind() -> impl Strategy<Value = PeriodKind> {
        prop_oneof![
            Just(PeriodKind::Month),
            Just(PeriodKind::Quarter),
            Just(PeriodKind::HalfYear),
            Just(PeriodKind::Year)
        ]
    }

    proptest! {
        /// Consecutive windows of one kind tile the calendar: each starts the day after
        /// the previous one ends.
        #[test]
        fn consecutive_windows_tile_the_calendar(kind in tiling_kind(), year in 1990i32..2100, steps in 1usize..30) {
            let mut period = Period::new(kind, year, 1).unwrap();
            for _ in 0..steps {
                let next = period.next();
                let (_, end) = period.window(NineMonthsEnd::default());
                let (start, _) = next.window(NineMonthsEnd::default());
                prop_assert_eq!(end.succ_opt().unwrap(), start, "{} then {}", period.key(), next.key());
                period = next;
            }
        }

        /// Every day lies in the window of the period that contains it.
        #[test]
        fn a_day_lies_in_its_periods_window(kind in tiling_kind(), days in 0i64..60_000) {
            let day = d(1990, 1, 1) + chrono::Duration::days(days);
            let (start, end) = Period::containing(kind, day).window(NineMonthsEnd::default());
            prop_assert!(start <= day && day <= end);
        }

        #[test]
        fn parsing_never_panics(input in "\\PC{0,12}") {
            let _ = Period::parse(&input);
        }
    }
}
