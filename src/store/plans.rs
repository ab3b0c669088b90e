//! Plans.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{StoreError, like_pattern};

/// A plan as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PlanRow {
    /// The owning tenant.
    pub tenant_id: String,
    /// The ID.
    pub plan_id: String,
    /// The document reference, NFC.
    pub document_ref: String,
    /// The year the reference is unique in.
    pub document_year: i32,
    /// The issuing unit.
    pub issuing_unit_id: String,
    /// The issue day.
    pub issue_date: NaiveDate,
    /// The title.
    pub title: String,
    /// Objectives.
    pub objectives: String,
    /// Requirements.
    pub requirements: String,
    /// The implemented conclusions' IDs.
    pub conclusion_ids: Vec<String>,
    /// The monitoring unit.
    pub monitoring_unit_id: Option<String>,
    /// The state's storage name.
    pub state: String,
    /// Why it was cancelled.
    pub cancel_reason: String,
    /// Bumped by every change.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last change time.
    pub update_time: DateTime<Utc>,
}

/// What a change to one of the plan's tasks is checked against: whether the plan's state
/// admits it, and which unit monitors it. Read with the task, in the same round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanGate {
    /// The plan's ID.
    pub plan_id: String,
    /// The plan's state, by storage name.
    pub state: String,
    /// The plan's monitoring unit.
    pub monitoring_unit_id: Option<String>,
}

impl PlanRow {
    /// The parts of the plan that gate changes to its tasks.
    pub fn gate(&self) -> PlanGate {
        PlanGate {
            plan_id: self.plan_id.clone(),
            state: self.state.clone(),
            monitoring_unit_id: self.monitoring_unit_id.clone(),
        }
    }
}

const COLUMNS: &str = "tenant_id, plan_id, document_ref, document_year, issuing_unit_id, issue_date, title, objectives, \
    requirements, conclusion_ids, monitoring_unit_id, state, cancel_reason, revision, create_time, update_time";

/// Inserts `row` as a draft.
pub async fn insert(conn: &mut PgConnection, row: &PlanRow, search_text: &str) -> Result<PlanRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "insert into plans (tenant_id, plan_id, document_ref, document_year, issuing_unit_id, issue_date, title,
             objectives, requirements, conclusion_ids, monitoring_unit_id, search_text)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         returning {COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.document_ref)
    .bind(row.document_year)
    .bind(&row.issuing_unit_id)
    .bind(row.issue_date)
    .bind(&row.title)
    .bind(&row.objectives)
    .bind(&row.requirements)
    .bind(&row.conclusion_ids)
    .bind(&row.monitoring_unit_id)
    .bind(search_text)
    .fetch_one(conn)
    .await?)
}

/// Writes every changeable field of `row`, state included, and bumps its revision.
pub async fn update(conn: &mut PgConnection, row: &PlanRow, search_text: &str) -> Result<PlanRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "update plans set document_ref = $3, document_year = $4, issuing_unit_id = $5, issue_date = $6, title = $7,
             objectives = $8, requirements = $9, conclusion_ids = $10, monitoring_unit_id = $11, state = $12,
             cancel_reason = $13, search_text = $14, revision = revision + 1, update_time = now()
         where tenant_id = $1 and plan_id = $2
         returning {COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.plan_id)
    .bind(&row.document_ref)
    .bind(row.document_year)
    .bind(&row.issuing_unit_id)
    .bind(row.issue_date)
    .bind(&row.title)
    .bind(&row.objectives)
    .bind(&row.requirements)
    .bind(&row.conclusion_ids)
    .bind(&row.monitoring_unit_id)
    .bind(&row.state)
    .bind(&row.cancel_reason)
    .bind(search_text)
    .fetch_one(conn)
    .await?)
}

/// The plan `id`; with `lock`, locked until the transaction ends.
pub async fn get(conn: &mut PgConnection, tenant: &str, id: &str, lock: bool) -> Result<Option<PlanRow>, StoreError> {
    let lock = if lock { " for update" } else { "" };
    Ok(sqlx::query_as(&format!("select {COLUMNS} from plans where tenant_id = $1 and plan_id = $2{lock}"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// How many tasks the plan has, and how many of them are open.
pub async fn task_counts(conn: &mut PgConnection, tenant: &str, plan_id: &str) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as(
        "select count(*), count(*) filter (where state not in ('DONE', 'CLOSED_NOT_DONE'))
         from tasks where tenant_id = $1 and plan_id = $2",
    )
    .bind(tenant)
    .bind(plan_id)
    .fetch_one(conn)
    .await?)
}

/// A validated plan filter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PlanQuery {
    /// Only this state's storage name.
    pub state: Option<String>,
    /// Only plans monitored by this unit.
    pub monitoring_unit: Option<String>,
    /// Only plans implementing this conclusion.
    pub conclusion: Option<String>,
    /// Only this reference.
    pub document_ref: Option<String>,
    /// Folded texts that must all occur.
    pub texts: Vec<String>,
}

/// One page in ID order after `after`.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &PlanQuery,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<PlanRow>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from plans where tenant_id = "));
    sql.push_bind(tenant.to_owned());
    if let Some(state) = &query.state {
        sql.push(" and state = ").push_bind(state.clone());
    }
    if let Some(unit) = &query.monitoring_unit {
        sql.push(" and monitoring_unit_id = ").push_bind(unit.clone());
    }
    if let Some(conclusion) = &query.conclusion {
        sql.push(" and conclusion_ids @> array[").push_bind(conclusion.clone()).push("]::text[]");
    }
    if let Some(document_ref) = &query.document_ref {
        sql.push(" and document_ref = ").push_bind(document_ref.clone());
    }
    for text in &query.texts {
        sql.push(" and search_text like ").push_bind(like_pattern(text)).push(r" escape '\'");
    }
    if let Some(after) = after {
        sql.push(" and plan_id > ").push_bind(after.to_owned());
    }
    sql.push(" order by plan_id limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}
