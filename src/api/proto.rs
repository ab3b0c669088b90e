//! Code generated from `proto/` by `build.rs`.
#![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]

/// The `google.type` package (vendored `Date`).
pub mod google {
    /// `google.type`.
    pub mod r#type {
        include!(concat!(env!("OUT_DIR"), "/google.r#type.rs"));
    }
}

/// The `followup` packages.
pub mod followup {
    /// `followup.v1`: the service's API.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/followup.v1.rs"));
    }
}

/// Descriptors of every file in `proto/`, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/followup_descriptor.bin"));
