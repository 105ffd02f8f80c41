//! `ringfence attest`: config validation with located errors, and a key that never leaks.

use crate::{root, run, stderr, stdout};

fn example() -> String {
    root()
        .join("examples/attest/ringfence-attest.toml")
        .display()
        .to_string()
}

#[test]
fn attest_check_accepts_the_example() {
    let o = run(&["attest", "--check", &example()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ok — 1 route(s), 2 chain(s)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn attest_bad_config_exits_2_located_without_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(example())
        .expect("example")
        .replace("quorum = 2", "quorum = 3")
        .replace(
            "\"http://127.0.0.1:8545\"",
            "\"https://rpc.example/v2/SUPERSECRETKEY\"",
        );
    std::fs::write(&path, text).expect("write");
    let o = run(&["attest", "--check", &path.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.toml:18:10"), "{err}");
    assert!(
        err.contains("quorum 3 is impossible with 2 endpoint(s)"),
        "{err}"
    );
    assert!(!err.contains("SUPERSECRETKEY") && !stdout(&o).contains("SUPERSECRETKEY"));
}

#[test]
fn attest_without_its_key_exits_2_and_names_only_the_variable() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ringfence"))
        .args(["attest", &example()])
        .env_remove("RINGFENCE_ATTESTOR_KEY")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("RINGFENCE_ATTESTOR_KEY is not set"),
        "{}",
        stderr(&o)
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ringfence"))
        .args(["attest", &example()])
        .env("RINGFENCE_ATTESTOR_KEY", "0xdeadbeefnotakey")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("deadbeef"), "{}", stderr(&o));
}
