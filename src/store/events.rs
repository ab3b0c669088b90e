//! The transactional outbox: every change appends an event in its own transaction, so
//! portals that follow the stream learn of exactly the changes that committed.

use serde_json::Value;

use sqlx::PgConnection;

use super::StoreError;

/// Appends an event of `event_type` about `resource`.
pub async fn append(
    conn: &mut PgConnection,
    tenant: &str,
    event_type: &str,
    resource: &str,
    payload: Value,
) -> Result<(), StoreError> {
    sqlx::query("insert into events (tenant_id, type, resource, payload) values ($1, $2, $3, $4)")
        .bind(tenant)
        .bind(event_type)
        .bind(resource)
        .bind(payload)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
