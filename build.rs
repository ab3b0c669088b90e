//! Compiles the protos with protox (pure Rust), so the build needs no system `protoc`, and
//! writes the descriptor set that server reflection serves.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/followup/v1/audit.proto",
        "proto/followup/v1/conclusion.proto",
        "proto/followup/v1/event.proto",
        "proto/followup/v1/holiday.proto",
        "proto/followup/v1/plan.proto",
        "proto/followup/v1/recommendation.proto",
        "proto/followup/v1/reminder.proto",
        "proto/followup/v1/report.proto",
        "proto/followup/v1/report_schedule.proto",
        "proto/followup/v1/task.proto",
        "proto/followup/v1/unit.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    // sqlx::migrate! embeds migrations/ at compile time; a new file must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    let fds = protox::compile(protos, ["proto"])?;

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("followup_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;

    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(fds)?;
    Ok(())
}
