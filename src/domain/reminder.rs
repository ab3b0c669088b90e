//! When reminders fall due (the rules of "theo dõi, đôn đốc"): before a task's deadline,
//! on the day, repeatedly while it is overdue, and an escalation after some days
//! overdue. Each occurrence has a key, so the same reminder is never sent twice.

use chrono::NaiveDate;

/// A plan's (or the province's default) reminder rules; 0 turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReminderRules {
    /// Remind this many days before the deadline.
    pub days_before: i32,
    /// Remind on the due day.
    pub on_due_day: bool,
    /// While overdue, remind every this many days (from the first day overdue).
    pub overdue_every_days: i32,
    /// Escalate to the monitoring unit after this many days overdue.
    pub escalate_after_days: i32,
    /// Escalate to the lead unit's parent too.
    pub escalate_to_parent: bool,
    /// Remind of a periodic report this many days before its deadline.
    pub report_days_before: i32,
    /// Remind units of reports past their deadline.
    pub remind_missing_reports: bool,
}

impl Default for ReminderRules {
    fn default() -> Self {
        Self {
            days_before: 3,
            on_due_day: true,
            overdue_every_days: 7,
            escalate_after_days: 14,
            escalate_to_parent: false,
            report_days_before: 2,
            remind_missing_reports: true,
        }
    }
}

/// Which rule a reminder comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderRule {
    /// Before the deadline.
    Before,
    /// On the due day.
    DueDay,
    /// While overdue.
    Overdue,
    /// Escalation to the monitoring side.
    Escalation,
    /// A periodic report due soon.
    ReportDue,
    /// A report past its deadline.
    ReportMissing,
}

impl ReminderRule {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderRule::Before => "BEFORE",
            ReminderRule::DueDay => "DUE_DAY",
            ReminderRule::Overdue => "OVERDUE",
            ReminderRule::Escalation => "ESCALATION",
            ReminderRule::ReportDue => "REPORT_DUE",
            ReminderRule::ReportMissing => "REPORT_MISSING",
        }
    }
}

/// The reminders due on `today` for an open task with effective deadline `due`, each
/// with its occurrence key: the same key on another day means the same reminder.
pub fn task_occurrences(rules: &ReminderRules, due: NaiveDate, today: NaiveDate) -> Vec<(ReminderRule, String)> {
    let mut out = Vec::new();
    let days_to_due = (due - today).num_days();
    if rules.days_before > 0 && days_to_due > 0 && days_to_due <= i64::from(rules.days_before) {
        out.push((ReminderRule::Before, format!("{due}")));
    }
    if rules.on_due_day && days_to_due == 0 {
        out.push((ReminderRule::DueDay, format!("{due}")));
    }
    let days_over = -days_to_due;
    if rules.overdue_every_days > 0 && days_over >= 1 {
        // The first on day 1 overdue, then every N days: occurrence k covers days
        // 1 + kN .. (k+1)N, so a service that was down sends the current one, once.
        let k = (days_over - 1) / i64::from(rules.overdue_every_days);
        out.push((ReminderRule::Overdue, format!("{due}#{k}")));
    }
    if rules.escalate_after_days > 0 && days_over >= i64::from(rules.escalate_after_days) {
        out.push((ReminderRule::Escalation, format!("{due}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn rules(keys: &[(ReminderRule, String)]) -> Vec<ReminderRule> {
        keys.iter().map(|(r, _)| *r).collect()
    }

    #[test]
    fn cadence_before_on_and_after_the_deadline() {
        let r = ReminderRules::default();
        let due = d(6, 30);
        assert!(task_occurrences(&r, due, d(6, 26)).is_empty(), "4 days before: nothing yet");
        assert_eq!(task_occurrences(&r, due, d(6, 27)), [(ReminderRule::Before, "2026-06-30".into())]);
        assert_eq!(task_occurrences(&r, due, d(6, 29)), [(ReminderRule::Before, "2026-06-30".into())], "same key");
        assert_eq!(rules(&task_occurrences(&r, due, d(6, 30))), [ReminderRule::DueDay]);
        assert_eq!(task_occurrences(&r, due, d(7, 1)), [(ReminderRule::Overdue, "2026-06-30#0".into())]);
        assert_eq!(task_occurrences(&r, due, d(7, 7))[0].1, "2026-06-30#0");
        assert_eq!(task_occurrences(&r, due, d(7, 8))[0].1, "2026-06-30#1");
        assert_eq!(rules(&task_occurrences(&r, due, d(7, 14))), [ReminderRule::Overdue, ReminderRule::Escalation]);
    }

    #[test]
    fn zero_turns_rules_off() {
        let r = ReminderRules {
            days_before: 0,
            on_due_day: false,
            overdue_every_days: 0,
            escalate_after_days: 0,
            ..Default::default()
        };
        for day in [d(6, 28), d(6, 30), d(7, 20)] {
            assert!(task_occurrences(&r, d(6, 30), day).is_empty());
        }
    }
}
