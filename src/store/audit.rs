//! The append-only audit trail.

use serde_json::Value;
use uuid::Uuid;

use sqlx::PgConnection;

use super::StoreError;

/// One audited change.
#[derive(Debug)]
pub struct AuditEntry<'a> {
    /// The tenant the change belongs to.
    pub tenant: &'a str,
    /// Who made it: `keys/{key}` or `cli/{user}`.
    pub actor: &'a str,
    /// What was done: the RPC or command name, e.g. `CreateUnit`.
    pub action: &'a str,
    /// The resource changed.
    pub resource: &'a str,
    /// The caller's request id, when it gave one.
    pub request_id: Option<Uuid>,
    /// Why, when the caller said.
    pub reason: Option<&'a str>,
    /// The resource before the change; `None` for a creation.
    pub before: Option<Value>,
    /// The resource after the change.
    pub after: Option<Value>,
}

/// Appends `entry` in the caller's transaction, so the record exists if and only if the
/// change does.
pub async fn record(conn: &mut PgConnection, entry: AuditEntry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_records (tenant_id, actor, action, resource, request_id, reason, before, after)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.tenant)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.resource)
    .bind(entry.request_id)
    .bind(entry.reason)
    .bind(entry.before)
    .bind(entry.after)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An audit record as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRow {
    /// Its ID, increasing.
    pub audit_id: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub resource: String,
    /// The caller's request id.
    pub request_id: Option<Uuid>,
    /// Why.
    pub reason: Option<String>,
    /// Before.
    pub before: Option<Value>,
    /// After.
    pub after: Option<Value>,
    /// When.
    pub create_time: chrono::DateTime<chrono::Utc>,
}

/// A validated audit filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only resources whose name starts with this.
    pub resource_prefix: String,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// From this instant (inclusive).
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this instant (exclusive).
    pub end_time: Option<chrono::DateTime<chrono::Utc>>,
}

/// One page of audit records, newest first, before `before` when given.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &AuditQuery,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "select audit_id, actor, action, resource, request_id, reason, before, after, create_time
         from audit_records where tenant_id = ",
    );
    sql.push_bind(tenant.to_owned());
    if !query.resource_prefix.is_empty() {
        sql.push(" and resource like ").push_bind(format!("{}%", super::escape_like(&query.resource_prefix)));
        sql.push(r" escape '\'");
    }
    if let Some(actor) = &query.actor {
        sql.push(" and actor = ").push_bind(actor.clone());
    }
    if let Some(action) = &query.action {
        sql.push(" and action = ").push_bind(action.clone());
    }
    if let Some(start) = query.start_time {
        sql.push(" and create_time >= ").push_bind(start);
    }
    if let Some(end) = query.end_time {
        sql.push(" and create_time < ").push_bind(end);
    }
    if let Some(before) = before {
        sql.push(" and audit_id < ").push_bind(before);
    }
    sql.push(" order by audit_id desc limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}
