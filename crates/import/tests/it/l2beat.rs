//! The L2BEAT importer on the shipped discovery snapshot (data/l2beat) and on hand-made files in
//! tests/fixtures/l2beat.

use ringfence_import::Prices;
use ringfence_import::l2beat::import_dir;

use super::repo;

#[test]
fn dump() {
    let (i, f) =
        import_dir(&repo().join("data/l2beat"), &Prices::none()).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{f:#?}");
    for n in &i.notes {
        eprintln!("note: {n}");
    }
    std::fs::write("/tmp/l2beat.toml", i.to_toml().unwrap()).unwrap();
}

#[test]
fn dump_hl() {
    let (i, f) = ringfence_import::hyperlane::import_dir(
        &repo().join("data/hyperlane-registry"),
        &Prices::none(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{f:#?}");
    for n in &i.notes {
        eprintln!("note: {n}");
    }
    std::fs::write("/tmp/hl.toml", i.to_toml().unwrap()).unwrap();
}
