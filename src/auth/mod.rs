//! Authentication: API keys, the caller's principal, and the tower layer that checks the
//! key of every followup RPC before it reaches a handler.

pub mod key;
pub mod layer;
pub mod principal;

use http::HeaderMap;
use sqlx::PgPool;

use crate::error::Error;
use crate::store;
use key::PresentedKey;
use principal::{Principal, Role};

/// Checks API keys against the database.
#[derive(Debug, Clone)]
pub struct Authenticator {
    pool: PgPool,
}

fn invalid_key() -> Error {
    Error::Unauthenticated {
        reason: "API_KEY_INVALID",
        message: "the API key is not valid; check it was copied whole, or ask your administrator for a new one".into(),
    }
}

impl Authenticator {
    /// Checks keys in the database behind `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The principal of the key in `headers`' `authorization: Bearer` header.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, Error> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Err(Error::Unauthenticated {
                reason: "API_KEY_MISSING",
                message: "this RPC needs an API key: send the header 'authorization: Bearer <key>'".into(),
            });
        };
        let text = value.to_str().map_err(|_| invalid_key())?;
        let token = text.strip_prefix("Bearer ").or_else(|| text.strip_prefix("bearer ")).ok_or_else(|| {
            Error::Unauthenticated {
                reason: "API_KEY_MISSING",
                message: "the authorization header must have the form 'Bearer <key>'".into(),
            }
        })?;
        let presented = PresentedKey::parse(token.trim()).ok_or_else(invalid_key)?;
        let mut tx = store::begin(&self.pool, &presented.tenant).await?;
        let record = store::keys::find(&mut tx, &presented.tenant, &presented.key_id).await?;
        store::commit(tx).await?;
        let record = record.filter(|r| presented.matches(&r.secret_sha256)).ok_or_else(invalid_key)?;
        if record.revoke_time.is_some() {
            return Err(Error::Unauthenticated {
                reason: "API_KEY_REVOKED",
                message: "the API key was revoked; ask your administrator for a new one".into(),
            });
        }
        let role = Role::parse(&record.role)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown role {:?} stored", record.role)))?;
        Ok(Principal { tenant: presented.tenant, key_id: presented.key_id, role, unit: record.unit_id })
    }
}
