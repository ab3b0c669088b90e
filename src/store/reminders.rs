//! Reminder rules and reminders.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::StoreError;
use crate::domain::reminder::ReminderRules;

#[derive(sqlx::FromRow)]
struct RulesRow {
    days_before: i32,
    on_due_day: bool,
    overdue_every_days: i32,
    escalate_after_days: i32,
    escalate_to_parent: bool,
    report_days_before: i32,
    remind_missing_reports: bool,
}

impl From<RulesRow> for ReminderRules {
    fn from(r: RulesRow) -> Self {
        ReminderRules {
            days_before: r.days_before,
            on_due_day: r.on_due_day,
            overdue_every_days: r.overdue_every_days,
            escalate_after_days: r.escalate_after_days,
            escalate_to_parent: r.escalate_to_parent,
            report_days_before: r.report_days_before,
            remind_missing_reports: r.remind_missing_reports,
        }
    }
}

/// The stored rules of `plan_id` ('' for the province's default), if any.
pub async fn rules(conn: &mut PgConnection, tenant: &str, plan_id: &str) -> Result<Option<ReminderRules>, StoreError> {
    let row: Option<RulesRow> = sqlx::query_as(
        "select days_before, on_due_day, overdue_every_days, escalate_after_days, escalate_to_parent,
             report_days_before, remind_missing_reports
         from reminder_rules where tenant_id = $1 and plan_id = $2",
    )
    .bind(tenant)
    .bind(plan_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// Stores the rules of `plan_id` ('' for the province's default).
pub async fn set_rules(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    r: &ReminderRules,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into reminder_rules (tenant_id, plan_id, days_before, on_due_day, overdue_every_days,
             escalate_after_days, escalate_to_parent, report_days_before, remind_missing_reports)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (tenant_id, plan_id) do update set days_before = excluded.days_before,
             on_due_day = excluded.on_due_day, overdue_every_days = excluded.overdue_every_days,
             escalate_after_days = excluded.escalate_after_days, escalate_to_parent = excluded.escalate_to_parent,
             report_days_before = excluded.report_days_before,
             remind_missing_reports = excluded.remind_missing_reports, update_time = now()",
    )
    .bind(tenant)
    .bind(plan_id)
    .bind(r.days_before)
    .bind(r.on_due_day)
    .bind(r.overdue_every_days)
    .bind(r.escalate_after_days)
    .bind(r.escalate_to_parent)
    .bind(r.report_days_before)
    .bind(r.remind_missing_reports)
    .execute(conn)
    .await?;
    Ok(())
}

/// A reminder as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ReminderRow {
    /// The tenant.
    pub tenant_id: String,
    /// The ID.
    pub reminder_id: String,
    /// The plan it is about.
    pub plan_id: String,
    /// The addressed unit.
    pub unit_id: String,
    /// AUTOMATIC, MANUAL or ESCALATION.
    pub kind: String,
    /// The rule that made it (`MANUAL` for manual ones).
    pub rule: String,
    /// What it is about: a task or report resource name.
    pub subject: String,
    /// The occurrence key.
    pub occurrence: String,
    /// The tasks it is about.
    pub task_names: Vec<String>,
    /// The formal letter's reference, if any.
    pub document_ref: String,
    /// The message.
    pub message: String,
    /// OPEN or ACKNOWLEDGED.
    pub state: String,
    /// Who sent it: `system` or `keys/{key}`.
    pub sender: String,
    /// When it was acknowledged.
    pub acknowledge_time: Option<DateTime<Utc>>,
    /// When it was sent.
    pub create_time: DateTime<Utc>,
}

const COLUMNS: &str = "tenant_id, reminder_id, plan_id, unit_id, kind, rule, subject, occurrence, task_names, \
    document_ref, message, state, sender, acknowledge_time, create_time";

/// Inserts a reminder unless the same (subject, rule, occurrence, addressee) exists:
/// `None` then.
pub async fn insert(conn: &mut PgConnection, row: &ReminderRow) -> Result<Option<ReminderRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "insert into reminders (tenant_id, reminder_id, plan_id, unit_id, kind, rule, subject, occurrence, task_names,
             document_ref, message, sender)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict do nothing
         returning {COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.reminder_id)
    .bind(&row.plan_id)
    .bind(&row.unit_id)
    .bind(&row.kind)
    .bind(&row.rule)
    .bind(&row.subject)
    .bind(&row.occurrence)
    .bind(&row.task_names)
    .bind(&row.document_ref)
    .bind(&row.message)
    .bind(&row.sender)
    .fetch_optional(conn)
    .await?)
}

/// One reminder; with `lock`, locked until the transaction ends.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &str,
    id: &str,
    lock: bool,
) -> Result<Option<ReminderRow>, StoreError> {
    let lock = if lock { " for update" } else { "" };
    Ok(sqlx::query_as(&format!("select {COLUMNS} from reminders where tenant_id = $1 and reminder_id = $2{lock}"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Marks a reminder acknowledged.
pub async fn acknowledge(conn: &mut PgConnection, tenant: &str, id: &str) -> Result<ReminderRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "update reminders set state = 'ACKNOWLEDGED', acknowledge_time = now()
         where tenant_id = $1 and reminder_id = $2 returning {COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// A validated reminder filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderQuery {
    /// Only this plan's.
    pub plan: Option<String>,
    /// Only those addressed to this unit.
    pub unit: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
}

/// One page of reminders in ID order.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &ReminderQuery,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ReminderRow>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from reminders where tenant_id = "));
    sql.push_bind(tenant.to_owned());
    if let Some(plan) = &query.plan {
        sql.push(" and plan_id = ").push_bind(plan.clone());
    }
    if let Some(unit) = &query.unit {
        sql.push(" and unit_id = ").push_bind(unit.clone());
    }
    if let Some(state) = &query.state {
        sql.push(" and state = ").push_bind(state.clone());
    }
    if let Some(kind) = &query.kind {
        sql.push(" and kind = ").push_bind(kind.clone());
    }
    if let Some(after) = after {
        sql.push(" and reminder_id > ").push_bind(after.to_owned());
    }
    sql.push(" order by reminder_id limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// An open, dated task of an issued plan, with what reminders need.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenTask {
    /// The plan.
    pub plan_id: String,
    /// The task.
    pub task_id: String,
    /// Its lead unit.
    pub lead_unit_id: String,
    /// The lead unit's parent.
    pub parent_id: Option<String>,
    /// Its effective due date.
    pub due: NaiveDate,
    /// The plan's monitoring unit.
    pub monitoring_unit_id: Option<String>,
}

/// Open (NOT_STARTED, IN_PROGRESS), dated tasks of issued plans due by `until`.
pub async fn open_tasks_due_by(
    conn: &mut PgConnection,
    tenant: &str,
    until: NaiveDate,
) -> Result<Vec<OpenTask>, StoreError> {
    Ok(sqlx::query_as(
        "select t.plan_id, t.task_id, t.lead_unit_id, u.parent_id, t.due_date + t.suspended_days as due,
             p.monitoring_unit_id
         from tasks t
         join plans p on p.tenant_id = t.tenant_id and p.plan_id = t.plan_id
         join units u on u.tenant_id = t.tenant_id and u.unit_id = t.lead_unit_id
         where t.tenant_id = $1 and p.state = 'ISSUED' and t.state in ('NOT_STARTED', 'IN_PROGRESS')
           and t.due_date is not null and t.due_date + t.suspended_days <= $2
         order by t.plan_id, t.task_id",
    )
    .bind(tenant)
    .bind(until)
    .fetch_all(conn)
    .await?)
}

/// Tries to take the tenant's reminder lock for this transaction: false when another
/// replica is computing the same tenant's reminders right now.
pub async fn try_lock(conn: &mut PgConnection, tenant: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtext('followup.reminders:' || $1))")
        .bind(tenant)
        .fetch_one(conn)
        .await?)
}
