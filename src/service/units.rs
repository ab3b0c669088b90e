//! Unit use cases.

use chrono::NaiveDate;

use super::{
    Idempotency, Services, Write, check_etag, commit_write, page, page_position, replay, require_role, snapshot,
};
use crate::auth::principal::{Principal, Role};
use crate::domain::page_token::TokenScope;
use crate::domain::resource_name;
use crate::domain::text::fold_for_search;
use crate::domain::unit::{UnitKind, check_no_cycle, check_parent_open};
use crate::error::Error;
use crate::store::{self, units};

pub use units::{UnitQuery, UnitRow};

/// The collection in unit resource names.
pub const COLLECTION: &str = "units";

/// Who may change the unit directory.
const WRITERS: &[Role] = &[Role::Admin];

/// A validated new unit.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// The caller's chosen ID, or `None` to generate one.
    pub unit_id: Option<String>,
    /// The name, NFC.
    pub display_name: String,
    /// The code, NFC.
    pub code: String,
    /// The kind.
    pub kind: UnitKind,
    /// The parent's ID.
    pub parent_id: Option<String>,
    /// The first day it exists; `None` for today.
    pub valid_from: Option<NaiveDate>,
}

/// Validated changes to a unit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UnitPatch {
    /// A new name.
    pub display_name: Option<String>,
    /// A new code.
    pub code: Option<String>,
    /// A new kind.
    pub kind: Option<UnitKind>,
    /// A new parent: `Some(None)` makes the unit a root.
    pub parent_id: Option<Option<String>>,
    /// A new first day.
    pub valid_from: Option<NaiveDate>,
}

/// A validated dissolution.
#[derive(Debug, Clone)]
pub struct Dissolution {
    /// The first day the unit no longer exists; `None` for today.
    pub valid_to: Option<NaiveDate>,
    /// The successor's ID.
    pub successor_id: Option<String>,
    /// Why, for the audit trail.
    pub reason: Option<String>,
}

/// The resource name of a unit ID.
pub fn name(unit_id: &str) -> String {
    resource_name::format(COLLECTION, unit_id)
}

fn search_text(display_name: &str, code: &str) -> String {
    fold_for_search(&format!("{display_name} {code}"))
}

/// Creates a unit (ADMIN).
pub async fn create(
    svc: &Services,
    who: &Principal,
    new: NewUnit,
    idem: Option<Idempotency>,
) -> Result<UnitRow, Error> {
    require_role(who, WRITERS, "CreateUnit")?;
    let tenant = who.tenant.as_str();
    let mut tx = store::begin(&svc.pool, tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreateUnit", idem.as_ref()).await? {
        return Ok(replay);
    }
    if let Some(parent_id) = &new.parent_id {
        let parent = units::get(&mut tx, tenant, parent_id, true)
            .await?
            .ok_or_else(|| Error::NotFound { resource: name(parent_id) })?;
        check_parent_open(&name(parent_id), parent.valid_to)
            .map_err(|e| Error::FailedPrecondition { reason: "PARENT_DISSOLVED", message: e.to_string() })?;
    }
    let unit_id = new.unit_id.clone().unwrap_or_else(resource_name::generate_id);
    let row = units::insert(
        &mut tx,
        &units::NewUnit {
            tenant_id: tenant,
            unit_id: &unit_id,
            display_name: &new.display_name,
            code: &new.code,
            kind: new.kind.as_str(),
            parent_id: new.parent_id.as_deref(),
            valid_from: new.valid_from.unwrap_or_else(|| svc.clock.today()),
            search_text: &search_text(&new.display_name, &new.code),
        },
    )
    .await?;
    let resource = name(&row.unit_id);
    let write =
        Write { action: "CreateUnit", event_type: "unit.created", resource: &resource, reason: None, before: None };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// Reads a unit (any role).
pub async fn get(svc: &Services, who: &Principal, unit_id: &str) -> Result<UnitRow, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let row = units::get(&mut tx, &who.tenant, unit_id, false).await?;
    store::commit(tx).await?;
    row.ok_or_else(|| Error::NotFound { resource: name(unit_id) })
}

/// One page of units (any role), and the token of the next page if there is one.
pub async fn list(
    svc: &Services,
    who: &Principal,
    query: &UnitQuery,
    filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<UnitRow>, String), Error> {
    let scope = TokenScope { tenant: &who.tenant, method: "ListUnits", filter };
    let after: Option<String> = page_position(svc, scope, page_token)?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let rows = units::list(&mut tx, &who.tenant, query, after.as_deref(), page_size + 1).await?;
    store::commit(tx).await?;
    Ok(page(svc, scope, rows, page_size, |row| row.unit_id.clone()))
}

/// Changes a unit (ADMIN).
pub async fn update(
    svc: &Services,
    who: &Principal,
    unit_id: &str,
    patch: UnitPatch,
    etag: &str,
) -> Result<UnitRow, Error> {
    require_role(who, WRITERS, "UpdateUnit")?;
    let tenant = who.tenant.as_str();
    let resource = name(unit_id);
    let mut tx = store::begin(&svc.pool, tenant).await?;
    let before = units::get(&mut tx, tenant, unit_id, true)
        .await?
        .ok_or_else(|| Error::NotFound { resource: resource.clone() })?;
    check_etag("unit.etag", etag, before.revision, &resource)?;
    let mut after = before.clone();
    if let Some(display_name) = patch.display_name {
        after.display_name = display_name;
    }
    if let Some(code) = patch.code {
        after.code = code;
    }
    if let Some(kind) = patch.kind {
        after.kind = kind.as_str().to_owned();
    }
    if let Some(valid_from) = patch.valid_from {
        if after.valid_to.is_some_and(|to| to <= valid_from) {
            return Err(Error::invalid("unit.valid_from", "must be before the unit's valid_to"));
        }
        after.valid_from = valid_from;
    }
    if let Some(parent_id) = patch.parent_id
        && parent_id != before.parent_id
    {
        if let Some(parent) = &parent_id {
            let parent_row = units::get(&mut tx, tenant, parent, true)
                .await?
                .ok_or_else(|| Error::NotFound { resource: name(parent) })?;
            check_parent_open(&name(parent), parent_row.valid_to)
                .map_err(|e| Error::FailedPrecondition { reason: "PARENT_DISSOLVED", message: e.to_string() })?;
            let lineage = units::lineage(&mut tx, tenant, parent).await?;
            check_no_cycle(unit_id, parent, &lineage).map_err(|_| Error::FailedPrecondition {
                reason: "UNIT_TREE_CYCLE",
                message: format!(
                    "{} cannot be placed under {}: it is the unit itself or one of its descendants",
                    resource,
                    name(parent)
                ),
            })?;
        }
        after.parent_id = parent_id;
    }
    let row = units::update(&mut tx, &after, &search_text(&after.display_name, &after.code)).await?;
    let write = Write {
        action: "UpdateUnit",
        event_type: "unit.updated",
        resource: &resource,
        reason: None,
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, None, row).await
}

/// Records that a unit ceased to exist (ADMIN).
pub async fn dissolve(
    svc: &Services,
    who: &Principal,
    unit_id: &str,
    dissolution: Dissolution,
    etag: &str,
) -> Result<UnitRow, Error> {
    require_role(who, WRITERS, "DissolveUnit")?;
    let tenant = who.tenant.as_str();
    let resource = name(unit_id);
    let mut tx = store::begin(&svc.pool, tenant).await?;
    let before = units::get(&mut tx, tenant, unit_id, true)
        .await?
        .ok_or_else(|| Error::NotFound { resource: resource.clone() })?;
    check_etag("etag", etag, before.revision, &resource)?;
    if let Some(valid_to) = before.valid_to {
        return Err(Error::FailedPrecondition {
            reason: "UNIT_ALREADY_DISSOLVED",
            message: format!("{resource} is already dissolved (valid until {valid_to})"),
        });
    }
    let valid_to = dissolution.valid_to.unwrap_or_else(|| svc.clock.today());
    if valid_to <= before.valid_from {
        return Err(Error::invalid("valid_to", format!("must be after the unit's valid_from ({})", before.valid_from)));
    }
    if let Some(successor_id) = &dissolution.successor_id {
        if successor_id == unit_id {
            return Err(Error::invalid("successor", "must be another unit"));
        }
        let successor = units::get(&mut tx, tenant, successor_id, true)
            .await?
            .ok_or_else(|| Error::NotFound { resource: name(successor_id) })?;
        if successor.valid_to.is_some() {
            return Err(Error::FailedPrecondition {
                reason: "SUCCESSOR_DISSOLVED",
                message: format!(
                    "the successor {} is itself dissolved; name the unit that exists now",
                    name(successor_id)
                ),
            });
        }
    }
    let mut after = before.clone();
    after.valid_to = Some(valid_to);
    after.successor_id = dissolution.successor_id;
    let row = units::update(&mut tx, &after, &search_text(&after.display_name, &after.code)).await?;
    let write = Write {
        action: "DissolveUnit",
        event_type: "unit.dissolved",
        resource: &resource,
        reason: dissolution.reason.as_deref(),
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, None, row).await
}
