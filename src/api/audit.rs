//! `followup.v1.AuditService`.

use tonic::{Request, Response, Status};

use super::convert::{MAX_RESOURCE_PREFIX, Violations, optional_instant, principal, proto_struct, timestamp};
use super::proto::followup::v1 as pb;
use crate::service::audit_trail::{self, AuditQuery, AuditRow};
use crate::service::{self, Services};

/// Serves AuditService.
#[derive(Debug, Clone)]
pub struct AuditApi {
    services: Services,
}

impl AuditApi {
    /// An AuditService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn to_proto(row: AuditRow) -> pb::AuditRecord {
    pb::AuditRecord {
        name: format!("auditRecords/{}", row.audit_id),
        actor: row.actor,
        action: row.action,
        resource: row.resource,
        request_id: row.request_id.map(|r| r.to_string()).unwrap_or_default(),
        reason: row.reason.unwrap_or_default(),
        before: row.before.as_ref().and_then(proto_struct),
        after: row.after.as_ref().and_then(proto_struct),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// The longest actor (a key's ID) or action (an RPC's name) a filter may give.
const MAX_ACTOR: usize = 100;

#[tonic::async_trait]
impl pb::audit_service_server::AuditService for AuditApi {
    async fn list_audit_records(
        &self,
        request: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let page_size = service::page_size(req.page_size)?;
        let mut v = Violations::default();
        for (field, value, max) in [
            ("resource_prefix", &req.resource_prefix, MAX_RESOURCE_PREFIX),
            ("actor", &req.actor, MAX_ACTOR),
            ("action", &req.action, MAX_ACTOR),
        ] {
            if value.chars().count() > max {
                v.add(field, format!("must be at most {max} characters"));
            }
        }
        v.finish()?;
        let query = AuditQuery {
            resource_prefix: req.resource_prefix.clone(),
            actor: Some(req.actor.clone()).filter(|a| !a.is_empty()),
            action: Some(req.action.clone()).filter(|a| !a.is_empty()),
            start_time: optional_instant("start_time", req.start_time.as_ref())?,
            end_time: optional_instant("end_time", req.end_time.as_ref())?,
        };
        let scope = format!(
            "{}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}",
            req.resource_prefix, req.actor, req.action, query.start_time, query.end_time
        );
        let (rows, next_page_token) =
            audit_trail::list(&self.services, &who, &query, &scope, page_size, &req.page_token).await?;
        Ok(Response::new(pb::ListAuditRecordsResponse {
            audit_records: rows.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }
}
