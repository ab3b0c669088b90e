//! A plan's consolidated progress (báo cáo tổng hợp): a few aggregate queries, never the
//! tasks loaded one by one.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::recommendations::RecommendationView;
use super::reports::{Missing, missing_in, missing_per_unit};
use super::{Services, not_found, require_role};
use crate::auth::principal::{Principal, Role};
use crate::domain::calendar::local_date;
use crate::domain::task::{TaskState, Timeliness};
use crate::error::Error;
use crate::store::{self, plans, progress};

/// The most overdue tasks listed.
const MAX_OVERDUE: i64 = 1000;

/// One unit's row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// Folds the grouped counts into one row per lead unit.
fn unit_rows(buckets: &[progress::BucketCount]) -> Vec<UnitRow> {
    let mut rows: BTreeMap<&str, UnitRow> = BTreeMap::new();
    for b in buckets {
        let row = rows
            .entry(b.unit_id.as_str())
            .or_insert_with(|| UnitRow { unit_id: b.unit_id.clone(), ..UnitRow::default() });
        row.tasks += b.tasks;
        match progress::bucket_of_code(b.bucket) {
            Some(Timeliness::OnTimeDone) => row.done_on_time += b.tasks,
            Some(Timeliness::LateDone) => row.done_late += b.tasks,
            Some(Timeliness::OpenOverdue) => row.overdue += b.tasks,
            _ => {}
        }
        if TaskState::from_db(&b.state).is_some_and(TaskState::is_open) {
            row.open += b.tasks;
        }
    }
    rows.into_values().collect()
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
    let buckets = progress::bucket_counts(&mut tx, &who.tenant, plan_id, today).await?;
    let overdue_rows = progress::overdue(&mut tx, &who.tenant, plan_id, today, MAX_OVERDUE).await?;
    let recommendations =
        super::recommendations::views_of_conclusions(&mut tx, &who.tenant, &plan.conclusion_ids).await?;
    let mut units = unit_rows(&buckets);
    let open_leads: Vec<String> = units.iter().filter(|u| u.open > 0).map(|u| u.unit_id.clone()).collect();
    let missing = missing_in(&mut tx, &who.tenant, &plan, today, Some(open_leads)).await?;
    let owed = missing_per_unit(&missing);
    for (unit, count) in &owed {
        match units.iter_mut().find(|u| &u.unit_id == unit) {
            Some(row) => row.reports_missing = i64::from(*count),
            // A unit that owes reports but leads no task of the plan still gets a row.
            None => {
                units.push(UnitRow { unit_id: unit.clone(), reports_missing: i64::from(*count), ..UnitRow::default() })
            }
        }
    }
    let ids: Vec<String> = units.iter().map(|u| u.unit_id.clone()).collect();
    let names: BTreeMap<String, String> = progress::unit_names(&mut tx, &who.tenant, &ids).await?.into_iter().collect();
    store::commit(tx).await?;
    for unit in &mut units {
        unit.display_name = names.get(&unit.unit_id).cloned().unwrap_or_default();
    }
    units.sort_by(|a, b| (&a.display_name, &a.unit_id).cmp(&(&b.display_name, &b.unit_id)));

    let count =
        |f: &dyn Fn(&progress::BucketCount) -> bool| buckets.iter().filter(|b| f(b)).map(|b| b.tasks).sum::<i64>();
    let total = count(&|_| true);
    let by_state: Vec<(TaskState, i64)> =
        TaskState::ALL.into_iter().map(|s| (s, count(&|b| b.state == s.as_str()))).collect();
    let done = count(&|b| b.state == TaskState::Done.as_str());
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
        on_time_done: count(&|b| progress::bucket_of_code(b.bucket) == Some(Timeliness::OnTimeDone)),
        late_done: count(&|b| progress::bucket_of_code(b.bucket) == Some(Timeliness::LateDone)),
        open_within_deadline: count(&|b| progress::bucket_of_code(b.bucket) == Some(Timeliness::OpenWithinDeadline)),
        open_overdue: count(&|b| progress::bucket_of_code(b.bucket) == Some(Timeliness::OpenOverdue)),
        completion_rate_percent: if total > 0 { done as f64 * 100.0 / total as f64 } else { 0.0 },
        units,
        recommendations,
        overdue,
        missing,
    })
}
