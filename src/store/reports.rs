//! Holidays, reporting schedules, ad-hoc report requests, reports and their versions.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::StoreError;

/// The tenant's holidays in `[from, to]`.
pub async fn holidays_between(
    conn: &mut PgConnection,
    tenant: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, String)>, StoreError> {
    Ok(sqlx::query_as("select day, name from holidays where tenant_id = $1 and day between $2 and $3 order by day")
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_all(conn)
        .await?)
}

/// Adds or renames a holiday.
pub async fn upsert_holiday(
    conn: &mut PgConnection,
    tenant: &str,
    day: NaiveDate,
    name: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into holidays (tenant_id, day, name) values ($1, $2, $3)
         on conflict (tenant_id, day) do update set name = excluded.name",
    )
    .bind(tenant)
    .bind(day)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a holiday; false if there was none.
pub async fn delete_holiday(conn: &mut PgConnection, tenant: &str, day: NaiveDate) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from holidays where tenant_id = $1 and day = $2")
        .bind(tenant)
        .bind(day)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A reporting schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ScheduleRow {
    /// The tenant.
    pub tenant_id: String,
    /// The plan.
    pub plan_id: String,
    /// The ID.
    pub schedule_id: String,
    /// The period kind's storage name.
    pub period_kind: String,
    /// Units that must report; empty: lead units of open tasks.
    pub unit_ids: Vec<String>,
    /// Working days after the cut-off.
    pub deadline_working_days: i32,
    /// The nine-month window's last day (its month and day count).
    pub nine_months_end: Option<NaiveDate>,
    /// Creation time.
    pub create_time: DateTime<Utc>,
}

/// Inserts a schedule.
pub async fn insert_schedule(conn: &mut PgConnection, row: &ScheduleRow) -> Result<ScheduleRow, StoreError> {
    Ok(sqlx::query_as(
        "insert into report_schedules (tenant_id, plan_id, schedule_id, period_kind, unit_ids, deadline_working_days,
             nine_months_end)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning tenant_id, plan_id, schedule_id, period_kind, unit_ids, deadline_working_days, nine_months_end,
             create_time",
    )
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.schedule_id)
    .bind(&row.period_kind)
    .bind(&row.unit_ids)
    .bind(row.deadline_working_days)
    .bind(row.nine_months_end)
    .fetch_one(conn)
    .await?)
}

/// A plan's schedules.
pub async fn schedules(conn: &mut PgConnection, tenant: &str, plan_id: &str) -> Result<Vec<ScheduleRow>, StoreError> {
    Ok(sqlx::query_as(
        "select tenant_id, plan_id, schedule_id, period_kind, unit_ids, deadline_working_days, nine_months_end, create_time
         from report_schedules where tenant_id = $1 and plan_id = $2 order by schedule_id",
    )
    .bind(tenant)
    .bind(plan_id)
    .fetch_all(conn)
    .await?)
}

/// Removes a schedule; false if there was none.
pub async fn delete_schedule(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from report_schedules where tenant_id = $1 and plan_id = $2 and schedule_id = $3")
        .bind(tenant)
        .bind(plan_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// An ad-hoc report request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RequestRow {
    /// The tenant.
    pub tenant_id: String,
    /// The plan.
    pub plan_id: String,
    /// The ID.
    pub request_id: String,
    /// What is asked.
    pub title: String,
    /// Units asked; empty: lead units of open tasks.
    pub unit_ids: Vec<String>,
    /// The deadline.
    pub due_date: NaiveDate,
    /// Urgent rather than thematic.
    pub urgent: bool,
    /// Creation time.
    pub create_time: DateTime<Utc>,
}

const REQUEST_COLUMNS: &str = "tenant_id, plan_id, request_id, title, unit_ids, due_date, urgent, create_time";

/// Inserts an ad-hoc request.
pub async fn insert_request(conn: &mut PgConnection, row: &RequestRow) -> Result<RequestRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "insert into report_requests (tenant_id, plan_id, request_id, title, unit_ids, due_date, urgent)
         values ($1, $2, $3, $4, $5, $6, $7) returning {REQUEST_COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.request_id)
    .bind(&row.title)
    .bind(&row.unit_ids)
    .bind(row.due_date)
    .bind(row.urgent)
    .fetch_one(conn)
    .await?)
}

/// A plan's ad-hoc requests, by due date.
pub async fn requests(conn: &mut PgConnection, tenant: &str, plan_id: &str) -> Result<Vec<RequestRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "select {REQUEST_COLUMNS} from report_requests where tenant_id = $1 and plan_id = $2 order by due_date, request_id"
    ))
    .bind(tenant)
    .bind(plan_id)
    .fetch_all(conn)
    .await?)
}

/// What a report says about one task, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// The task's ID within the plan.
    pub task_id: String,
    /// The new state's storage name, if the item moves the task.
    pub state: Option<String>,
    /// Progress percent.
    pub progress_percent: i32,
    /// What was done.
    pub done: String,
    /// Achieved figures: (recommendation name, measure name, amount).
    pub achieved: Vec<(String, String, i64)>,
    /// Evidence.
    pub evidence: Option<super::tasks::EvidenceRecord>,
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ReportRow {
    /// The tenant.
    pub tenant_id: String,
    /// The plan.
    pub plan_id: String,
    /// The ID.
    pub report_id: String,
    /// The reporting unit.
    pub unit_id: String,
    /// The period key of a periodic report.
    pub period_key: Option<String>,
    /// The ad-hoc request answered.
    pub report_request_id: Option<String>,
    /// The submission deadline.
    pub deadline: NaiveDate,
    /// Its document reference.
    pub document_ref: String,
    /// Summary.
    pub summary: String,
    /// Results.
    pub results: String,
    /// Difficulties.
    pub difficulties: String,
    /// Proposals.
    pub proposals: String,
    /// Items.
    pub items: Json<Vec<ItemRecord>>,
    /// The state's storage name.
    pub state: String,
    /// Submitted late.
    pub late: bool,
    /// Submissions so far.
    pub version: i32,
    /// Last submission.
    pub submit_time: Option<DateTime<Utc>>,
    /// The reviewer's comment.
    pub review_comment: String,
    /// Bumped by every change.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last change.
    pub update_time: DateTime<Utc>,
}

const REPORT_COLUMNS: &str = "tenant_id, plan_id, report_id, unit_id, period_key, report_request_id, deadline, \
    document_ref, summary, results, difficulties, proposals, items, state, late, version, submit_time, review_comment, \
    revision, create_time, update_time";

/// Inserts a draft report.
pub async fn insert_report(conn: &mut PgConnection, row: &ReportRow) -> Result<ReportRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "insert into reports (tenant_id, plan_id, report_id, unit_id, period_key, report_request_id, deadline,
             document_ref, summary, results, difficulties, proposals, items)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         returning {REPORT_COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.report_id)
    .bind(&row.unit_id)
    .bind(&row.period_key)
    .bind(&row.report_request_id)
    .bind(row.deadline)
    .bind(&row.document_ref)
    .bind(&row.summary)
    .bind(&row.results)
    .bind(&row.difficulties)
    .bind(&row.proposals)
    .bind(&row.items)
    .fetch_one(conn)
    .await?)
}

/// Writes every changeable field of a report and bumps its revision.
pub async fn update_report(conn: &mut PgConnection, row: &ReportRow) -> Result<ReportRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "update reports set document_ref = $4, summary = $5, results = $6, difficulties = $7, proposals = $8,
             items = $9, state = $10, late = $11, version = $12, submit_time = $13, review_comment = $14,
             review_time = case when $10 in ('ACCEPTED', 'RETURNED') then now() else review_time end,
             revision = revision + 1, update_time = now()
         where tenant_id = $1 and plan_id = $2 and report_id = $3
         returning {REPORT_COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.report_id)
    .bind(&row.document_ref)
    .bind(&row.summary)
    .bind(&row.results)
    .bind(&row.difficulties)
    .bind(&row.proposals)
    .bind(&row.items)
    .bind(&row.state)
    .bind(row.late)
    .bind(row.version)
    .bind(row.submit_time)
    .bind(&row.review_comment)
    .fetch_one(conn)
    .await?)
}

/// One report; with `lock`, locked until the transaction ends.
pub async fn get_report(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    id: &str,
    lock: bool,
) -> Result<Option<ReportRow>, StoreError> {
    let lock = if lock { " for update" } else { "" };
    Ok(sqlx::query_as(&format!(
        "select {REPORT_COLUMNS} from reports where tenant_id = $1 and plan_id = $2 and report_id = $3{lock}"
    ))
    .bind(tenant)
    .bind(plan_id)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// A validated report filter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// Only this unit's reports (also a UNIT key's view).
    pub unit: Option<String>,
    /// Only this period.
    pub period_key: Option<String>,
    /// Only this state's storage name.
    pub state: Option<String>,
    /// Only late (true) or on-time (false) reports.
    pub late: Option<bool>,
}

/// One page of a plan's reports in ID order.
pub async fn list_reports(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    query: &ReportQuery,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ReportRow>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("select {REPORT_COLUMNS} from reports where tenant_id = "));
    sql.push_bind(tenant.to_owned());
    sql.push(" and plan_id = ").push_bind(plan_id.to_owned());
    if let Some(unit) = &query.unit {
        sql.push(" and unit_id = ").push_bind(unit.clone());
    }
    if let Some(period) = &query.period_key {
        sql.push(" and period_key = ").push_bind(period.clone());
    }
    if let Some(state) = &query.state {
        sql.push(" and state = ").push_bind(state.clone());
    }
    if let Some(late) = query.late {
        sql.push(" and late = ").push_bind(late);
    }
    if let Some(after) = after {
        sql.push(" and report_id > ").push_bind(after.to_owned());
    }
    sql.push(" order by report_id limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// Keeps a submitted version.
pub async fn insert_version(
    conn: &mut PgConnection,
    row: &ReportRow,
    snapshot: serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into report_versions (tenant_id, plan_id, report_id, version, snapshot, late, submit_time)
         values ($1, $2, $3, $4, $5, $6, coalesce($7, now()))",
    )
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.report_id)
    .bind(row.version)
    .bind(snapshot)
    .bind(row.late)
    .bind(row.submit_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every submitted version of a report, oldest first.
pub async fn versions(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    id: &str,
) -> Result<Vec<(i32, Json<ReportRow>, bool, DateTime<Utc>)>, StoreError> {
    Ok(sqlx::query_as(
        "select version, snapshot, late, submit_time from report_versions
         where tenant_id = $1 and plan_id = $2 and report_id = $3 order by version",
    )
    .bind(tenant)
    .bind(plan_id)
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// Who has reported what on a plan: (unit, period key or `#request`) of submitted or
/// accepted reports.
pub async fn delivered(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "select unit_id, coalesce(period_key, '#' || report_request_id) from reports
         where tenant_id = $1 and plan_id = $2 and state in ('SUBMITTED', 'ACCEPTED')",
    )
    .bind(tenant)
    .bind(plan_id)
    .fetch_all(conn)
    .await?)
}
