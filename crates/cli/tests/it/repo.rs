//! The repository is self-contained: a user's clone has nothing beside it, so no tracked file may
//! point outside it (regression: the CCIP and Nomad tests once read the sibling `shared/` folder, and failed on a
//! fresh clone after twelve minutes).

use std::path::Path;

use crate::root;

/// Folders that are built or installed, not written.
const SKIP: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    "test-artifacts",
    ".tools",
    "out",
];

fn walk(dir: &Path, hits: &mut Vec<String>, seen: &mut usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !SKIP.contains(&name.as_ref()) {
                walk(&path, hits, seen);
            }
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // binary files
        };
        *seen += 1;
        for (i, line) in text.lines().enumerate() {
            if line.contains(concat!("..", "/", "shared")) {
                hits.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
}

#[test]
fn no_file_names_a_path_outside_the_repository() {
    let mut hits = Vec::new();
    let mut seen = 0;
    walk(&root(), &mut hits, &mut seen);
    assert!(seen > 100, "only {seen} files read: is the root right?");
    assert!(
        hits.is_empty(),
        "these lines name a folder a clone does not have; ship the data in data/ instead:\n{}",
        hits.join("\n")
    );
}

#[test]
fn every_data_folder_has_its_licence_and_source() {
    let data = root().join("data");
    for entry in std::fs::read_dir(&data).expect("data/") {
        let dir = entry.expect("entry").path();
        if dir.is_dir() {
            assert!(
                dir.join("SOURCE.md").is_file(),
                "{} has no SOURCE.md",
                dir.display()
            );
            let source = std::fs::read_to_string(dir.join("SOURCE.md")).expect("SOURCE.md");
            assert!(
                dir.join("LICENSE").is_file() || source.contains("licensed with the project"),
                "{} has no LICENSE and its SOURCE.md names none",
                dir.display()
            );
        }
    }
}
