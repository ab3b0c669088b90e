//! API keys: only their hashes are stored.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::StoreError;

/// The channel on which revocations are announced, with `{tenant}.{key_id}` as payload.
pub const REVOCATIONS_CHANNEL: &str = "followup_key_revocations";

/// What the auth layer needs to know about a key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRecord {
    /// SHA-256 of the key's secret.
    pub secret_sha256: Vec<u8>,
    /// The role name.
    pub role: String,
    /// The unit the key is bound to.
    pub unit_id: Option<String>,
    /// When the key was revoked, if it was.
    pub revoke_time: Option<DateTime<Utc>>,
}

/// A key as `followup keys list` shows it: never its secret.
#[derive(Debug, sqlx::FromRow)]
pub struct KeyInfo {
    /// The tenant.
    pub tenant_id: String,
    /// The key's public id.
    pub key_id: String,
    /// The role name.
    pub role: String,
    /// The unit the key is bound to.
    pub unit_id: Option<String>,
    /// What the operator wrote about it.
    pub description: String,
    /// When it was made.
    pub create_time: DateTime<Utc>,
    /// When it was revoked.
    pub revoke_time: Option<DateTime<Utc>>,
}

/// A new key to store.
#[derive(Debug)]
pub struct NewKeyRecord<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The key's public id.
    pub key_id: &'a str,
    /// SHA-256 of the secret.
    pub secret_sha256: &'a [u8],
    /// The role name.
    pub role: &'a str,
    /// The bound unit.
    pub unit_id: Option<&'a str>,
    /// A note for operators.
    pub description: &'a str,
}

/// The key `key_id` of `tenant`, revoked or not.
pub async fn find(conn: &mut PgConnection, tenant: &str, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
    Ok(sqlx::query_as(
        "select secret_sha256, role, unit_id, revoke_time from api_keys where tenant_id = $1 and key_id = $2",
    )
    .bind(tenant)
    .bind(key_id)
    .fetch_optional(conn)
    .await?)
}

/// Stores a new key.
pub async fn insert(conn: &mut PgConnection, key: &NewKeyRecord<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "insert into api_keys (tenant_id, key_id, secret_sha256, role, unit_id, description)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.tenant)
    .bind(key.key_id)
    .bind(key.secret_sha256)
    .bind(key.role)
    .bind(key.unit_id)
    .bind(key.description)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every key, or those of one tenant, oldest first.
pub async fn list(conn: &mut PgConnection, tenant: Option<&str>) -> Result<Vec<KeyInfo>, StoreError> {
    Ok(sqlx::query_as(
        "select tenant_id, key_id, role, unit_id, description, create_time, revoke_time
         from api_keys where $1::text is null or tenant_id = $1
         order by tenant_id, create_time, key_id",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await?)
}

/// Revokes a key and announces it to every running service (delivered when the
/// transaction commits); false when there is no such live key.
pub async fn revoke(conn: &mut PgConnection, tenant: &str, key_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update api_keys set revoke_time = now() where tenant_id = $1 and key_id = $2 and revoke_time is null",
    )
    .bind(tenant)
    .bind(key_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("select pg_notify($1, $2)")
        .bind(REVOCATIONS_CHANNEL)
        .bind(format!("{tenant}.{key_id}"))
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
