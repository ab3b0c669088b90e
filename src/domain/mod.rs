//! Domain rules as pure code: no SQL, no gRPC. Each module parses one kind of input into a
//! value that is valid by construction, or says exactly what is wrong.

pub mod calendar;
pub mod document_ref;
pub mod filter;
pub mod page_token;
pub mod period;
pub mod plan;
pub mod recommendation;
pub mod reminder;
pub mod resource_name;
pub mod task;
pub mod text;
pub mod unit;
pub mod working_days;

/// One bad field of a request: which field (a path such as `unit.code`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field path, as in `google.rpc.BadRequest.FieldViolation.field`.
    pub field: String,
    /// Why the value is refused, readable on its own.
    pub description: String,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl std::fmt::Display) -> Self {
        Self { field: field.into(), description: description.to_string() }
    }
}
