//! Recommendation rules (domain rule 5): kinds, the figures each kind is measured in,
//! and the status and rates derived from the tasks that address a recommendation.

use std::collections::BTreeMap;

use super::task::TaskState;

/// The kinds of recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecommendationKind {
    /// Thu hồi tiền.
    MoneyRecovery,
    /// Thu hồi đất.
    LandRecovery,
    /// Loại khỏi giá trị quyết toán.
    RemovalFromSettlement,
    /// Xử lý hành chính.
    AdministrativeHandling,
    /// Xử lý kỷ luật.
    DisciplinaryHandling,
    /// Kiểm điểm rút kinh nghiệm.
    SelfCriticismReview,
    /// Xử phạt.
    Fines,
    /// Sửa đổi cơ chế, chính sách.
    AmendRegulation,
    /// Chuyển cơ quan điều tra.
    TransferToInvestigation,
    /// Other.
    Other,
}

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Measure {
    /// Whole đồng.
    Dong,
    /// Whole square metres.
    SquareMetre,
    /// Organisations.
    Organisations,
    /// Individuals.
    Individuals,
    /// Collectives.
    Collectives,
    /// Decisions.
    Decisions,
    /// Cases.
    Cases,
    /// Persons.
    Persons,
    /// Documents amended or issued.
    Documents,
}

impl Measure {
    /// Every measure.
    pub const ALL: [Measure; 9] = [
        Measure::Dong,
        Measure::SquareMetre,
        Measure::Organisations,
        Measure::Individuals,
        Measure::Collectives,
        Measure::Decisions,
        Measure::Cases,
        Measure::Persons,
        Measure::Documents,
    ];
}

impl RecommendationKind {
    /// Every kind.
    pub const ALL: [RecommendationKind; 10] = [
        RecommendationKind::MoneyRecovery,
        RecommendationKind::LandRecovery,
        RecommendationKind::RemovalFromSettlement,
        RecommendationKind::AdministrativeHandling,
        RecommendationKind::DisciplinaryHandling,
        RecommendationKind::SelfCriticismReview,
        RecommendationKind::Fines,
        RecommendationKind::AmendRegulation,
        RecommendationKind::TransferToInvestigation,
        RecommendationKind::Other,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RecommendationKind::MoneyRecovery => "MONEY_RECOVERY",
            RecommendationKind::LandRecovery => "LAND_RECOVERY",
            RecommendationKind::RemovalFromSettlement => "REMOVAL_FROM_SETTLEMENT",
            RecommendationKind::AdministrativeHandling => "ADMINISTRATIVE_HANDLING",
            RecommendationKind::DisciplinaryHandling => "DISCIPLINARY_HANDLING",
            RecommendationKind::SelfCriticismReview => "SELF_CRITICISM_REVIEW",
            RecommendationKind::Fines => "FINES",
            RecommendationKind::AmendRegulation => "AMEND_REGULATION",
            RecommendationKind::TransferToInvestigation => "TRANSFER_TO_INVESTIGATION",
            RecommendationKind::Other => "OTHER",
        }
    }

    /// The kind stored as `s`.
    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The measures a target of this kind may be in.
    pub fn measures(self) -> &'static [Measure] {
        use Measure::*;
        match self {
            RecommendationKind::MoneyRecovery | RecommendationKind::RemovalFromSettlement => &[Dong],
            RecommendationKind::LandRecovery => &[SquareMetre],
            RecommendationKind::AdministrativeHandling => &[Organisations, Individuals],
            RecommendationKind::DisciplinaryHandling => &[Individuals],
            RecommendationKind::SelfCriticismReview => &[Collectives, Individuals],
            RecommendationKind::Fines => &[Decisions, Dong],
            RecommendationKind::AmendRegulation => &[Documents],
            RecommendationKind::TransferToInvestigation => &[Cases, Persons],
            RecommendationKind::Other => &Measure::ALL,
        }
    }

    /// Transfers to investigation are flagged for the monitoring unit at once.
    pub fn flagged(self) -> bool {
        self == RecommendationKind::TransferToInvestigation
    }
}

/// Why a set of figures is refused; `index` is the figure's position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FigureError {
    /// The measure does not fit the kind.
    #[error("{measure:?} is not a measure of {kind}; use one of {allowed}")]
    WrongMeasure {
        /// The figure's position.
        index: usize,
        /// The measure given.
        measure: Measure,
        /// The kind's storage name.
        kind: &'static str,
        /// The measures allowed.
        allowed: String,
    },
    /// Two figures of one measure.
    #[error("{measure:?} is given twice")]
    Duplicate {
        /// The second figure's position.
        index: usize,
        /// The measure.
        measure: Measure,
    },
    /// A negative amount.
    #[error("amounts cannot be negative")]
    Negative {
        /// The figure's position.
        index: usize,
    },
}

impl FigureError {
    /// The position of the offending figure.
    pub fn index(&self) -> usize {
        match self {
            FigureError::WrongMeasure { index, .. }
            | FigureError::Duplicate { index, .. }
            | FigureError::Negative { index } => *index,
        }
    }
}

/// Checks target figures against a kind: allowed measures, one per measure, not negative.
pub fn check_required(
    kind: RecommendationKind,
    figures: &[(Measure, i64)],
) -> Result<BTreeMap<Measure, i64>, FigureError> {
    let mut out = BTreeMap::new();
    for (index, &(measure, amount)) in figures.iter().enumerate() {
        if !kind.measures().contains(&measure) {
            let allowed = kind.measures().iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ");
            return Err(FigureError::WrongMeasure { index, measure, kind: kind.as_str(), allowed });
        }
        if amount < 0 {
            return Err(FigureError::Negative { index });
        }
        if out.insert(measure, amount).is_some() {
            return Err(FigureError::Duplicate { index, measure });
        }
    }
    Ok(out)
}

/// The derived implementation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecommendationStatus {
    /// No addressing task has started.
    NotStarted,
    /// Work is under way.
    InProgress,
    /// All tasks done and every target reached.
    Implemented,
    /// All tasks finished, but not all done or not every target reached.
    PartlyImplemented,
    /// Every task closed without being done.
    NotImplemented,
}

/// One figure's target and achievement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FigureProgress {
    /// The measure.
    pub measure: Measure,
    /// The target.
    pub required: i64,
    /// Achieved by accepted tasks.
    pub achieved: i64,
    /// achieved / required in percent; 0 when nothing is required.
    pub rate_percent: f64,
}

/// An addressing task as the derivation sees it: its state and what it achieved towards
/// this recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    /// The task's state.
    pub state: TaskState,
    /// Its reported achievements for this recommendation.
    pub achieved: Vec<(Measure, i64)>,
}

/// Derives status and progress from the addressing tasks. Only accepted (DONE) tasks
/// count towards achievement: the monitoring unit has checked them.
pub fn derive(required: &BTreeMap<Measure, i64>, tasks: &[TaskOutcome]) -> (RecommendationStatus, Vec<FigureProgress>) {
    let mut achieved: BTreeMap<Measure, i64> = BTreeMap::new();
    for task in tasks.iter().filter(|t| t.state == TaskState::Done) {
        for &(measure, amount) in &task.achieved {
            *achieved.entry(measure).or_default() = achieved.get(&measure).copied().unwrap_or(0).saturating_add(amount);
        }
    }
    let progress: Vec<FigureProgress> = required
        .iter()
        .map(|(&measure, &required)| {
            let achieved = achieved.get(&measure).copied().unwrap_or(0);
            let rate_percent = if required > 0 { achieved as f64 * 100.0 / required as f64 } else { 0.0 };
            FigureProgress { measure, required, achieved, rate_percent }
        })
        .collect();
    let targets_reached = progress.iter().all(|p| p.achieved >= p.required);
    let finished = tasks.iter().all(|t| !t.state.is_open());
    let status = if tasks.is_empty() || tasks.iter().all(|t| t.state == TaskState::NotStarted) {
        RecommendationStatus::NotStarted
    } else if !finished {
        RecommendationStatus::InProgress
    } else if tasks.iter().all(|t| t.state == TaskState::ClosedNotDone) {
        RecommendationStatus::NotImplemented
    } else if tasks.iter().all(|t| t.state == TaskState::Done) && targets_reached {
        RecommendationStatus::Implemented
    } else {
        RecommendationStatus::PartlyImplemented
    };
    (status, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Measure::*;
    use TaskState::*;

    fn task(state: TaskState, achieved: &[(Measure, i64)]) -> TaskOutcome {
        TaskOutcome { state, achieved: achieved.to_vec() }
    }

    #[test]
    fn figures_must_fit_the_kind() {
        use RecommendationKind::*;
        assert!(check_required(MoneyRecovery, &[(Dong, 1_500_000_000)]).is_ok());
        assert!(check_required(TransferToInvestigation, &[(Cases, 1), (Persons, 3)]).is_ok());
        assert!(matches!(
            check_required(MoneyRecovery, &[(SquareMetre, 5)]),
            Err(FigureError::WrongMeasure { index: 0, .. })
        ));
        assert!(matches!(check_required(Fines, &[(Dong, 1), (Dong, 2)]), Err(FigureError::Duplicate { index: 1, .. })));
        assert!(matches!(check_required(Other, &[(Cases, -1)]), Err(FigureError::Negative { index: 0 })));
        assert!(TransferToInvestigation.flagged() && !Fines.flagged());
    }

    #[test]
    fn status_follows_the_tasks() {
        let required = BTreeMap::from([(Dong, 100)]);
        let status = |tasks: &[TaskOutcome]| derive(&required, tasks).0;
        assert_eq!(status(&[]), RecommendationStatus::NotStarted);
        assert_eq!(status(&[task(NotStarted, &[])]), RecommendationStatus::NotStarted);
        assert_eq!(status(&[task(InProgress, &[])]), RecommendationStatus::InProgress);
        assert_eq!(status(&[task(Done, &[(Dong, 100)]), task(NotStarted, &[])]), RecommendationStatus::InProgress);
        assert_eq!(status(&[task(Done, &[(Dong, 60)]), task(Done, &[(Dong, 40)])]), RecommendationStatus::Implemented);
        assert_eq!(status(&[task(Done, &[(Dong, 60)])]), RecommendationStatus::PartlyImplemented);
        assert_eq!(
            status(&[task(Done, &[(Dong, 100)]), task(ClosedNotDone, &[])]),
            RecommendationStatus::PartlyImplemented
        );
        assert_eq!(status(&[task(ClosedNotDone, &[]), task(ClosedNotDone, &[])]), RecommendationStatus::NotImplemented);
    }

    #[test]
    fn only_accepted_tasks_count_and_rates_are_computed() {
        let required = BTreeMap::from([(Dong, 200), (Individuals, 0)]);
        let (_, progress) = derive(&required, &[task(Done, &[(Dong, 50)]), task(ReportedDone, &[(Dong, 150)])]);
        assert_eq!(progress[0], FigureProgress { measure: Dong, required: 200, achieved: 50, rate_percent: 25.0 });
        assert_eq!(progress[1], FigureProgress { measure: Individuals, required: 0, achieved: 0, rate_percent: 0.0 });
    }
}
