//! The gRPC layer: converts between protobuf messages and the service layer, and nothing
//! else. Each RPC parses its request (collecting every bad field), calls one use case and
//! converts the result.

pub mod audit;
pub mod conclusions;
pub mod convert;
pub mod events;
pub mod filter_terms;
pub mod holidays;
pub mod plans;
pub mod proto;
pub mod recommendations;
pub mod reminders;
pub mod reports;
pub mod schedules;
pub mod status;
pub mod tasks;
pub mod units;
