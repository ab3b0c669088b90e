//! Use cases: each public function is one RPC's work in one transaction, with its
//! authorization, domain checks, audit record and event. No gRPC types here.

pub mod units;

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::principal::{Principal, Role};
use crate::domain::calendar::Clock;
use crate::domain::page_token::PageTokens;
use crate::error::Error;
use crate::store::{Tx, audit, events};

/// What every use case needs: the pool, the clock and the page-token signer.
#[derive(Debug, Clone)]
pub struct Services {
    /// The application pool (sessions run as `followup_app`, under row-level security).
    pub pool: PgPool,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Signs and checks page tokens.
    pub page_tokens: PageTokens,
}

/// A request id with the fingerprint of the request it came with (AIP-155).
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// The caller's request id.
    pub request_id: Uuid,
    /// A hash of the whole request, to tell a retry from a reuse of the id.
    pub fingerprint: Vec<u8>,
}

/// Page sizes (AIP-158): 0 means the default; larger than the maximum is lowered.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// The largest page served.
pub const MAX_PAGE_SIZE: i64 = 500;

/// The page size to use for a requested `page_size`.
pub fn page_size(requested: i32) -> Result<i64, Error> {
    match requested {
        n if n < 0 => Err(Error::invalid("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok(i64::from(n).min(MAX_PAGE_SIZE)),
    }
}

/// Refuses callers whose role is not among `allowed`, before anything is read, so a
/// refused caller learns nothing about what exists.
pub fn require_role(principal: &Principal, allowed: &[Role], action: &str) -> Result<(), Error> {
    if allowed.contains(&principal.role) {
        return Ok(());
    }
    let allowed: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
    Err(Error::PermissionDenied {
        reason: "ROLE_NOT_ALLOWED",
        message: format!(
            "{action} needs a key with role {}; this key has role {}",
            allowed.join(" or "),
            principal.role
        ),
    })
}

/// The etag of a revision. Opaque to callers; a plain number inside.
pub fn etag(revision: i64) -> String {
    format!("r{revision}")
}

/// Checks a caller's etag against the current revision: empty means unconditional.
pub fn check_etag(field: &str, given: &str, current_revision: i64, resource: &str) -> Result<(), Error> {
    if given.is_empty() {
        return Ok(());
    }
    let parsed = given.strip_prefix('r').and_then(|n| n.parse::<i64>().ok());
    match parsed {
        None => Err(Error::invalid(field, "is not an etag this service issued")),
        Some(revision) if revision == current_revision => Ok(()),
        Some(_) => Err(Error::Aborted {
            reason: "ETAG_MISMATCH",
            message: format!(
                "{resource} was changed since you read it (etag {given}, now {}); read it again and retry",
                etag(current_revision)
            ),
        }),
    }
}

/// One audited change: the audit record and the outgoing event that every write leaves in
/// its own transaction.
#[derive(Debug)]
pub struct Change<'a> {
    /// The RPC or command, e.g. `UpdateUnit`.
    pub action: &'a str,
    /// The event type, e.g. `unit.updated`.
    pub event_type: &'a str,
    /// The resource changed.
    pub resource: &'a str,
    /// The caller's request id.
    pub request_id: Option<Uuid>,
    /// Why, when the caller said.
    pub reason: Option<&'a str>,
    /// The resource before; `None` for a creation.
    pub before: Option<serde_json::Value>,
    /// The resource after.
    pub after: Option<serde_json::Value>,
}

/// Writes the audit record and the event of `change` in `tx`.
pub async fn record_change(tx: &mut Tx, who: &Principal, change: Change<'_>) -> Result<(), Error> {
    let payload = serde_json::json!({ "action": change.action });
    audit::record(
        tx,
        audit::AuditEntry {
            tenant: &who.tenant,
            actor: &who.actor(),
            action: change.action,
            resource: change.resource,
            request_id: change.request_id,
            reason: change.reason,
            before: change.before,
            after: change.after,
        },
    )
    .await?;
    events::append(tx, &who.tenant, change.event_type, change.resource, payload).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(7).unwrap(), 7);
        assert_eq!(page_size(100_000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn etags() {
        assert!(check_etag("etag", "", 3, "units/a").is_ok());
        assert!(check_etag("etag", &etag(3), 3, "units/a").is_ok());
        assert!(matches!(check_etag("etag", &etag(2), 3, "units/a"), Err(Error::Aborted { .. })));
        assert!(matches!(check_etag("etag", "garbage", 3, "units/a"), Err(Error::InvalidArgument(_))));
    }
}
