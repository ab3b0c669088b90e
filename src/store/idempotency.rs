//! Request ids (AIP-155): the first call with a request id claims it; retries get the
//! stored response.

use serde_json::Value;
use uuid::Uuid;

use sqlx::PgConnection;

use super::StoreError;

/// What claiming a request id found.
#[derive(Debug)]
pub enum Claim {
    /// The id is new: go ahead, then [`complete`] it in the same transaction.
    Fresh,
    /// The id was used before by this request: here is the first response.
    Replay(Value),
    /// The id was used before by a different request.
    Reused,
}

/// Claims `request_id` for a call of `method` whose request hashes to `fingerprint`.
///
/// A concurrent claimer of the same id waits on the unique key until the first
/// transaction ends, then sees its outcome: the stored response if it committed, or a
/// fresh claim if it rolled back. So concurrent retries create exactly one resource.
pub async fn claim(
    conn: &mut PgConnection,
    tenant: &str,
    request_id: Uuid,
    method: &str,
    fingerprint: &[u8],
) -> Result<Claim, StoreError> {
    let inserted = sqlx::query(
        "insert into idempotency_keys (tenant_id, request_id, method, request_sha256)
         values ($1, $2, $3, $4)
         on conflict do nothing",
    )
    .bind(tenant)
    .bind(request_id)
    .bind(method)
    .bind(fingerprint)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (stored_method, stored_fingerprint, response): (String, Vec<u8>, Option<Value>) = sqlx::query_as(
        "select method, request_sha256, response from idempotency_keys
         where tenant_id = $1 and request_id = $2",
    )
    .bind(tenant)
    .bind(request_id)
    .fetch_one(&mut *conn)
    .await?;
    match response {
        Some(response) if stored_method == method && stored_fingerprint == fingerprint => Ok(Claim::Replay(response)),
        _ => Ok(Claim::Reused),
    }
}

/// Stores the response of a fresh claim.
pub async fn complete(
    conn: &mut PgConnection,
    tenant: &str,
    request_id: Uuid,
    response: Value,
) -> Result<(), StoreError> {
    sqlx::query("update idempotency_keys set response = $3 where tenant_id = $1 and request_id = $2")
        .bind(tenant)
        .bind(request_id)
        .bind(response)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
