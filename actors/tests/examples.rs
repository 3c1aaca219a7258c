//! Runs every example in `actors/examples/` and compares what it prints, exactly, with
//! `actors/examples/expected/<name>.txt`: the same file the user guide (`docs/book/`) shows as
//! the example's output. So neither the examples nor the guide's listings can rot.
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

/// One test per example: run it, compare its output with `examples/expected/<name>.txt`.
macro_rules! examples {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let expected = include_str!(concat!(
                    "../examples/expected/",
                    stringify!($name),
                    ".txt"
                ));
                assert_eq!(run(stringify!($name)), expected);
            }
        )*

        /// The names above, to check that no example is left out.
        const CHECKED: &[&str] = &[$(stringify!($name)),*];
    };
}

examples! {
    // The seeds' examples: the two-step quick start, the article's calculator, ractor's
    // ping-pong (five rounds, then the actor stops itself; the newline is `main`'s).
    quick_start,
    calculator,
    ping_pong,
    // The user guide's chapters.
    two_step,
    timeouts,
    weak_links,
    cancellation,
    runtime,
    migrating,
}

/// Every `examples/*.rs` has a test above, and every expected output an example.
#[test]
fn every_example_is_checked() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let names = |sub: &str, ext: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(sub))
            .expect("examples directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == ext))
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let mut checked: Vec<String> = CHECKED.iter().map(|s| s.to_string()).collect();
    checked.sort();
    assert_eq!(names("", "rs"), checked, "an example without a test in tests/examples.rs");
    assert_eq!(names("expected", "txt"), checked, "examples/expected/ does not match the examples");
}
