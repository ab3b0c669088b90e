//! Service-wide secrets, shared by all replicas through the database.

use sqlx::PgConnection;

use super::StoreError;

/// The secret that signs page tokens. The first migration creates it from PostgreSQL's
/// strong random source; every replica reads the same row, so a token from one replica is
/// valid at another.
pub async fn page_token_secret(conn: &mut PgConnection) -> Result<Vec<u8>, StoreError> {
    Ok(sqlx::query_scalar("select value from service_secrets where name = 'page_token'").fetch_one(conn).await?)
}
