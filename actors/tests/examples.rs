//! Runs every example in `actors/examples/` and compares what it prints with what the example
//! promises, so the examples (and the book chapters that include them) cannot rot.
//!
//! `cargo test` builds the examples along with the tests; they sit next to this test's binary, in
//! `target/<profile>/examples/`. An example that is missing or older than this test binary (only
//! this test was built: `cargo test --test examples`) is built first, with the same cargo and
//! profile.

use std::path::PathBuf;
use std::process::Command;

/// The path of example `name`, (re)building it if `cargo test` did not.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/examples-<hash> -> target/<profile>
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let binary =
        profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let stale = match (modified(&binary), modified(&exe)) {
        (Some(example), Some(test)) => example < test,
        _ => true,
    };
    if stale {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "actor12", "--example", name]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let out = build.output().expect("failed to run cargo build");
        assert!(
            out.status.success(),
            "cargo build --example {name} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    binary
}

/// Runs example `name` and returns its standard output, checking that it exited with success.
fn run(name: &str) -> String {
    let binary = example_binary(name);
    let output = Command::new(&binary)
        .output()
        .unwrap_or_else(|e| panic!("failed to run {}: {e}", binary.display()));
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    assert!(
        output.status.success(),
        "example {name} failed ({}).\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn quick_start() {
    assert_eq!(
        run("quick_start"),
        "after Increment(5): 5\n\
         GetValue: 5\n\
         GetValue after a forgotten Increment(10): 15\n\
         stopped; alive: false\n"
    );
}

#[test]
fn calculator() {
    assert_eq!(run("calculator"), "Sum: 3\nboth stopped\n");
}

#[test]
fn ping_pong() {
    // ractor's output: five rounds, then the actor stops itself (the newline is `main`'s).
    assert_eq!(run("ping_pong"), "ping..pong..ping..pong..ping..pong..ping..pong..ping..pong..\n");
}

#[test]
fn timeouts() {
    assert_eq!(
        run("timeouts"),
        "Now: now\n\
         Later: no reply within 20ms\n\
         try_reply before Release: false\n\
         Release answered 2 parked request(s)\n\
         reply after Release: later\n\
         a pending future under a 5 ms timeout timed out: true\n"
    );
}

#[test]
fn weak_links() {
    assert_eq!(
        run("weak_links"),
        "through the weak link: hi\n\
         actor stopped; upgrade: None\n\
         was_sent: false, send_error: Some(\"Actor is already dead\")\n\
         send_and_reply: failed to send message: Actor is already dead\n\
         empty: is_set false, ask: true\n\
         set: after set\n"
    );
}

#[test]
fn cancellation() {
    assert_eq!(
        run("cancellation"),
        "root false, child true, grandchild true, sibling false\n\
         grandchild's reason: Shutdown, cancelled in Some(\"cancellation.rs\")\n\
         a stopped: Shutdown\n\
         b stopped: Failed(\"disk full\")\n\
         c's token was cancelled: Dropped\n\
         c stopped: Dropped\n"
    );
}

#[test]
fn runtime() {
    assert_eq!(
        run("runtime"),
        "workers: 2\n\
         the actor ran on one of our workers: true\n\
         spawn: 42, spawn_pinned(1) ran on worker Some(1)\n\
         spawn_blocking ran on worker None\n\
         from another thread: 7\n\
         pinned runtime: 2 workers, 2 core assignments reported\n"
    );
}

#[test]
fn migrating() {
    assert_eq!(
        run("migrating"),
        "handler style: 1\n\
         envelope style: 1\n\
         handler style, two steps: 1\n\
         envelope style, with a deadline: 1\n"
    );
}
