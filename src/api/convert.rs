//! Conversions shared by the RPCs: dates, times, request ids, the caller, and collecting
//! every bad field of a request before answering.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use tonic::{Request, Status};
use uuid::Uuid;

use super::proto::google::r#type::Date;
use crate::auth::principal::Principal;
use crate::domain::resource_name::{self, NameError};
use crate::domain::{Violation, text};
use crate::error::Error;
use crate::service::Idempotency;

/// Collects field violations so one answer names every bad field, not just the first.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// The value of `result`, or `None` after noting its violation against `field`.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(Violation::new(field, error));
                None
            }
        }
    }

    /// Notes a violation.
    pub fn add(&mut self, field: &str, description: impl std::fmt::Display) {
        self.0.push(Violation::new(field, description));
    }

    /// The violations noted, to re-file under another field path.
    pub fn into_violations(self) -> Vec<Violation> {
        self.0
    }

    /// `Ok` when nothing was noted.
    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(self.0)) }
    }

    /// The value built from the checked fields when nothing was noted. `value` is `None`
    /// exactly when some check failed, so a `None` with no violation is a bug in the caller.
    pub fn finish_with<T>(self, value: Option<T>) -> Result<T, Error> {
        self.finish()?;
        value.ok_or_else(|| Error::Internal(anyhow::anyhow!("a request field failed its check without a violation")))
    }
}

/// A caller-chosen resource ID (AIP-133): empty means the server generates one.
pub fn chosen_id(id: &str) -> Result<Option<String>, NameError> {
    if id.is_empty() { Ok(None) } else { resource_name::validate_id(id).map(|()| Some(id.to_owned())) }
}

/// The ID in an optional reference such as a parent: empty is `None`.
pub fn optional_id(collection: &'static str, name: &str) -> Result<Option<String>, NameError> {
    if name.is_empty() { Ok(None) } else { resource_name::parse(collection, name).map(Some) }
}

/// The most achievement figures one task report or report item may carry.
pub const MAX_ACHIEVED: usize = 100;

impl Violations {
    /// Adds a violation on `field` if a list of `count` entries is longer than `max`;
    /// true if it is not.
    pub fn at_most(&mut self, field: &str, count: usize, max: usize) -> bool {
        if count > max {
            self.add(field, format!("at most {max} entries are allowed (got {count})"));
        }
        count <= max
    }
}

/// The IDs in a list of resource names of one collection: each checked, no repeats,
/// at most `max`. Violations name the element, e.g. `task.coordinating_units[2]`.
pub fn ids(
    v: &mut Violations,
    field: &str,
    collection: &'static str,
    names: &[String],
    max: usize,
) -> Option<Vec<String>> {
    if !v.at_most(field, names.len(), max) {
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    let before = v.0.len();
    for (index, name) in names.iter().enumerate() {
        match resource_name::parse(collection, name) {
            Ok(id) if out.contains(&id) => v.add(&format!("{field}[{index}]"), format!("{name} is listed twice")),
            Ok(id) => out.push(id),
            Err(error) => v.add(&format!("{field}[{index}]"), error),
        }
    }
    (v.0.len() == before).then_some(out)
}

/// The request-wide limit on free texts (summaries, descriptions), in characters.
pub const MAX_LONG_TEXT: usize = 20_000;
/// The limit on titles.
pub const MAX_TITLE: usize = 500;
/// The limit on names of bodies and places.
pub const MAX_NAME: usize = 300;
/// The limit on reasons and comments.
pub const MAX_REASON: usize = 2000;
/// The longest resource-name prefix a filter may give (events, audit records); resource
/// names are far shorter.
pub const MAX_RESOURCE_PREFIX: usize = 500;

/// A required one-line title.
pub fn title(input: &str) -> Result<String, text::TextError> {
    text::single_line(input, MAX_TITLE, true)
}

/// An optional long text.
pub fn long_text(input: &str) -> Result<String, text::TextError> {
    text::multi_line(input, MAX_LONG_TEXT, false)
}

/// A reason or comment; `required` says whether it may be empty.
pub fn reason(input: &str, required: bool) -> Result<String, text::TextError> {
    text::multi_line(input, MAX_REASON, required)
}

/// A required calendar date.
pub fn required_date(value: Option<&Date>) -> Result<NaiveDate, String> {
    date(value)?.ok_or_else(|| "is required".to_owned())
}

/// The update mask's paths, or INVALID_ARGUMENT when there are none: an empty mask is
/// refused rather than guessed.
pub fn mask_paths(mask: Option<prost_types::FieldMask>, example: &str) -> Result<Vec<String>, Error> {
    let paths = mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(Error::invalid("update_mask", format!("is required: name the fields to change, e.g. {example}")));
    }
    Ok(paths)
}

/// The caller the auth layer authenticated.
pub fn principal<T>(request: &Request<T>) -> Result<Principal, Status> {
    request.extensions().get::<Principal>().cloned().ok_or_else(|| {
        // Only reachable if the server were assembled without the auth layer.
        Status::from(Error::Internal(anyhow::anyhow!("request reached a handler without authentication")))
    })
}

/// A calendar date from `google.type.Date`; an unset message is `None`.
pub fn date(value: Option<&Date>) -> Result<Option<NaiveDate>, String> {
    let Some(d) = value else { return Ok(None) };
    let (Ok(month), Ok(day)) = (u32::try_from(d.month), u32::try_from(d.day)) else {
        return Err("must be a valid calendar date".into());
    };
    if !(1..=9999).contains(&d.year) {
        return Err("must be a full date with a year from 1 to 9999".into());
    }
    NaiveDate::from_ymd_opt(d.year, month, day)
        .map(Some)
        .ok_or_else(|| format!("{:04}-{:02}-{:02} is not a calendar date", d.year, d.month, d.day))
}

/// `google.type.Date` from a calendar date.
pub fn date_to_proto(d: NaiveDate) -> Date {
    Date { year: d.year(), month: d.month() as i32, day: d.day() as i32 }
}

/// A protobuf timestamp from an instant.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

/// The instant of a protobuf timestamp; `None` when it is out of range.
pub fn instant(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(u32::MAX))
}

/// An optional timestamp field: unset is `None`; an out-of-range one is refused naming `field`.
pub fn optional_instant(field: &str, value: Option<&prost_types::Timestamp>) -> Result<Option<DateTime<Utc>>, Error> {
    value.map(|t| instant(t).ok_or_else(|| Error::invalid(field, "is not a valid timestamp"))).transpose()
}

/// The ID in a plan's name `plans/{plan}`, refused naming `field`.
pub fn plan_id(field: &str, name: &str) -> Result<String, Error> {
    resource_name::parse("plans", name).map_err(|e| Error::invalid(field, e))
}

/// The idempotency key of a create: its `request_id` (a UUID) and a hash of the whole
/// request, so a retry is told apart from a reuse of the id for something else.
pub fn idempotency(request_id: &str, request: &impl prost::Message) -> Result<Option<Idempotency>, String> {
    if request_id.is_empty() {
        return Ok(None);
    }
    let request_id = Uuid::parse_str(request_id)
        .map_err(|_| "must be a UUID, e.g. 3f1c9a4e-1b2d-4c5e-8f90-123456789abc".to_owned())?;
    let fingerprint = Sha256::digest(request.encode_to_vec()).to_vec();
    Ok(Some(Idempotency { request_id, fingerprint }))
}

/// A JSON value as `google.protobuf.Value`, for payloads shown as JSON by grpcurl.
pub fn proto_value(value: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => {
            Kind::ListValue(prost_types::ListValue { values: items.iter().map(proto_value).collect() })
        }
        serde_json::Value::Object(_) => Kind::StructValue(proto_struct(value).unwrap_or_default()),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A JSON object as `google.protobuf.Struct`; `None` for anything else.
pub fn proto_struct(value: &serde_json::Value) -> Option<prost_types::Struct> {
    let object = value.as_object()?;
    Some(prost_types::Struct { fields: object.iter().map(|(k, v)| (k.clone(), proto_value(v))).collect() })
}

/// [`idempotency`] for a request that has no other field to check alongside.
pub fn request_id(id: &str, request: &impl prost::Message) -> Result<Option<Idempotency>, Error> {
    idempotency(id, request).map_err(|e| Error::invalid("request_id", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(None), Ok(None));
        assert_eq!(date(Some(&Date { year: 2025, month: 7, day: 1 })), Ok(NaiveDate::from_ymd_opt(2025, 7, 1)));
        assert!(date(Some(&Date { year: 2025, month: 2, day: 30 })).is_err());
        assert!(date(Some(&Date { year: 0, month: 2, day: 3 })).is_err());
        assert!(date(Some(&Date { year: 2025, month: -1, day: 3 })).is_err());
        let d = NaiveDate::from_ymd_opt(2020, 5, 13).unwrap();
        assert_eq!(date(Some(&date_to_proto(d))), Ok(Some(d)));
    }

    #[test]
    fn request_ids() {
        let req = Date::default();
        assert!(idempotency("", &req).unwrap().is_none());
        assert!(idempotency("not-a-uuid", &req).is_err());
        let a = idempotency("3f1c9a4e-1b2d-4c5e-8f90-123456789abc", &req).unwrap().unwrap();
        let b = idempotency("3f1c9a4e-1b2d-4c5e-8f90-123456789abc", &Date { year: 1, ..req }).unwrap().unwrap();
        assert_eq!(a.request_id, b.request_id);
        assert_ne!(a.fingerprint, b.fingerprint);
    }
}
