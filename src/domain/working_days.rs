//! Working days: Monday to Friday, less the tenant's holidays. Report deadlines are counted
//! in working days after a period's cut-off (Decree 09/2019 requires at least one).

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Whether `day` is a working day.
pub fn is_working_day(day: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&day)
}

/// The `n`-th working day after `day` (n ≥ 1; 0 gives `day` itself).
pub fn add_working_days(day: NaiveDate, n: u32, holidays: &BTreeSet<NaiveDate>) -> NaiveDate {
    let mut current = day;
    let mut left = n;
    while left > 0 {
        current = current.checked_add_days(Days::new(1)).unwrap_or(current);
        if is_working_day(current, holidays) {
            left -= 1;
        }
        if current == NaiveDate::MAX {
            break;
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekends_and_holidays_are_skipped() {
        let none = BTreeSet::new();
        // Friday 14 August 2020 + 1 working day = Monday 17 August.
        assert_eq!(add_working_days(d(2020, 8, 14), 1, &none), d(2020, 8, 17));
        assert_eq!(add_working_days(d(2020, 8, 14), 3, &none), d(2020, 8, 19));
        // Tuesday 1 September 2020 + 1: 2 September is National Day.
        let holidays = BTreeSet::from([d(2020, 9, 2)]);
        assert_eq!(add_working_days(d(2020, 9, 1), 1, &holidays), d(2020, 9, 3));
        // Saturday 28 December 2024 + 3: a weekend and New Year's Day in between.
        let holidays = BTreeSet::from([d(2025, 1, 1)]);
        assert_eq!(add_working_days(d(2024, 12, 28), 3, &holidays), d(2025, 1, 2));
        assert_eq!(add_working_days(d(2020, 8, 14), 0, &none), d(2020, 8, 14));
    }
}
