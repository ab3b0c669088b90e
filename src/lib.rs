//! followup: a gRPC service that provincial governments use to follow up inspection
//! conclusions (see the README for the design).
//!
//! Layers, outermost first: [`server`] (tonic, tower layers) → [`api`] (protobuf ↔ service)
//! → [`service`] (use cases, one transaction each) → [`store`] (all SQL) and [`domain`]
//! (pure rules).

pub mod admin;
pub mod api;
pub mod auth;
pub mod cli;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod export;
pub mod managed_pg;
pub mod run;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;
