//! Tenants: the provinces using the service.

use sqlx::PgConnection;

use super::StoreError;

/// Creates a tenant; false if it already exists.
pub async fn create(conn: &mut PgConnection, tenant: &str, display_name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("insert into tenants (tenant_id, display_name) values ($1, $2) on conflict do nothing")
        .bind(tenant)
        .bind(display_name)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    // A new province starts with Vietnam's public holidays.
    sqlx::query("insert into holidays (tenant_id, day, name) select $1, day, name from holiday_seed")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Whether `tenant` exists.
pub async fn exists(conn: &mut PgConnection, tenant: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("select exists (select 1 from tenants where tenant_id = $1)")
        .bind(tenant)
        .fetch_one(conn)
        .await?)
}

/// Every tenant, for the service's background work. The application role sees tenants
/// only through this security-definer function: row-level security hides the table.
pub async fn all(pool: &sqlx::PgPool) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("select followup_tenant_ids()").fetch_all(pool).await?)
}
