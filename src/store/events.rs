//! The transactional outbox: every change appends an event in its own transaction, so
//! portals that follow the stream learn of exactly the changes that committed.
//!
//! Event IDs are per tenant and given in commit order: the tenant's counter row is
//! bumped in the writing transaction and stays locked until it commits.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::StoreError;

/// The channel PostgreSQL notifies on when a tenant's events commit; the payload is the
/// tenant ID.
pub const CHANNEL: &str = "followup_events";

/// Appends an event of `event_type` about `resource`, and wakes the watchers at commit.
pub async fn append(
    conn: &mut PgConnection,
    tenant: &str,
    event_type: &str,
    resource: &str,
    payload: Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "with next as (
             insert into event_counters (tenant_id, last_event_id) values ($1, 1)
             on conflict (tenant_id) do update set last_event_id = event_counters.last_event_id + 1
             returning last_event_id
         )
         insert into events (tenant_id, event_id, type, resource, payload)
         select $1, last_event_id, $2, $3, $4 from next
         -- The watchers' wake-up, delivered only if and when the transaction commits.
         cross join lateral (select pg_notify($5, $1)) notified",
    )
    .bind(tenant)
    .bind(event_type)
    .bind(resource)
    .bind(payload)
    .bind(CHANNEL)
    .execute(conn)
    .await?;
    Ok(())
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    /// Its ID, monotonic per tenant.
    pub event_id: i64,
    /// Its type, e.g. `task.accepted`.
    pub r#type: String,
    /// The resource it is about.
    pub resource: String,
    /// A compact payload.
    pub payload: Value,
    /// When it was written.
    pub create_time: DateTime<Utc>,
}

/// What events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only resources whose name starts with this.
    pub resource_prefix: String,
    /// Only these types (all when empty).
    pub types: Vec<String>,
}

/// Up to `limit` events after `after`, in ID order.
pub async fn after(
    conn: &mut PgConnection,
    tenant: &str,
    query: &EventQuery,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "select event_id, type, resource, payload, create_time from events where tenant_id = ",
    );
    sql.push_bind(tenant.to_owned());
    sql.push(" and event_id > ").push_bind(after);
    if !query.resource_prefix.is_empty() {
        sql.push(" and resource like ").push_bind(format!("{}%", super::escape_like(&query.resource_prefix)));
        sql.push(r" escape '\'");
    }
    if !query.types.is_empty() {
        sql.push(" and type = any(").push_bind(query.types.clone()).push(")");
    }
    sql.push(" order by event_id limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// The last event ID given and the last one purged, for the caller's tenant.
pub async fn bounds(conn: &mut PgConnection, tenant: &str) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as("select last_event_id, purged_through from event_counters where tenant_id = $1")
        .bind(tenant)
        .fetch_optional(conn)
        .await?
        .unwrap_or((0, 0)))
}

/// Deletes the tenant's events older than `before`, remembering the last ID purged.
pub async fn purge(conn: &mut PgConnection, tenant: &str, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let purged: (i64, Option<i64>) = sqlx::query_as(
        "with gone as (delete from events where tenant_id = $1 and create_time < $2 returning event_id)
         select count(*), max(event_id) from gone",
    )
    .bind(tenant)
    .bind(before)
    .fetch_one(&mut *conn)
    .await?;
    if let (count, Some(last)) = purged {
        sqlx::query("update event_counters set purged_through = greatest(purged_through, $2) where tenant_id = $1")
            .bind(tenant)
            .bind(last)
            .execute(conn)
            .await?;
        return Ok(count as u64);
    }
    Ok(0)
}
