//! The aggregate queries behind a plan's consolidated progress: a few grouped scans of
//! the plan's tasks, never the tasks loaded one by one.

use chrono::NaiveDate;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::StoreError;
use super::tasks::{EFFECTIVE_DUE, push_timeliness_case};

pub use super::tasks::bucket_of_code;

/// How many of a plan's tasks a unit leads in one state and timeliness bucket.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BucketCount {
    /// The lead unit.
    pub unit_id: String,
    /// The state's storage name.
    pub state: String,
    /// The bucket's code (see `bucket_code`; no DUE_SOON: it is within the deadline here).
    pub bucket: i16,
    /// How many tasks.
    pub tasks: i64,
}

/// The plan's tasks counted by lead unit, state and timeliness bucket as of `today`:
/// one scan, the bucket computed once per task (grouping by the expression, rather than
/// filtering aggregates on it, which would evaluate it once per aggregate).
pub async fn bucket_counts(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    today: NaiveDate,
) -> Result<Vec<BucketCount>, StoreError> {
    let mut sql = bucket_counts_query("", tenant, plan_id, today);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of [`bucket_counts`]'s query, for the benchmark's output.
pub async fn explain_bucket_counts(
    conn: &mut PgConnection,
    tenant: &str,
    plan_id: &str,
    today: NaiveDate,
) -> Result<Vec<String>, StoreError> {
    let mut sql = bucket_counts_query("explain (analyze, buffers, costs off) ", tenant, plan_id, today);
    Ok(sql.build_query_scalar().fetch_all(conn).await?)
}

fn bucket_counts_query(prefix: &str, tenant: &str, plan_id: &str, today: NaiveDate) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("{prefix}select t.lead_unit_id as unit_id, t.state, "));
    push_timeliness_case(&mut sql, today, 0);
    sql.push(" as bucket, count(*) as tasks from tasks t where t.tenant_id = ").push_bind(tenant.to_owned());
    sql.push(" and t.plan_id = ").push_bind(plan_id.to_owned());
    sql.push(" group by 1, 2, 3");
    sql
}

/// The names of units, by ID.
pub async fn unit_names(
    conn: &mut PgConnection,
    tenant: &str,
    unit_ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as("select unit_id, display_name from units where tenant_id = $1 and unit_id = any($2)")
        .bind(tenant)
        .bind(unit_ids)
        .fetch_all(conn)
        .await?)
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
    // OPEN_OVERDUE written out as plain predicates rather than through the bucket
    // expression: then PostgreSQL can walk the (plan, effective due) index from the
    // oldest deadline and stop at the limit, instead of testing every task of the plan.
    // The progress test holds this list to the bucket counts.
    sql.push(format!(
        " and t.due_date is not null and ((t.state in ('NOT_STARTED', 'IN_PROGRESS') and {EFFECTIVE_DUE} < "
    ));
    sql.push_bind(today);
    sql.push(format!(") or (t.state = 'REPORTED_DONE' and t.completed_date > {EFFECTIVE_DUE}))"));
    sql.push(format!(" order by {EFFECTIVE_DUE}, t.task_id limit ")).push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
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
