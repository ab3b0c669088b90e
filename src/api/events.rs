//! `followup.v1.EventService`.

use std::pin::Pin;

use tokio_stream::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::convert::{MAX_RESOURCE_PREFIX, principal, proto_struct, timestamp};
use super::proto::followup::v1 as pb;
use crate::error::Error;
use crate::service::Services;
use crate::service::events::{self, EventQuery, EventRow};

/// The most types one request filters on.
const MAX_TYPES: usize = 50;

/// Serves EventService.
#[derive(Debug, Clone)]
pub struct EventApi {
    services: Services,
}

impl EventApi {
    /// An EventService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn to_proto(row: EventRow) -> pb::Event {
    pb::Event {
        event_id: row.event_id,
        r#type: row.r#type,
        resource: row.resource,
        payload: proto_struct(&row.payload),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// The longest event type a filter may name; real ones are like `task.reported_done`.
const MAX_TYPE: usize = 100;

fn query(after: i64, prefix: &str, types: &[String]) -> Result<EventQuery, Error> {
    if after < 0 {
        return Err(Error::invalid("after_event_id", "must not be negative"));
    }
    if prefix.chars().count() > MAX_RESOURCE_PREFIX {
        return Err(Error::invalid("resource_prefix", format!("must be at most {MAX_RESOURCE_PREFIX} characters")));
    }
    if types.len() > MAX_TYPES {
        return Err(Error::invalid("types", format!("at most {MAX_TYPES} types")));
    }
    if let Some(i) = types.iter().position(|t| t.chars().count() > MAX_TYPE) {
        return Err(Error::invalid(format!("types[{i}]"), format!("must be at most {MAX_TYPE} characters")));
    }
    Ok(EventQuery { resource_prefix: prefix.to_owned(), types: types.to_vec() })
}

/// The stream WatchEvents answers with.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

#[tonic::async_trait]
impl pb::event_service_server::EventService for EventApi {
    type WatchEventsStream = EventStream;

    async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> Result<Response<EventStream>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let query = query(req.after_event_id, &req.resource_prefix, &req.types)?;
        let receiver = events::watch(&self.services, &who, query, req.after_event_id).await?;
        let stream = ReceiverStream::new(receiver).map(|item| item.map(to_proto).map_err(Status::from));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn list_events(
        &self,
        request: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let query = query(req.after_event_id, &req.resource_prefix, &req.types)?;
        let page_size = match req.page_size {
            n if n < 0 => return Err(Error::invalid("page_size", "must not be negative").into()),
            0 => 100,
            n => i64::from(n).min(1000),
        };
        let scope = format!("{}\u{0}{}\u{0}{}", req.after_event_id, req.resource_prefix, req.types.join(","));
        let (rows, next_page_token) =
            events::list(&self.services, &who, &query, req.after_event_id, &scope, page_size, &req.page_token).await?;
        Ok(Response::new(pb::ListEventsResponse { events: rows.into_iter().map(to_proto).collect(), next_page_token }))
    }
}
