//! `actor12-bench` meets bad input with a message and exit status 1, before any benchmark runs:
//! never a panic (status 101), never a silent success.

use std::process::{Command, Output};

fn bench(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_actor12-bench")).args(args).output().expect("the binary runs")
}

/// Runs the binary with `args` and checks that it refused them, saying `expected`.
fn refused(args: &[&std::ffi::OsStr], expected: &str) {
    let out = bench(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: no table, nothing run");
}

fn os<'a>(args: &[&'a str]) -> Vec<&'a std::ffi::OsStr> {
    args.iter().map(|arg| std::ffi::OsStr::new(*arg)).collect()
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    refused(&os(&["--bogus"]), "unknown argument --bogus");
    refused(&os(&["--rounds", "0"]), "bad --rounds 0");
    refused(&os(&["--rounds", "18446744073709551615"]), "bad --rounds 18446744073709551615");
    refused(&os(&["--rounds"]), "--rounds needs a value");
    refused(&os(&["--workers", "0"]), "bad --workers 0");
    // Past the runtime's limit it panicked building the first runtime (a review of 2026-12-07).
    refused(&os(&["--workers", "70000"]), "bad --workers 70000 (1 to 1024)");
    // Empty (a script's unset variable), a filter matched everything, and wrote nothing.
    refused(&os(&["--filter", ""]), "--filter needs a non-empty TEXT");
    refused(&os(&["--filter", "$"]), "--filter needs a non-empty TEXT");
    refused(&os(&["--filter", "no-such-benchmark"]), "no benchmark matches the filter");
}

#[test]
fn an_out_that_cannot_be_a_directory_is_refused_before_the_run() {
    let file = std::env::temp_dir().join(format!("actor12-bench-cli-{}", std::process::id()));
    std::fs::write(&file, b"").unwrap();
    let out = file.join("out");
    let args = [
        std::ffi::OsStr::new("--filter"),
        std::ffi::OsStr::new("no-such-benchmark-either"),
        std::ffi::OsStr::new("--out"),
        out.as_os_str(),
    ];
    // The filter is checked first...
    refused(&args, "no benchmark matches the filter");
    // ...and with one that matches, the directory, before anything runs.
    let args = [os(&["--filter", "peers/ask/actor12$", "--quick", "--out"]), vec![out.as_os_str()]];
    refused(&args.concat(), "cannot write to");
    std::fs::remove_file(file).unwrap();
}

#[test]
fn an_argument_that_is_not_utf8_is_refused_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::OsStr::from_bytes(b"/tmp/r\xe9sultats");
    refused(&[std::ffi::OsStr::new("--out"), path], "not valid UTF-8");
}

/// A reader that goes away before the tables are printed (`| head`, a `grep -q`) costs the run
/// nothing but the printing: the files are written, and the run succeeds. A failed `println!`
/// panicked, and the results were lost (a review of 2026-12-07).
#[test]
fn a_closed_stdout_does_not_lose_the_files() {
    let dir = std::env::temp_dir().join(format!("actor12-bench-closed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_actor12-bench"))
        .args(["--quick", "--filter", "peers/ping_pong/actor12$", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take()); // the reader is gone before anything is printed
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut written: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
        .unwrap_or_default();
    written.sort();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(written, ["peers.json", "peers.md", "peers.svg"], "{stderr}");
}
