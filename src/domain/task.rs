//! Task rules: the state machine (domain rule 3) and timeliness (rule 4).

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::calendar::local_date;

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    /// Assigned, not begun.
    NotStarted,
    /// Under way.
    InProgress,
    /// Reported done by the lead unit, awaiting the monitoring side.
    ReportedDone,
    /// Accepted as done.
    Done,
    /// On hold; never late.
    Suspended,
    /// Can no longer be done.
    ClosedNotDone,
}

impl TaskState {
    /// Every state.
    pub const ALL: [TaskState; 6] = [
        TaskState::NotStarted,
        TaskState::InProgress,
        TaskState::ReportedDone,
        TaskState::Done,
        TaskState::Suspended,
        TaskState::ClosedNotDone,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::NotStarted => "NOT_STARTED",
            TaskState::InProgress => "IN_PROGRESS",
            TaskState::ReportedDone => "REPORTED_DONE",
            TaskState::Done => "DONE",
            TaskState::Suspended => "SUSPENDED",
            TaskState::ClosedNotDone => "CLOSED_NOT_DONE",
        }
    }

    /// The state stored as `s`.
    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Open: neither accepted nor closed.
    pub fn is_open(self) -> bool {
        !matches!(self, TaskState::Done | TaskState::ClosedNotDone)
    }
}

/// A lifecycle step, as the RPC that asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    /// StartTask.
    Start,
    /// ReportTaskDone.
    ReportDone,
    /// AcceptTask.
    Accept,
    /// ReturnTask.
    Return,
    /// SuspendTask.
    Suspend,
    /// ResumeTask.
    Resume,
    /// CloseTaskNotDone.
    CloseNotDone,
}

impl TaskAction {
    /// The RPC name, for messages and the audit trail.
    pub fn rpc(self) -> &'static str {
        match self {
            TaskAction::Start => "StartTask",
            TaskAction::ReportDone => "ReportTaskDone",
            TaskAction::Accept => "AcceptTask",
            TaskAction::Return => "ReturnTask",
            TaskAction::Suspend => "SuspendTask",
            TaskAction::Resume => "ResumeTask",
            TaskAction::CloseNotDone => "CloseTaskNotDone",
        }
    }

    /// Whether the lead unit takes this step (the rest belong to the monitoring side,
    /// so an implementing unit never accepts or closes its own work).
    pub fn by_lead_unit(self) -> bool {
        matches!(self, TaskAction::Start | TaskAction::ReportDone)
    }
}

/// Why a step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} is not allowed for a task in state {state}; allowed from: {allowed}")]
pub struct TransitionError {
    /// The RPC asked for.
    pub action: &'static str,
    /// The task's state.
    pub state: &'static str,
    /// The states the step is allowed from.
    pub allowed: String,
}

fn allowed_from(action: TaskAction) -> &'static [TaskState] {
    use TaskState::*;
    match action {
        TaskAction::Start => &[NotStarted],
        TaskAction::ReportDone => &[NotStarted, InProgress],
        TaskAction::Accept | TaskAction::Return => &[ReportedDone],
        TaskAction::Suspend => &[NotStarted, InProgress, ReportedDone],
        TaskAction::Resume => &[Suspended],
        TaskAction::CloseNotDone => &[NotStarted, InProgress, ReportedDone, Suspended],
    }
}

/// The state after `action` from `state`. `resume_to` is the state a suspended task
/// was suspended from.
pub fn transition(
    state: TaskState,
    action: TaskAction,
    resume_to: Option<TaskState>,
) -> Result<TaskState, TransitionError> {
    let allowed = allowed_from(action);
    if !allowed.contains(&state) {
        return Err(TransitionError {
            action: action.rpc(),
            state: state.as_str(),
            allowed: allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(match action {
        TaskAction::Start | TaskAction::Return => TaskState::InProgress,
        TaskAction::ReportDone => TaskState::ReportedDone,
        TaskAction::Accept => TaskState::Done,
        TaskAction::Suspend => TaskState::Suspended,
        TaskAction::Resume => {
            resume_to.filter(|s| s.is_open() && *s != TaskState::Suspended).unwrap_or(TaskState::InProgress)
        }
        TaskAction::CloseNotDone => TaskState::ClosedNotDone,
    })
}

/// How a task stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeliness {
    /// Closed without being done: no bucket.
    NotApplicable,
    /// Done by the deadline (or standing work done).
    OnTimeDone,
    /// Done after the deadline.
    LateDone,
    /// Open, not late.
    OpenWithinDeadline,
    /// Open and late.
    OpenOverdue,
    /// Open, not late, due within the asked number of days.
    DueSoon,
}

/// What timeliness depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineFacts {
    /// The state.
    pub state: TaskState,
    /// The effective due date; `None` for standing work.
    pub due: Option<NaiveDate>,
    /// When the lead unit reported it done (for REPORTED_DONE and DONE).
    pub completed: Option<DateTime<Utc>>,
}

/// The due date moved by the whole days spent suspended.
pub fn effective_due(due: Option<NaiveDate>, suspended_days: i32) -> Option<NaiveDate> {
    let days = u64::try_from(suspended_days).unwrap_or(0);
    due.and_then(|d| d.checked_add_days(Days::new(days)))
}

/// The timeliness bucket as of `as_of`. A task due on D is late from 00:00 of D+1 in
/// Vietnam; suspended and standing tasks are never late; `due_soon_days` > 0 turns
/// open, not late tasks due within that many days into DUE_SOON.
pub fn timeliness(facts: DeadlineFacts, as_of: DateTime<Utc>, due_soon_days: u32) -> Timeliness {
    let late_on = |day: NaiveDate| facts.due.is_some_and(|due| day > due);
    match facts.state {
        TaskState::ClosedNotDone => Timeliness::NotApplicable,
        TaskState::Done => match facts.completed {
            Some(done) if late_on(local_date(done)) => Timeliness::LateDone,
            _ => Timeliness::OnTimeDone,
        },
        TaskState::ReportedDone => match facts.completed {
            Some(done) if late_on(local_date(done)) => Timeliness::OpenOverdue,
            _ => Timeliness::OpenWithinDeadline,
        },
        TaskState::Suspended => Timeliness::OpenWithinDeadline,
        TaskState::NotStarted | TaskState::InProgress => {
            let today = local_date(as_of);
            match facts.due {
                Some(due) if today > due => Timeliness::OpenOverdue,
                Some(due) if due_soon_days > 0 && (due - today).num_days() <= i64::from(due_soon_days) => {
                    Timeliness::DueSoon
                }
                _ => Timeliness::OpenWithinDeadline,
            }
        }
    }
}

/// Whole calendar days (in Vietnam) from `since` to `until`, for suspended time.
pub fn days_between(since: DateTime<Utc>, until: DateTime<Utc>) -> i32 {
    let days = (local_date(until) - local_date(since)).num_days();
    i32::try_from(days.max(0)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn allowed_transitions() {
        use TaskAction::*;
        use TaskState::*;
        assert_eq!(transition(NotStarted, Start, None), Ok(InProgress));
        assert_eq!(transition(NotStarted, ReportDone, None), Ok(ReportedDone));
        assert_eq!(transition(InProgress, ReportDone, None), Ok(ReportedDone));
        assert_eq!(transition(ReportedDone, Accept, None), Ok(Done));
        assert_eq!(transition(ReportedDone, Return, None), Ok(InProgress));
        assert_eq!(transition(InProgress, Suspend, None), Ok(Suspended));
        assert_eq!(transition(Suspended, Resume, Some(NotStarted)), Ok(NotStarted));
        assert_eq!(transition(Suspended, Resume, Some(ReportedDone)), Ok(ReportedDone));
        assert_eq!(transition(Suspended, Resume, None), Ok(InProgress));
        assert_eq!(transition(Suspended, CloseNotDone, None), Ok(ClosedNotDone));
    }

    #[test]
    fn refused_transitions_name_the_allowed_states() {
        use TaskAction::*;
        use TaskState::*;
        let error = transition(InProgress, Accept, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "AcceptTask is not allowed for a task in state IN_PROGRESS; allowed from: REPORTED_DONE"
        );
        for (state, action) in [
            (InProgress, Start),
            (Done, ReportDone),
            (Done, Suspend),
            (Done, CloseNotDone),
            (ClosedNotDone, Resume),
            (NotStarted, Return),
            (Suspended, Start),
            (Suspended, ReportDone),
        ] {
            assert!(transition(state, action, None).is_err(), "{state:?} {action:?}");
        }
    }

    #[test]
    fn finished_states_allow_nothing() {
        use TaskAction::*;
        for action in [Start, ReportDone, Accept, Return, Suspend, Resume, CloseNotDone] {
            assert!(transition(TaskState::Done, action, None).is_err());
            assert!(transition(TaskState::ClosedNotDone, action, None).is_err());
        }
    }

    #[test]
    fn only_start_and_report_belong_to_the_lead_unit() {
        assert!(TaskAction::Start.by_lead_unit() && TaskAction::ReportDone.by_lead_unit());
        assert!(!TaskAction::Accept.by_lead_unit() && !TaskAction::CloseNotDone.by_lead_unit());
    }

    #[test]
    fn open_task_is_late_from_midnight_after_its_due_day_in_vietnam() {
        let facts = DeadlineFacts { state: TaskState::InProgress, due: Some(d(2020, 6, 30)), completed: None };
        // 23:59:59 on 30 June in Vietnam is 16:59:59 UTC.
        assert_eq!(timeliness(facts, t("2020-06-30T16:59:59Z"), 0), Timeliness::OpenWithinDeadline);
        assert_eq!(timeliness(facts, t("2020-06-30T17:00:00Z"), 0), Timeliness::OpenOverdue);
    }

    #[test]
    fn done_task_is_judged_by_when_it_was_reported_done() {
        let at = |completed| DeadlineFacts {
            state: TaskState::Done,
            due: Some(d(2020, 6, 30)),
            completed: Some(t(completed)),
        };
        let later = t("2021-01-01T00:00:00Z");
        assert_eq!(timeliness(at("2020-06-30T16:59:59Z"), later, 0), Timeliness::OnTimeDone);
        assert_eq!(timeliness(at("2020-06-30T17:00:00Z"), later, 0), Timeliness::LateDone);
        let reported = |completed| DeadlineFacts { state: TaskState::ReportedDone, ..at(completed) };
        assert_eq!(timeliness(reported("2020-06-30T16:59:59Z"), later, 0), Timeliness::OpenWithinDeadline);
        assert_eq!(timeliness(reported("2020-06-30T17:00:00Z"), later, 0), Timeliness::OpenOverdue);
    }

    #[test]
    fn standing_suspended_and_closed_tasks() {
        let far = t("2099-01-01T00:00:00Z");
        let standing = DeadlineFacts { state: TaskState::InProgress, due: None, completed: None };
        assert_eq!(timeliness(standing, far, 7), Timeliness::OpenWithinDeadline);
        let standing_done = DeadlineFacts { state: TaskState::Done, due: None, completed: Some(far) };
        assert_eq!(timeliness(standing_done, far, 7), Timeliness::OnTimeDone);
        let suspended = DeadlineFacts { state: TaskState::Suspended, due: Some(d(2020, 1, 1)), completed: None };
        assert_eq!(timeliness(suspended, far, 7), Timeliness::OpenWithinDeadline);
        let closed = DeadlineFacts { state: TaskState::ClosedNotDone, due: Some(d(2020, 1, 1)), completed: None };
        assert_eq!(timeliness(closed, far, 7), Timeliness::NotApplicable);
    }

    #[test]
    fn due_soon_counts_days_ahead() {
        let facts = DeadlineFacts { state: TaskState::NotStarted, due: Some(d(2020, 7, 10)), completed: None };
        assert_eq!(timeliness(facts, t("2020-07-03T03:00:00Z"), 7), Timeliness::DueSoon);
        assert_eq!(timeliness(facts, t("2020-07-02T03:00:00Z"), 7), Timeliness::OpenWithinDeadline);
        assert_eq!(timeliness(facts, t("2020-07-10T03:00:00Z"), 7), Timeliness::DueSoon);
        assert_eq!(timeliness(facts, t("2020-07-03T03:00:00Z"), 0), Timeliness::OpenWithinDeadline);
    }

    #[test]
    fn suspension_moves_the_deadline() {
        assert_eq!(effective_due(Some(d(2020, 6, 30)), 3), Some(d(2020, 7, 3)));
        assert_eq!(effective_due(None, 3), None);
        assert_eq!(days_between(t("2020-06-01T16:00:00Z"), t("2020-06-04T18:00:00Z")), 4);
        assert_eq!(days_between(t("2020-06-04T18:00:00Z"), t("2020-06-01T16:00:00Z")), 0);
    }

    #[test]
    fn states_round_trip_through_storage_names() {
        for state in TaskState::ALL {
            assert_eq!(TaskState::from_db(state.as_str()), Some(state));
        }
    }
}
