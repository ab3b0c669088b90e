//! The audit trail as an API, for the monitoring side and administrators.

use super::{Services, page, page_position, require_role};
use crate::auth::principal::{Principal, Role};
use crate::domain::page_token::TokenScope;
use crate::error::Error;
use crate::store::{self, audit};

pub use audit::{AuditQuery, AuditRow};

/// One page of audit records, newest first (MONITOR, ADMIN).
pub async fn list(
    svc: &Services,
    who: &Principal,
    query: &AuditQuery,
    scope_filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<AuditRow>, String), Error> {
    require_role(who, &[Role::Admin, Role::Monitor], "ListAuditRecords")?;
    let scope = TokenScope { tenant: &who.tenant, method: "ListAuditRecords", filter: scope_filter };
    let before: Option<i64> = page_position(svc, scope, page_token)?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let rows = audit::list(&mut tx, &who.tenant, query, before, page_size + 1).await?;
    store::commit(tx).await?;
    Ok(page(svc, scope, rows, page_size, |row| row.audit_id))
}
