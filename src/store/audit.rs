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
