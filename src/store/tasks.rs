//! Tasks and their deadline extensions.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::plans::PlanGate;
use super::{StoreError, like_pattern};
use crate::domain::task::Timeliness;

/// Evidence as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// A document reference.
    pub document_ref: String,
    /// What was done.
    pub description: String,
    /// Where to fetch it.
    pub link: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Achieved figures: recommendation name → measure name → amount.
pub type Achieved = BTreeMap<String, BTreeMap<String, i64>>;

/// A task as stored, with its latest deadline extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TaskRow {
    /// The owning tenant.
    pub tenant_id: String,
    /// The plan's ID.
    pub plan_id: String,
    /// The ID within the plan.
    pub task_id: String,
    /// The title.
    pub title: String,
    /// Details.
    pub description: String,
    /// The lead unit.
    pub lead_unit_id: String,
    /// Coordinating units.
    pub coordinating_unit_ids: Vec<String>,
    /// Addressed recommendations, by name.
    pub recommendations: Vec<String>,
    /// The due date; `None` for standing work.
    pub due_date: Option<NaiveDate>,
    /// Standing work.
    pub standing: bool,
    /// The state's storage name.
    pub state: String,
    /// The state a suspended task returns to.
    pub resume_state: Option<String>,
    /// Since when it is suspended.
    pub suspended_since: Option<DateTime<Utc>>,
    /// Whole days spent suspended so far.
    pub suspended_days: i32,
    /// When it was reported done.
    pub completed_time: Option<DateTime<Utc>>,
    /// The day (in Vietnam) it was reported done.
    pub completed_date: Option<NaiveDate>,
    /// The last evidence.
    pub evidence: Option<Json<EvidenceRecord>>,
    /// Achieved figures.
    pub achieved: Json<Achieved>,
    /// The last review, suspension or closure reason.
    pub state_reason: String,
    /// Progress in percent, from the last report.
    pub progress_percent: i32,
    /// What was done, from the last report.
    pub progress_note: String,
    /// Bumped by every change.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last change time.
    pub update_time: DateTime<Utc>,
    /// The latest extension's state, if any.
    #[sqlx(default)]
    pub ext_state: Option<String>,
    /// Its requested date.
    #[sqlx(default)]
    pub ext_requested_due_date: Option<NaiveDate>,
    /// Its reason.
    #[sqlx(default)]
    pub ext_reason: Option<String>,
    /// Its decided date.
    #[sqlx(default)]
    pub ext_decided_due_date: Option<NaiveDate>,
    /// Its decision comment.
    #[sqlx(default)]
    pub ext_decision_comment: Option<String>,
    /// When it was asked.
    #[sqlx(default)]
    pub ext_request_time: Option<DateTime<Utc>>,
    /// When it was decided.
    #[sqlx(default)]
    pub ext_decide_time: Option<DateTime<Utc>>,
}

/// A task with its latest extension (the view of migration 0007); `t` names it, so
/// filters read as they would on the table.
const SELECT: &str = "select t.* from task_views t";

/// Inserts a task (state NOT_STARTED).
pub async fn insert(conn: &mut PgConnection, row: &TaskRow, search_text: &str) -> Result<(), StoreError> {
    sqlx::query(
        "insert into tasks (tenant_id, plan_id, task_id, title, description, lead_unit_id, coordinating_unit_ids,
             recommendations, due_date, standing, search_text)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.task_id)
    .bind(&row.title)
    .bind(&row.description)
    .bind(&row.lead_unit_id)
    .bind(&row.coordinating_unit_ids)
    .bind(&row.recommendations)
    .bind(row.due_date)
    .bind(row.standing)
    .bind(search_text)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every changeable field of `row` and bumps its revision; returns the row as
/// stored now (its extension is untouched).
pub async fn update(conn: &mut PgConnection, row: &TaskRow, search_text: &str) -> Result<TaskRow, StoreError> {
    let (revision, update_time) = sqlx::query_as(
        "update tasks set title = $4, description = $5, lead_unit_id = $6, coordinating_unit_ids = $7,
             recommendations = $8, due_date = $9, standing = $10, state = $11, resume_state = $12,
             suspended_since = $13, suspended_days = $14, completed_time = $15, evidence = $16, achieved = $17,
             state_reason = $18, search_text = $19, progress_percent = $20, progress_note = $21, completed_date = $22,
             revision = revision + 1, update_time = now()
         where tenant_id = $1 and plan_id = $2 and task_id = $3
         returning revision, update_time",
    )
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.task_id)
    .bind(&row.title)
    .bind(&row.description)
    .bind(&row.lead_unit_id)
    .bind(&row.coordinating_unit_ids)
    .bind(&row.recommendations)
    .bind(row.due_date)
    .bind(row.standing)
    .bind(&row.state)
    .bind(&row.resume_state)
    .bind(row.suspended_since)
    .bind(row.suspended_days)
    .bind(row.completed_time)
    .bind(&row.evidence)
    .bind(&row.achieved)
    .bind(&row.state_reason)
    .bind(search_text)
    .bind(row.progress_percent)
    .bind(&row.progress_note)
    .bind(row.completed_date)
    .fetch_one(conn)
    .await?;
    Ok(TaskRow { revision, update_time, ..row.clone() })
}

/// One task; with `lock`, the task row is locked until the transaction ends. On a
/// connection outside a transaction it is one round trip that scopes itself to `tenant`.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    task_id: &str,
    lock: bool,
) -> Result<Option<TaskRow>, StoreError> {
    Ok(sqlx::query_as("select * from followup_task($1, $2, $3, $4)")
        .bind(tenant)
        .bind(plan_id)
        .bind(task_id)
        .bind(lock)
        .fetch_optional(conn)
        .await?)
}

/// One task, locked until the transaction ends, and its plan's gate, in one statement: the
/// read every task change starts with. The plan is read, not locked, as it would be alone.
pub async fn lock_with_plan(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    task_id: &str,
) -> Result<Option<(PlanGate, TaskRow)>, StoreError> {
    let found: Option<TaskInPlan> = sqlx::query_as(
        "select t.*, p.state as plan_state, p.monitoring_unit_id as plan_monitoring_unit_id
         from followup_task($1, $2, $3, true) t
         join plans p on p.tenant_id = t.tenant_id and p.plan_id = t.plan_id",
    )
    .bind(tenant)
    .bind(plan_id)
    .bind(task_id)
    .fetch_optional(conn)
    .await?;
    Ok(found.map(|found| {
        let gate = PlanGate {
            plan_id: found.task.plan_id.clone(),
            state: found.plan_state,
            monitoring_unit_id: found.plan_monitoring_unit_id,
        };
        (gate, found.task)
    }))
}

/// A task row with its plan's gate, as [`lock_with_plan`] reads it.
#[derive(sqlx::FromRow)]
struct TaskInPlan {
    #[sqlx(flatten)]
    task: TaskRow,
    plan_state: String,
    plan_monitoring_unit_id: Option<String>,
}

/// Records a request for a later deadline.
pub async fn insert_extension(
    conn: &mut PgConnection,
    row: &TaskRow,
    requested: NaiveDate,
    reason: &str,
    requested_by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into deadline_extensions (tenant_id, plan_id, task_id, requested_due_date, reason, requested_by)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.task_id)
    .bind(requested)
    .bind(reason)
    .bind(requested_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Decides the pending extension of a task; false if none is pending.
pub async fn decide_extension(
    conn: &mut PgConnection,
    row: &TaskRow,
    approved: Option<NaiveDate>,
    comment: &str,
    decided_by: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update deadline_extensions set state = $4, decided_due_date = $5, decision_comment = $6, decided_by = $7,
             decide_time = now()
         where tenant_id = $1 and plan_id = $2 and task_id = $3 and state = 'PENDING'",
    )
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.task_id)
    .bind(if approved.is_some() { "APPROVED" } else { "REJECTED" })
    .bind(approved)
    .bind(comment)
    .bind(decided_by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How a task list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskOrder {
    /// Earliest effective due date first, standing tasks last.
    #[default]
    DueDate,
    /// Most recently changed first.
    UpdateTimeDesc,
}

/// Where a page of tasks resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskCursor {
    /// After this effective due date (None: standing), plan and task.
    Due(Option<NaiveDate>, String, String),
    /// Before this update time, plan and task.
    Updated(DateTime<Utc>, String, String),
}

/// A comparison on the effective due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOp {
    /// `=`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl DateOp {
    fn sql(self) -> &'static str {
        match self {
            DateOp::Eq => " = ",
            DateOp::Lt => " < ",
            DateOp::Le => " <= ",
            DateOp::Gt => " > ",
            DateOp::Ge => " >= ",
        }
    }
}

/// A validated task filter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    /// Only this plan's tasks (`None`: every plan).
    pub plan: Option<String>,
    /// Only tasks this unit leads or coordinates (a UNIT key's view).
    pub visible_to_unit: Option<String>,
    /// Only tasks led by this unit.
    pub lead_unit: Option<String>,
    /// Only tasks coordinated by this unit.
    pub coordinating_unit: Option<String>,
    /// Only this state's storage name.
    pub state: Option<String>,
    /// Only standing (true) or dated (false) tasks.
    pub standing: Option<bool>,
    /// Only tasks addressing this recommendation name.
    pub recommendation: Option<String>,
    /// Effective due date comparisons.
    pub due: Vec<(DateOp, NaiveDate)>,
    /// Only tasks in this timeliness bucket.
    pub timeliness: Option<Timeliness>,
    /// Folded texts that must all occur.
    pub texts: Vec<String>,
}

/// The Vietnamese calendar day of the completion, as timeliness counts it (stored with
/// the completion time).
pub(crate) const LOCAL_COMPLETED: &str = "t.completed_date";
/// The effective due date: the due date moved by the days spent suspended.
pub(crate) const EFFECTIVE_DUE: &str = "(t.due_date + t.suspended_days)";

/// Appends the SQL expression of a task's timeliness bucket (its storage name): the same
/// rule as [`crate::domain::task::timeliness`], which an integration test holds them to.
/// `t` is the tasks relation; `due_soon_days` 0 means no DUE_SOON.
pub(crate) fn push_timeliness_case(sql: &mut QueryBuilder<'_, Postgres>, today: NaiveDate, due_soon_days: i32) {
    let late_completion = format!("t.due_date is not null and {LOCAL_COMPLETED} > {EFFECTIVE_DUE}");
    sql.push(format!(
        "(case when t.state = 'CLOSED_NOT_DONE' then {na} \
         when t.state = 'DONE' then case when {late_completion} then {late} else {on_time} end \
         when t.state = 'REPORTED_DONE' then case when {late_completion} then {overdue} else {within} end \
         when t.state = 'SUSPENDED' or t.due_date is null then {within} \
         when {EFFECTIVE_DUE} < ",
        na = bucket_code(Timeliness::NotApplicable),
        late = bucket_code(Timeliness::LateDone),
        on_time = bucket_code(Timeliness::OnTimeDone),
        overdue = bucket_code(Timeliness::OpenOverdue),
        within = bucket_code(Timeliness::OpenWithinDeadline),
    ));
    sql.push_bind(today);
    sql.push(format!(" then {} when ", bucket_code(Timeliness::OpenOverdue)));
    sql.push_bind(due_soon_days);
    sql.push(format!(" > 0 and {EFFECTIVE_DUE} - "));
    sql.push_bind(today);
    sql.push(" <= ");
    sql.push_bind(due_soon_days);
    sql.push(format!(
        " then {} else {} end)::smallint",
        bucket_code(Timeliness::DueSoon),
        bucket_code(Timeliness::OpenWithinDeadline)
    ));
}

/// The small integer a bucket is computed as in SQL: integers group and compare faster
/// than text over a plan's thousands of tasks.
pub(crate) fn bucket_code(bucket: Timeliness) -> i16 {
    match bucket {
        Timeliness::NotApplicable => 0,
        Timeliness::OnTimeDone => 1,
        Timeliness::LateDone => 2,
        Timeliness::OpenWithinDeadline => 3,
        Timeliness::OpenOverdue => 4,
        Timeliness::DueSoon => 5,
    }
}

/// The bucket of a code from [`bucket_code`].
pub fn bucket_of_code(code: i16) -> Option<Timeliness> {
    [
        Timeliness::NotApplicable,
        Timeliness::OnTimeDone,
        Timeliness::LateDone,
        Timeliness::OpenWithinDeadline,
        Timeliness::OpenOverdue,
        Timeliness::DueSoon,
    ]
    .into_iter()
    .find(|b| bucket_code(*b) == code)
}

/// Appends the condition that a task is in `bucket`. DUE_SOON tasks are also
/// OPEN_WITHIN_DEADLINE: due soon is a part of being within the deadline.
fn push_timeliness(sql: &mut QueryBuilder<'_, Postgres>, bucket: Timeliness, today: NaiveDate, due_soon_days: i32) {
    sql.push(" and ");
    push_timeliness_case(sql, today, due_soon_days);
    if bucket == Timeliness::OpenWithinDeadline {
        sql.push(format!(
            " in ({}, {})",
            bucket_code(Timeliness::OpenWithinDeadline),
            bucket_code(Timeliness::DueSoon)
        ));
    } else {
        sql.push(format!(" = {}", bucket_code(bucket)));
    }
}

/// One page of tasks.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &TaskQuery,
    today: NaiveDate,
    due_soon_days: i32,
    order: TaskOrder,
    after: Option<&TaskCursor>,
    limit: i64,
) -> Result<Vec<TaskRow>, StoreError> {
    let mut sql = list_query("", tenant, query, today, due_soon_days, order, after, limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the first page [`list`] reads for `query`, for the
/// benchmark to show which indexes the plan uses.
pub async fn explain_list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &TaskQuery,
    today: NaiveDate,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let prefix = "explain (analyze, buffers, costs off) ";
    let mut sql = list_query(prefix, tenant, query, today, 0, TaskOrder::DueDate, None, limit);
    Ok(sql.build_query_scalar().fetch_all(conn).await?)
}

#[allow(clippy::too_many_arguments)]
fn list_query(
    prefix: &str,
    tenant: &str,
    query: &TaskQuery,
    today: NaiveDate,
    due_soon_days: i32,
    order: TaskOrder,
    after: Option<&TaskCursor>,
    limit: i64,
) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("{prefix}{SELECT} where t.tenant_id = "));
    sql.push_bind(tenant.to_owned());
    if let Some(plan) = &query.plan {
        sql.push(" and t.plan_id = ").push_bind(plan.clone());
    }
    if let Some(unit) = &query.visible_to_unit {
        sql.push(" and (t.lead_unit_id = ").push_bind(unit.clone());
        sql.push(" or t.coordinating_unit_ids @> array[").push_bind(unit.clone()).push("]::text[])");
    }
    if let Some(unit) = &query.lead_unit {
        sql.push(" and t.lead_unit_id = ").push_bind(unit.clone());
    }
    if let Some(unit) = &query.coordinating_unit {
        sql.push(" and t.coordinating_unit_ids @> array[").push_bind(unit.clone()).push("]::text[]");
    }
    if let Some(state) = &query.state {
        sql.push(" and t.state = ").push_bind(state.clone());
    }
    if let Some(standing) = query.standing {
        sql.push(" and t.standing = ").push_bind(standing);
    }
    if let Some(recommendation) = &query.recommendation {
        sql.push(" and t.recommendations @> array[").push_bind(recommendation.clone()).push("]::text[]");
    }
    for (op, day) in &query.due {
        sql.push(format!(" and {EFFECTIVE_DUE}{}", op.sql())).push_bind(*day);
    }
    if let Some(bucket) = query.timeliness {
        push_timeliness(&mut sql, bucket, today, due_soon_days);
    }
    for text in &query.texts {
        sql.push(" and t.search_text like ").push_bind(like_pattern(text)).push(r" escape '\'");
    }
    match (order, after) {
        (_, Some(TaskCursor::Due(Some(due), plan, task))) => {
            sql.push(format!(" and ({EFFECTIVE_DUE} > ")).push_bind(*due);
            sql.push(format!(" or t.due_date is null or ({EFFECTIVE_DUE} = ")).push_bind(*due);
            sql.push(" and (t.plan_id, t.task_id) > (")
                .push_bind(plan.clone())
                .push(", ")
                .push_bind(task.clone())
                .push(")))");
        }
        (_, Some(TaskCursor::Due(None, plan, task))) => {
            sql.push(" and t.due_date is null and (t.plan_id, t.task_id) > (");
            sql.push_bind(plan.clone()).push(", ").push_bind(task.clone()).push(")");
        }
        (_, Some(TaskCursor::Updated(time, plan, task))) => {
            sql.push(" and (t.update_time, t.plan_id, t.task_id) < (").push_bind(*time);
            sql.push(", ").push_bind(plan.clone()).push(", ").push_bind(task.clone()).push(")");
        }
        (_, None) => {}
    }
    match order {
        TaskOrder::DueDate => {
            sql.push(format!(" order by {EFFECTIVE_DUE} asc nulls last, t.plan_id, t.task_id limit "))
        }
        TaskOrder::UpdateTimeDesc => sql.push(" order by t.update_time desc, t.plan_id desc, t.task_id desc limit "),
    };
    sql.push_bind(limit);
    sql
}

/// The open tasks led by `unit`, across all plans: the work a dissolved unit leaves.
pub async fn open_led_by(
    conn: &mut PgConnection,
    tenant: &str,
    unit: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "select plan_id, task_id from tasks
         where tenant_id = $1 and lead_unit_id = $2 and state not in ('DONE', 'CLOSED_NOT_DONE')
         order by plan_id, task_id",
    )
    .bind(tenant)
    .bind(unit)
    .fetch_all(conn)
    .await?)
}
