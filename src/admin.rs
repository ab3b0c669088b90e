//! Operators' tasks: tenants and API keys. They run on the owner's connection (not under
//! row-level security), because they manage tenants from outside any one of them; each
//! change is still audited, with the operator as actor.

use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::auth::key;
use crate::auth::principal::Role;
use crate::domain::resource_name;
use crate::store::{self, audit, keys, tenants};

/// The actor the audit trail records for command-line operations.
pub fn cli_actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    format!("cli/{user}")
}

/// Creates a tenant; false if it already exists.
pub async fn create_tenant(conn: &mut PgConnection, tenant: &str, display_name: &str) -> anyhow::Result<bool> {
    resource_name::validate_id(tenant).map_err(|e| anyhow::anyhow!("tenant {e}"))?;
    let mut tx = conn.begin().await?;
    let created = tenants::create(&mut tx, tenant, display_name).await?;
    if created {
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant,
                actor: &cli_actor(),
                action: "CreateTenant",
                resource: &format!("tenants/{tenant}"),
                request_id: None,
                reason: None,
                before: None,
                after: Some(json!({ "tenant_id": tenant, "display_name": display_name })),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(created)
}

/// A key just made: its text is shown once and never again.
#[derive(Debug)]
pub struct IssuedKey {
    /// The key's public id.
    pub key_id: String,
    /// The full key to hand over.
    pub text: String,
}

/// Makes a key of `role` for `tenant`, bound to `unit` (an ID or `units/{id}`) when given.
pub async fn create_key(
    conn: &mut PgConnection,
    tenant: &str,
    role: Role,
    unit: Option<&str>,
    description: &str,
) -> anyhow::Result<IssuedKey> {
    if role == Role::Unit && unit.is_none() {
        anyhow::bail!("a UNIT key must be bound to a unit: add --unit units/<id>");
    }
    let unit_id = unit.map(|u| u.strip_prefix("units/").unwrap_or(u));
    let mut tx = conn.begin().await?;
    if !tenants::exists(&mut tx, tenant).await? {
        anyhow::bail!("tenant {tenant} does not exist; create it with `followup tenants create {tenant}`");
    }
    if let Some(unit_id) = unit_id
        && store::units::get(&mut tx, tenant, unit_id, false).await?.is_none()
    {
        anyhow::bail!("unit units/{unit_id} does not exist in tenant {tenant}");
    }
    let new = key::generate(tenant);
    keys::insert(
        &mut tx,
        &keys::NewKeyRecord {
            tenant,
            key_id: &new.key_id,
            secret_sha256: &new.secret_hash,
            role: role.as_str(),
            unit_id,
            description,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        audit::AuditEntry {
            tenant,
            actor: &cli_actor(),
            action: "CreateKey",
            resource: &format!("keys/{}", new.key_id),
            request_id: None,
            reason: None,
            before: None,
            after: Some(json!({ "role": role.as_str(), "unit_id": unit_id, "description": description })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedKey { key_id: new.key_id, text: new.text })
}

/// Revokes a key; false if there is no such live key.
pub async fn revoke_key(conn: &mut PgConnection, tenant: &str, key_id: &str) -> anyhow::Result<bool> {
    let mut tx = conn.begin().await?;
    let revoked = keys::revoke(&mut tx, tenant, key_id).await?;
    if revoked {
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant,
                actor: &cli_actor(),
                action: "RevokeKey",
                resource: &format!("keys/{key_id}"),
                request_id: None,
                reason: None,
                before: None,
                after: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// Every key (never a secret), or those of one tenant.
pub async fn list_keys(conn: &mut PgConnection, tenant: Option<&str>) -> Result<Vec<keys::KeyInfo>, store::StoreError> {
    keys::list(conn, tenant).await
}
