//! Authentication: API keys, the caller's principal, and the tower layer that checks the
//! key of every followup RPC before it reaches a handler.

pub mod cache;
pub mod key;
pub mod layer;
pub mod principal;

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::error::Error;
use crate::store;
use crate::store::notifications::Heard;
use key::PresentedKey;
use principal::{Principal, Role};

/// Checks API keys against the database, remembering verified keys for a while.
#[derive(Debug, Clone)]
pub struct Authenticator {
    pool: PgPool,
    cache: Arc<cache::KeyCache>,
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
        Self { pool, cache: Arc::default() }
    }

    /// Forgets revoked keys as their revocations are announced, until `stop` turns true;
    /// after a lost connection it forgets every key, as announcements may have been missed.
    pub async fn follow_revocations(&self, stop: watch::Receiver<bool>) {
        let channel = store::keys::REVOCATIONS_CHANNEL;
        store::notifications::follow(&self.pool, channel, Duration::from_secs(1), stop, |heard| match heard {
            Heard::Message(payload) => {
                if let Some((tenant, key_id)) = payload.split_once('.') {
                    self.cache.forget(tenant, key_id);
                }
            }
            Heard::Listening | Heard::Lost => self.cache.clear(),
        })
        .await;
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
        let record = match self.cache.get(&presented.tenant, &presented.key_id) {
            Some(record) => Some(record),
            None => {
                let generation = self.cache.generation();
                let mut tx = store::begin(&self.pool, &presented.tenant).await?;
                let record = store::keys::find(&mut tx, &presented.tenant, &presented.key_id).await?;
                store::commit(tx).await?;
                // Unknown keys are not remembered: guessing cannot fill the cache.
                if let Some(record) = &record {
                    self.cache.put(generation, &presented.tenant, &presented.key_id, record.clone());
                }
                record
            }
        };
        // The secret is checked on every call, cached or not.
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
