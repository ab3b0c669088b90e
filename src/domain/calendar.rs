//! The calendar the service counts days in: Vietnam's, Asia/Ho_Chi_Minh.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;

/// The calendar day in Vietnam at `instant`.
pub fn local_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&Ho_Chi_Minh).date_naive()
}

/// Where the service reads the time, so tests can set it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// Today in Vietnam.
    fn today(&self) -> NaiveDate {
        local_date(self.now())
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move, for tests of deadlines and schedules.
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self { now: std::sync::Mutex::new(now) }
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn local_date_turns_at_midnight_in_vietnam_not_utc() {
        // 16:59:59 UTC is 23:59:59 in Vietnam (UTC+7); one second later it is the next day.
        let before = Utc.with_ymd_and_hms(2025, 6, 30, 16, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2025, 6, 30, 17, 0, 0).unwrap();
        assert_eq!(local_date(before), NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
        assert_eq!(local_date(after), NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
    }
}
