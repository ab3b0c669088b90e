//! The aggregate queries behind a plan's consolidated progress: a few grouped scans of
//! the plan's tasks, never the tasks loaded one by one.

use chrono::NaiveDate;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::StoreError;
use super::tasks::{EFFECTIVE_DUE, push_timeliness_case};

/// One lead unit's counts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnitCounts {
    /// The unit.
    pub unit_id: String,
    /// Its name.
    pub display_name: String,
    /// Tasks it leads.
    pub tasks: i64,
    /// Done on time.
    pub on_time_done: i64,
    /// Done late.
    pub late_done: i64,
    /// Open and not late (due soon included).
    pub open_within_deadline: i64,
    /// Open and late.
    pub open_overdue: i64,
    /// NOT_STARTED tasks.
    pub not_started: i64,
    /// IN_PROGRESS tasks.
    pub in_progress: i64,
    /// REPORTED_DONE tasks.
    pub reported_done: i64,
    /// DONE tasks.
    pub done: i64,
    /// SUSPENDED tasks.
    pub suspended: i64,
    /// CLOSED_NOT_DONE tasks.
    pub closed_not_done: i64,
}

/// Per lead unit of the plan: task counts by state and by timeliness as of `today`.
pub async fn unit_counts(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    today: NaiveDate,
) -> Result<Vec<UnitCounts>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "select x.lead_unit_id as unit_id, u.display_name, count(*) as tasks,
        count(*) filter (where x.bucket = 'ON_TIME_DONE') as on_time_done,
        count(*) filter (where x.bucket = 'LATE_DONE') as late_done,
        count(*) filter (where x.bucket = 'OPEN_WITHIN_DEADLINE') as open_within_deadline,
        count(*) filter (where x.bucket = 'OPEN_OVERDUE') as open_overdue,
        count(*) filter (where x.state = 'NOT_STARTED') as not_started,
        count(*) filter (where x.state = 'IN_PROGRESS') as in_progress,
        count(*) filter (where x.state = 'REPORTED_DONE') as reported_done,
        count(*) filter (where x.state = 'DONE') as done,
        count(*) filter (where x.state = 'SUSPENDED') as suspended,
        count(*) filter (where x.state = 'CLOSED_NOT_DONE') as closed_not_done
      from (select t.lead_unit_id, t.state, ",
    );
    push_timeliness_case(&mut sql, today, 0);
    sql.push(" as bucket from tasks t where t.tenant_id = ").push_bind(tenant.to_owned());
    sql.push(" and t.plan_id = ").push_bind(plan_id.to_owned());
    sql.push(") x join units u on u.tenant_id = ").push_bind(tenant.to_owned());
    sql.push(" and u.unit_id = x.lead_unit_id group by x.lead_unit_id, u.display_name order by u.display_name, x.lead_unit_id");
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// An overdue task of the plan.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OverdueRow {
    /// The task.
    pub task_id: String,
    /// Its title.
    pub title: String,
    /// Its lead unit.
    pub lead_unit_id: String,
    /// Its effective due date.
    pub due: NaiveDate,
}

/// The plan's overdue tasks as of `today`, most overdue first, at most `limit`.
pub async fn overdue(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    today: NaiveDate,
    limit: i64,
) -> Result<Vec<OverdueRow>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "select t.task_id, t.title, t.lead_unit_id, {EFFECTIVE_DUE} as due from tasks t where t.tenant_id = "
    ));
    sql.push_bind(tenant.to_owned());
    sql.push(" and t.plan_id = ").push_bind(plan_id.to_owned());
    sql.push(" and ");
    push_timeliness_case(&mut sql, today, 0);
    sql.push(format!(" = 'OPEN_OVERDUE' order by {EFFECTIVE_DUE}, t.task_id limit ")).push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// The recommendations the plan's tasks address, by name.
pub async fn addressed_recommendations(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "select distinct r from tasks t cross join lateral unnest(t.recommendations) as r
         where t.tenant_id = $1 and t.plan_id = $2 order by r",
    )
    .bind(tenant)
    .bind(plan_id)
    .fetch_all(conn)
    .await?)
}

/// The lead units of the plan's open tasks: who must report when a schedule names none.
pub async fn open_lead_units(conn: &mut PgConnection, tenant: &str, plan_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "select distinct lead_unit_id from tasks
         where tenant_id = $1 and plan_id = $2 and state not in ('DONE', 'CLOSED_NOT_DONE') order by lead_unit_id",
    )
    .bind(tenant)
    .bind(plan_id)
    .fetch_all(conn)
    .await?)
}
