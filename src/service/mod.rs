//! Use cases: each public function is one RPC's work in one transaction, with its
//! authorization, domain checks, audit record and event. No gRPC types here.

pub mod audit_trail;
pub mod conclusions;
pub mod events;
pub mod holidays;
pub mod plans;
pub mod progress;
pub mod recommendations;
pub mod refs;
pub mod reminders;
pub mod reports;
pub mod schedules;
pub mod tasks;
pub mod units;

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::principal::{Principal, Role};
use crate::domain::calendar::Clock;
use crate::domain::page_token::{PageTokens, TokenScope};
use crate::error::Error;
use crate::store::{Tx, audit, idempotency};

/// What every use case needs: the pool, the clock and the page-token signer.
#[derive(Debug, Clone)]
pub struct Services {
    /// The application pool (sessions run as `followup_app`, under row-level security).
    pub pool: PgPool,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Signs and checks page tokens.
    pub page_tokens: PageTokens,
    /// Wakes event watchers when events commit.
    pub events: events::EventHub,
}

impl Services {
    /// Opens the application pool on `database` and reads the shared page-token secret.
    pub async fn connect(
        database: &sqlx::postgres::PgConnectOptions,
        pool: crate::db::PoolSettings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let pool = crate::db::app_pool(database, pool);
        let mut conn = pool.acquire().await?;
        let secret = crate::store::secrets::page_token_secret(&mut conn).await?;
        drop(conn);
        Ok(Self { pool, clock, page_tokens: PageTokens::new(secret), events: events::EventHub::default() })
    }
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

/// The position a page token resumes after, or `None` for the first page.
pub fn page_position<P: serde::de::DeserializeOwned>(
    svc: &Services,
    scope: TokenScope<'_>,
    token: &str,
) -> Result<Option<P>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    let position = svc.page_tokens.decode(scope, token).map_err(|e| Error::invalid("page_token", e))?;
    // The MAC held, so the position is ours: failing to read it would be our bug.
    serde_json::from_str(&position).map(Some).map_err(|e| Error::Internal(e.into()))
}

/// Cuts `rows` (fetched with one row more than `size`) to a page, and the token of the
/// next page: empty exactly when no row follows, so the last page has no token.
pub fn page<T, P: serde::Serialize>(
    svc: &Services,
    scope: TokenScope<'_>,
    mut rows: Vec<T>,
    size: i64,
    position: impl Fn(&T) -> P,
) -> (Vec<T>, String) {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if rows.len() <= size {
        return (rows, String::new());
    }
    rows.truncate(size);
    let token = rows
        .last()
        .map(|last| svc.page_tokens.encode(scope, &serde_json::to_string(&position(last)).unwrap_or_default()))
        .unwrap_or_default();
    (rows, token)
}

/// The unit filter a list runs with: a UNIT key's lists are narrowed to its own unit.
/// `None` when a UNIT key asked for another unit's, whose answer is an empty page.
pub fn own_unit_filter(who: &Principal, asked: Option<String>) -> Option<Option<String>> {
    if who.role != Role::Unit {
        return Some(asked);
    }
    match (asked, &who.unit) {
        (Some(asked), Some(own)) if &asked != own => None,
        _ => Some(Some(who.unit.clone().unwrap_or_default())),
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

/// Claims `idem`'s request id for `method` in `tx`: `Some` is the stored first response
/// of an earlier call with the same id, to return as it is; `None` means go ahead, then
/// [`remember`] the response in the same transaction.
pub async fn replay<T: serde::de::DeserializeOwned>(
    tx: &mut Tx,
    who: &Principal,
    method: &str,
    idem: Option<&Idempotency>,
) -> Result<Option<T>, Error> {
    let Some(idem) = idem else { return Ok(None) };
    match idempotency::claim(tx, &who.tenant, idem.request_id, method, &idem.fingerprint).await? {
        idempotency::Claim::Fresh => Ok(None),
        idempotency::Claim::Replay(response) => {
            serde_json::from_value(response).map(Some).map_err(|e| Error::Internal(e.into()))
        }
        idempotency::Claim::Reused => {
            Err(Error::invalid("request_id", "was already used for a different request; use a new UUID"))
        }
    }
}

/// Stores the response of a call whose request id [`replay`] claimed.
pub async fn remember<T: serde::Serialize>(
    tx: &mut Tx,
    who: &Principal,
    idem: Option<&Idempotency>,
    response: &T,
) -> Result<(), Error> {
    if let Some(idem) = idem {
        idempotency::complete(tx, &who.tenant, idem.request_id, snapshot(response)).await?;
    }
    Ok(())
}

/// A row as JSON for the audit trail and stored responses. Rows of plain columns always
/// serialize; null would only hide a bug in the trail.
pub fn snapshot<T: serde::Serialize>(row: &T) -> serde_json::Value {
    serde_json::to_value(row).unwrap_or(serde_json::Value::Null)
}

/// The error for a resource the caller's tenant does not have.
pub fn not_found(resource: impl Into<String>) -> Error {
    Error::NotFound { resource: resource.into() }
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

/// What a write did, for its audit record and event; the rest comes from the call.
#[derive(Debug)]
pub struct Write<'a> {
    /// The RPC or command, e.g. `UpdateUnit`.
    pub action: &'a str,
    /// The event type, e.g. `unit.updated`.
    pub event_type: &'a str,
    /// The resource changed.
    pub resource: &'a str,
    /// Why, when the caller said.
    pub reason: Option<&'a str>,
    /// The resource before (a [`snapshot`]); `None` for a creation.
    pub before: Option<serde_json::Value>,
}

/// Ends a write: its audit record and event, the stored response of its request id, and
/// the commit, all in the one transaction. Returns `response`.
pub async fn commit_write<T: serde::Serialize>(
    mut tx: Tx,
    who: &Principal,
    write: Write<'_>,
    idem: Option<&Idempotency>,
    response: T,
) -> Result<T, Error> {
    let change = Change {
        action: write.action,
        event_type: write.event_type,
        resource: write.resource,
        request_id: idem.map(|i| i.request_id),
        reason: write.reason,
        before: write.before,
        after: Some(snapshot(&response)),
    };
    record_change(&mut tx, who, change).await?;
    remember(&mut tx, who, idem, &response).await?;
    crate::store::commit(tx).await?;
    Ok(response)
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
    crate::store::events::append(tx, &who.tenant, change.event_type, change.resource, payload).await?;
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
