//! Clients nobody here wrote: the examples in `examples/` (Python with grpcio, Node with
//! @grpc/grpc-js, and a gRPC-Web client with Connect's transport, as browsers speak it) run
//! their portal workflow against a real server. `tests/run.sh` installs their dependencies.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helpers::TestApp;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python with the examples' requirements: `FOLLOWUP_TEST_PYTHON`, or the virtualenv
/// tests/run.sh makes.
fn python() -> PathBuf {
    let python = std::env::var_os("FOLLOWUP_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/interop/venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/run.sh`, which installs the interop clients",
        python.display()
    );
    python
}

fn require_installed(dir: &Path) {
    assert!(
        dir.join("node_modules").is_dir(),
        "{}/node_modules is missing: run `bash tests/run.sh`, which installs the interop clients",
        dir.display()
    );
}

/// A server with the demo plan, and an ADMIN key for it.
async fn demo_server() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.load_demo("demo").await;
    let key = app.admin_key("demo").await;
    (app, key)
}

/// Runs `program` with `env` on a blocking thread (the server keeps serving on this
/// runtime), killing it after a minute, and fails the test with its output unless it
/// exits 0.
async fn run_client(mut command: Command, env: &[(&str, String)]) {
    for (name, value) in env {
        command.env(name, value);
    }
    let description = format!("{command:?}");
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || command.output().expect("start the client")),
    )
    .await
    .unwrap_or_else(|_| panic!("{description} ran over a minute"))
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{description} failed ({}):\n{stdout}\n{stderr}", output.status);
    println!("{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_portal_example_runs_its_workflow() {
    let (app, key) = demo_server().await;
    let mut command = Command::new(python());
    command.arg(repo().join("examples/python/portal.py"));
    run_client(command, &[("FOLLOWUP_TARGET", app.addr.to_string()), ("FOLLOWUP_KEY", key)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_portal_example_runs_its_workflow() {
    let dir = repo().join("examples/node");
    require_installed(&dir);
    let (app, key) = demo_server().await;
    let mut command = Command::new("node");
    command.arg(dir.join("portal.mjs"));
    run_client(command, &[("FOLLOWUP_TARGET", app.addr.to_string()), ("FOLLOWUP_KEY", key)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grpc_web_portal_example_runs_its_workflow_over_http1() {
    let dir = repo().join("examples/grpc-web");
    require_installed(&dir);
    let (app, key) = demo_server().await;
    let mut command = Command::new("node");
    command.arg(dir.join("portal.mjs"));
    run_client(command, &[("FOLLOWUP_URL", format!("http://{}", app.addr)), ("FOLLOWUP_KEY", key)]).await;
}
