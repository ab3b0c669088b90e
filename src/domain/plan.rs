//! Plan rules: the lifecycle DRAFT → ISSUED → COMPLETED, or → CANCELLED.

/// Where a plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanState {
    /// Being prepared.
    Draft,
    /// In force.
    Issued,
    /// Every task finished.
    Completed,
    /// Withdrawn.
    Cancelled,
}

impl PlanState {
    /// Every state.
    pub const ALL: [PlanState; 4] = [PlanState::Draft, PlanState::Issued, PlanState::Completed, PlanState::Cancelled];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanState::Draft => "DRAFT",
            PlanState::Issued => "ISSUED",
            PlanState::Completed => "COMPLETED",
            PlanState::Cancelled => "CANCELLED",
        }
    }

    /// The state stored as `s`.
    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether the plan and its tasks may still change.
    pub fn is_open(self) -> bool {
        matches!(self, PlanState::Draft | PlanState::Issued)
    }
}

/// Why a plan cannot move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanTransitionError {
    /// Not from this state.
    #[error("{action} is not allowed for a plan in state {state}")]
    WrongState {
        /// The RPC.
        action: &'static str,
        /// The plan's state.
        state: &'static str,
    },
    /// Issuing needs a task.
    #[error("a plan needs at least one task before it is issued")]
    NoTasks,
    /// Issuing needs a monitoring unit.
    #[error("a plan needs a monitoring unit before it is issued")]
    NoMonitoringUnit,
    /// Completing needs every task finished.
    #[error("{0} task(s) are still open; accept or close them before completing the plan")]
    OpenTasks(i64),
}

/// DRAFT → ISSUED, given the plan's task count and whether it names a monitoring unit.
pub fn issue(state: PlanState, tasks: i64, has_monitoring_unit: bool) -> Result<PlanState, PlanTransitionError> {
    if state != PlanState::Draft {
        return Err(PlanTransitionError::WrongState { action: "IssuePlan", state: state.as_str() });
    }
    if tasks == 0 {
        return Err(PlanTransitionError::NoTasks);
    }
    if !has_monitoring_unit {
        return Err(PlanTransitionError::NoMonitoringUnit);
    }
    Ok(PlanState::Issued)
}

/// ISSUED → COMPLETED, given the number of open tasks.
pub fn complete(state: PlanState, open_tasks: i64) -> Result<PlanState, PlanTransitionError> {
    if state != PlanState::Issued {
        return Err(PlanTransitionError::WrongState { action: "CompletePlan", state: state.as_str() });
    }
    if open_tasks > 0 {
        return Err(PlanTransitionError::OpenTasks(open_tasks));
    }
    Ok(PlanState::Completed)
}

/// DRAFT or ISSUED → CANCELLED.
pub fn cancel(state: PlanState) -> Result<PlanState, PlanTransitionError> {
    if !state.is_open() {
        return Err(PlanTransitionError::WrongState { action: "CancelPlan", state: state.as_str() });
    }
    Ok(PlanState::Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        assert_eq!(issue(PlanState::Draft, 1, true), Ok(PlanState::Issued));
        assert_eq!(issue(PlanState::Draft, 0, true), Err(PlanTransitionError::NoTasks));
        assert_eq!(issue(PlanState::Draft, 3, false), Err(PlanTransitionError::NoMonitoringUnit));
        assert!(issue(PlanState::Issued, 3, true).is_err());
        assert_eq!(complete(PlanState::Issued, 0), Ok(PlanState::Completed));
        assert_eq!(complete(PlanState::Issued, 2), Err(PlanTransitionError::OpenTasks(2)));
        assert!(complete(PlanState::Draft, 0).is_err());
        assert_eq!(cancel(PlanState::Draft), Ok(PlanState::Cancelled));
        assert_eq!(cancel(PlanState::Issued), Ok(PlanState::Cancelled));
        assert!(cancel(PlanState::Completed).is_err());
        assert!(cancel(PlanState::Cancelled).is_err());
    }

    #[test]
    fn states_round_trip() {
        for state in PlanState::ALL {
            assert_eq!(PlanState::from_db(state.as_str()), Some(state));
        }
    }
}
