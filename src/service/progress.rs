//! A plan's consolidated progress (báo cáo tổng hợp): a few aggregate queries, never the
//! tasks loaded one by one.

use chrono::{DateTime, NaiveDate, Utc};

use super::recommendations::RecommendationView;
use super::reports::{Missing, missing_in, missing_per_unit};
use super::{Services, not_found, require_role};
use crate::auth::principal::{Principal, Role};
use crate::domain::calendar::local_date;
use crate::domain::task::TaskState;
use crate::error::Error;
use crate::store::{self, plans, progress};

/// The most overdue tasks listed.
const MAX_OVERDUE: i64 = 1000;

/// One unit's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    /// The unit.
    pub unit_id: String,
    /// Its name.
    pub display_name: String,
    /// Tasks it leads.
    pub tasks: i64,
    /// Done on time.
    pub done_on_time: i64,
    /// Done late.
    pub done_late: i64,
    /// Open.
    pub open: i64,
    /// Open and overdue.
    pub overdue: i64,
    /// Reports it owes.
    pub reports_missing: i64,
}

/// An overdue task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueTask {
    /// The task.
    pub task_id: String,
    /// Its title.
    pub title: String,
    /// Its lead unit.
    pub lead_unit_id: String,
    /// Its effective due date.
    pub due: NaiveDate,
    /// Days past it.
    pub days_overdue: i64,
}

/// A plan's progress as of an instant.
#[derive(Debug, Clone)]
pub struct PlanProgress {
    /// The plan.
    pub plan: plans::PlanRow,
    /// The instant.
    pub as_of: DateTime<Utc>,
    /// All tasks.
    pub total: i64,
    /// Tasks per state, in state order, zeros included.
    pub by_state: Vec<(TaskState, i64)>,
    /// Done on time.
    pub on_time_done: i64,
    /// Done late.
    pub late_done: i64,
    /// Open, not late.
    pub open_within_deadline: i64,
    /// Open, late.
    pub open_overdue: i64,
    /// DONE over all, in percent.
    pub completion_rate_percent: f64,
    /// Per lead unit.
    pub units: Vec<UnitRow>,
    /// Per addressed recommendation.
    pub recommendations: Vec<RecommendationView>,
    /// The overdue tasks, most overdue first.
    pub overdue: Vec<OverdueTask>,
    /// The reports owed.
    pub missing: Vec<Missing>,
}

/// Computes a plan's progress (MONITOR, ADMIN, READER).
pub async fn plan_progress(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    as_of: DateTime<Utc>,
) -> Result<PlanProgress, Error> {
    require_role(who, &[Role::Admin, Role::Monitor, Role::Reader], "GetPlanProgress")?;
    let today = local_date(as_of);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let plan = plans::get(&mut tx, &who.tenant, plan_id, false)
        .await?
        .ok_or_else(|| not_found(super::plans::name(plan_id)))?;
    let counts = progress::unit_counts(&mut tx, &who.tenant, plan_id, today).await?;
    let overdue_rows = progress::overdue(&mut tx, &who.tenant, plan_id, today, MAX_OVERDUE).await?;
    let names = progress::addressed_recommendations(&mut tx, &who.tenant, plan_id).await?;
    let recommendations = super::recommendations::views_by_name(&mut tx, &who.tenant, &names).await?;
    let missing = missing_in(&mut tx, &who.tenant, &plan, today).await?;
    store::commit(tx).await?;

    let owed = missing_per_unit(&missing);
    let sum = |f: fn(&progress::UnitCounts) -> i64| counts.iter().map(f).sum::<i64>();
    let total = sum(|c| c.tasks);
    let done = sum(|c| c.done);
    let by_state = vec![
        (TaskState::NotStarted, sum(|c| c.not_started)),
        (TaskState::InProgress, sum(|c| c.in_progress)),
        (TaskState::ReportedDone, sum(|c| c.reported_done)),
        (TaskState::Done, done),
        (TaskState::Suspended, sum(|c| c.suspended)),
        (TaskState::ClosedNotDone, sum(|c| c.closed_not_done)),
    ];
    let mut units: Vec<UnitRow> = counts
        .iter()
        .map(|c| UnitRow {
            unit_id: c.unit_id.clone(),
            display_name: c.display_name.clone(),
            tasks: c.tasks,
            done_on_time: c.on_time_done,
            done_late: c.late_done,
            open: c.tasks - c.done - c.closed_not_done,
            overdue: c.open_overdue,
            reports_missing: i64::from(owed.get(&c.unit_id).copied().unwrap_or(0)),
        })
        .collect();
    // Units that owe reports but lead no task of the plan still get a row.
    for (unit, count) in &owed {
        if !units.iter().any(|u| &u.unit_id == unit) {
            units.push(UnitRow {
                unit_id: unit.clone(),
                display_name: String::new(),
                tasks: 0,
                done_on_time: 0,
                done_late: 0,
                open: 0,
                overdue: 0,
                reports_missing: i64::from(*count),
            });
        }
    }
    let overdue = overdue_rows
        .into_iter()
        .map(|o| OverdueTask {
            days_overdue: (today - o.due).num_days(),
            task_id: o.task_id,
            title: o.title,
            lead_unit_id: o.lead_unit_id,
            due: o.due,
        })
        .collect::<Vec<_>>();
    Ok(PlanProgress {
        plan,
        as_of,
        total,
        by_state,
        on_time_done: sum(|c| c.on_time_done),
        late_done: sum(|c| c.late_done),
        open_within_deadline: sum(|c| c.open_within_deadline),
        open_overdue: sum(|c| c.open_overdue),
        completion_rate_percent: if total > 0 { done as f64 * 100.0 / total as f64 } else { 0.0 },
        units,
        recommendations,
        overdue,
        missing,
    })
}
