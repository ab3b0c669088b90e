//! The gRPC layer: converts between protobuf messages and the service layer, and nothing
//! else. Each RPC parses its request (collecting every bad field), calls one use case and
//! converts the result.

pub mod convert;
pub mod proto;
pub mod status;
pub mod units;
