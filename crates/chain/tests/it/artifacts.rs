use std::process::Command;

use crate::harness::repo;

/// The committed ABI + bytecode under contracts/out must be what solcjs makes of contracts/src.
#[test]
fn compiled_fixtures_are_current() {
    let root = repo();
    assert!(
        root.join("node_modules/solc").exists(),
        "solc (npm) is not installed: run scripts/setup.sh"
    );
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new("node")
        .arg(root.join("contracts/compile.mjs"))
        .arg("--out")
        .arg(out.path())
        .status()
        .expect("node: run scripts/setup.sh");
    assert!(status.success(), "solcjs failed");
    let mut n = 0;
    for e in std::fs::read_dir(out.path()).expect("read") {
        let e = e.expect("entry");
        let fresh = std::fs::read_to_string(e.path()).expect("read");
        let committed_path = root.join("contracts/out").join(e.file_name());
        let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
        assert!(
            fresh == committed,
            "{} is stale: run scripts/compile-contracts.sh",
            committed_path.display()
        );
        n += 1;
    }
    assert!(
        n >= 3,
        "expected at least the guard fixtures, found {n} artifacts"
    );
    for name in ["GuardedToken", "Lockbox", "BridgeEndpoint"] {
        assert!(
            out.path().join(format!("{name}.json")).exists(),
            "{name} not compiled"
        );
    }
}
