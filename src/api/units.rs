//! `followup.v1.UnitService`.

use tonic::{Request, Response, Status};

use super::convert::{Violations, chosen_id, date, date_to_proto, idempotency, optional_id, principal, timestamp};
use super::filter_terms::FilterTerms;
use super::proto::followup::v1 as pb;
use crate::domain::filter;
use crate::domain::resource_name;
use crate::domain::text;
use crate::domain::unit::{MAX_DISPLAY_NAME_CHARS, UnitKind, parse_code};
use crate::error::Error;
use crate::service::{self, Services, etag, units};

/// The longest dissolution reason kept.
const MAX_REASON_CHARS: usize = 2000;

/// Serves UnitService over the service layer.
#[derive(Debug, Clone)]
pub struct UnitApi {
    services: Services,
}

impl UnitApi {
    /// A UnitService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn kind_from_proto(value: i32) -> Result<UnitKind, String> {
    match pb::UnitKind::try_from(value) {
        Ok(pb::UnitKind::Unspecified) => Err("is required".into()),
        Ok(pb::UnitKind::PeoplesCommittee) => Ok(UnitKind::PeoplesCommittee),
        Ok(pb::UnitKind::Department) => Ok(UnitKind::Department),
        Ok(pb::UnitKind::Agency) => Ok(UnitKind::Agency),
        Ok(pb::UnitKind::Commune) => Ok(UnitKind::Commune),
        Ok(pb::UnitKind::Inspectorate) => Ok(UnitKind::Inspectorate),
        Ok(pb::UnitKind::Other) => Ok(UnitKind::Other),
        Err(_) => Err(format!("{value} is not a UnitKind value")),
    }
}

fn kind_to_proto(kind: UnitKind) -> pb::UnitKind {
    match kind {
        UnitKind::PeoplesCommittee => pb::UnitKind::PeoplesCommittee,
        UnitKind::Department => pb::UnitKind::Department,
        UnitKind::Agency => pb::UnitKind::Agency,
        UnitKind::Commune => pb::UnitKind::Commune,
        UnitKind::Inspectorate => pb::UnitKind::Inspectorate,
        UnitKind::Other => pb::UnitKind::Other,
    }
}

fn to_proto(row: units::UnitRow) -> pb::Unit {
    pb::Unit {
        name: units::name(&row.unit_id),
        display_name: row.display_name,
        code: row.code,
        kind: UnitKind::from_db(&row.kind).map(kind_to_proto).unwrap_or_default() as i32,
        parent: row.parent_id.as_deref().map(units::name).unwrap_or_default(),
        valid_from: Some(date_to_proto(row.valid_from)),
        valid_to: row.valid_to.map(date_to_proto),
        successor: row.successor_id.as_deref().map(units::name).unwrap_or_default(),
        etag: etag(row.revision),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// A unit reference such as `parent`: empty is `None`.
fn optional_unit(name: &str) -> Result<Option<String>, resource_name::NameError> {
    optional_id(units::COLLECTION, name)
}

fn unit_name(field: &str, name: &str) -> Result<String, Error> {
    resource_name::parse(units::COLLECTION, name).map_err(|e| Error::invalid(field, e))
}

fn display_name(input: &str) -> Result<String, text::TextError> {
    text::single_line(input, MAX_DISPLAY_NAME_CHARS, true)
}

/// Translates a ListUnits filter (see the proto) into a query.
fn unit_query(filter: &str) -> Result<units::UnitQuery, Error> {
    let mut query = units::UnitQuery::default();
    let mut terms = FilterTerms::parse(filter)?;
    query.texts = terms.texts();
    while let Some(term) = terms.next_comparison() {
        match term.field.as_str() {
            "parent" => {
                let parent =
                    optional_unit(&term.string_eq()?).map_err(|e| Error::invalid("filter", format!("parent {e}")))?;
                query.parent = Some(parent);
            }
            "kind" => {
                let kind = term.enum_eq("UnitKind", |name| {
                    pb::UnitKind::from_str_name(name).and_then(|k| kind_from_proto(k as i32).ok())
                })?;
                query.kind = Some(kind.as_str().to_owned());
            }
            "code" => query.code = Some(text::normalize(&term.string_eq()?)),
            "active_on" => {
                let (op, day) = term.date()?;
                if op != filter::Op::Eq {
                    return Err(Error::invalid(
                        "filter",
                        "active_on takes = and a date, e.g. active_on = \"2025-07-01\"",
                    ));
                }
                query.active_on = Some(day);
            }
            _ => return Err(term.unknown(&["parent", "kind", "code", "active_on"])),
        }
    }
    Ok(query)
}

#[tonic::async_trait]
impl pb::unit_service_server::UnitService for UnitApi {
    async fn create_unit(&self, request: Request<pb::CreateUnitRequest>) -> Result<Response<pb::Unit>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let unit_id = v.check("unit_id", chosen_id(&req.unit_id)).flatten();
        let Some(unit) = req.unit else {
            return Err(Error::invalid("unit", "is required").into());
        };
        let display_name = v.check("unit.display_name", display_name(&unit.display_name));
        let code = v.check("unit.code", parse_code(&unit.code));
        let kind = v.check("unit.kind", kind_from_proto(unit.kind));
        let parent_id = v.check("unit.parent", optional_unit(&unit.parent));
        let valid_from = v.check("unit.valid_from", date(unit.valid_from.as_ref()));
        let new = v.finish_with((|| {
            Some(units::NewUnit {
                unit_id,
                display_name: display_name?,
                code: code?,
                kind: kind?,
                parent_id: parent_id?,
                valid_from: valid_from?,
            })
        })())?;
        let row = units::create(&self.services, &who, new, idem).await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn get_unit(&self, request: Request<pb::GetUnitRequest>) -> Result<Response<pb::Unit>, Status> {
        let who = principal(&request)?;
        let unit_id = unit_name("name", &request.get_ref().name)?;
        let row = units::get(&self.services, &who, &unit_id).await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn list_units(
        &self,
        request: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let page_size = service::page_size(req.page_size)?;
        let query = unit_query(&req.filter)?;
        let (rows, next_page_token) =
            units::list(&self.services, &who, &query, &req.filter, page_size, &req.page_token).await?;
        Ok(Response::new(pb::ListUnitsResponse { units: rows.into_iter().map(to_proto).collect(), next_page_token }))
    }

    async fn update_unit(&self, request: Request<pb::UpdateUnitRequest>) -> Result<Response<pb::Unit>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let Some(unit) = req.unit else {
            return Err(Error::invalid("unit", "is required").into());
        };
        let unit_id = unit_name("unit.name", &unit.name)?;
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(
                Error::invalid("update_mask", "is required: name the fields to change, e.g. display_name").into()
            );
        }
        let mut v = Violations::default();
        let mut patch = units::UnitPatch::default();
        for path in &paths {
            match path.as_str() {
                "display_name" => patch.display_name = v.check("unit.display_name", display_name(&unit.display_name)),
                "code" => patch.code = v.check("unit.code", parse_code(&unit.code)),
                "kind" => patch.kind = v.check("unit.kind", kind_from_proto(unit.kind)),
                "parent" => patch.parent_id = v.check("unit.parent", optional_unit(&unit.parent)),
                "valid_from" => match v.check("unit.valid_from", date(unit.valid_from.as_ref())) {
                    Some(Some(day)) => patch.valid_from = Some(day),
                    Some(None) => v.add("unit.valid_from", "is required when named in update_mask"),
                    None => {}
                },
                other => v.add(
                    "update_mask",
                    format!("{other:?} cannot be updated; allowed: display_name, code, kind, parent, valid_from"),
                ),
            }
        }
        v.finish()?;
        let row = units::update(&self.services, &who, &unit_id, patch, &unit.etag).await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn dissolve_unit(&self, request: Request<pb::DissolveUnitRequest>) -> Result<Response<pb::Unit>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let unit_id = v.check("name", resource_name::parse(units::COLLECTION, &req.name));
        let valid_to = v.check("valid_to", date(req.valid_to.as_ref()));
        let successor_id = v.check("successor", optional_unit(&req.successor));
        let reason = v.check("reason", text::multi_line(&req.reason, MAX_REASON_CHARS, false));
        let (unit_id, dissolution) = v.finish_with((|| {
            let reason = Some(reason?).filter(|r| !r.is_empty());
            Some((unit_id?, units::Dissolution { valid_to: valid_to?, successor_id: successor_id?, reason }))
        })())?;
        let row = units::dissolve(&self.services, &who, &unit_id, dissolution, &req.etag).await?;
        Ok(Response::new(to_proto(row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_translate_to_queries() {
        let q = unit_query(
            r#"parent = "units/ubnd" AND kind = UNIT_KIND_DEPARTMENT AND "Sở  NỘI vụ" AND active_on = "2025-07-01""#,
        )
        .unwrap();
        assert_eq!(q.parent, Some(Some("ubnd".into())));
        assert_eq!(q.kind.as_deref(), Some("DEPARTMENT"));
        assert_eq!(q.texts, vec!["so noi vu".to_owned()]);
        assert_eq!(q.active_on, chrono::NaiveDate::from_ymd_opt(2025, 7, 1));
        assert_eq!(unit_query(r#"parent = """#).unwrap().parent, Some(None));
    }

    #[test]
    fn filters_reject_unknown_fields_and_values() {
        for bad in [
            "colour = RED",
            "kind = PURPLE",
            "kind = UNIT_KIND_UNSPECIFIED",
            r#"kind = "UNIT_KIND_DEPARTMENT""#,
            "kind != UNIT_KIND_DEPARTMENT",
            r#"active_on = "yesterday""#,
            r#"parent = "plans/x""#,
        ] {
            assert!(matches!(unit_query(bad), Err(Error::InvalidArgument(_))), "{bad}");
        }
    }
}
