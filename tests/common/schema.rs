//! The official MPD schema for tests: where it is, and `xmllint` against it.
//!
//! The schema lives beside the corpus (`$SPLICEPOINT_CORPUS/../schema/dash`, or
//! `$SPLICEPOINT_SCHEMA_DIR`); without it, or without `xmllint`, the schema checks
//! are skipped, saying so (`SPLICEPOINT_REQUIRE_XMLLINT=1` makes them fail instead,
//! as `scripts/test` does once `scripts/install-deps` has installed xmllint).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Where `DASH-MPD.xsd` and its catalog are, if they are.
pub fn schema_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SPLICEPOINT_SCHEMA_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("SPLICEPOINT_CORPUS")?)
            .parent()?
            .join("schema/dash"),
    };
    (dir.join("DASH-MPD.xsd").is_file() && dir.join("catalog.xml").is_file()).then_some(dir)
}

/// The schema, when the schema checks can run; `None` (said on stderr) when not.
pub fn schema(what: &str) -> Option<PathBuf> {
    let Some(dir) = schema_dir() else {
        eprintln!("{what}: schema check skipped: neither SPLICEPOINT_SCHEMA_DIR nor SPLICEPOINT_CORPUS (with ../schema/dash beside it) is set");
        return None;
    };
    if Command::new("xmllint").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("SPLICEPOINT_REQUIRE_XMLLINT").is_none(),
            "xmllint is required (SPLICEPOINT_REQUIRE_XMLLINT) but not installed"
        );
        eprintln!("{what}: schema check skipped: xmllint is not installed (scripts/install-deps installs libxml2-utils)");
        return None;
    }
    Some(dir)
}

/// Validate MPDs against the schema in one xmllint run: the names of those that do
/// not validate, each with xmllint's first complaints.
pub fn invalid_mpds(dir: &std::path::Path, mpds: &[(String, String)]) -> Vec<String> {
    if mpds.is_empty() {
        return Vec::new();
    }
    let tmp = std::env::temp_dir().join(format!(
        "splicepoint-xsd-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&tmp).unwrap();
    let files: Vec<PathBuf> = mpds
        .iter()
        .enumerate()
        .map(|(i, (_, text))| {
            let f = tmp.join(format!("{i}.mpd"));
            std::fs::write(&f, text).unwrap();
            f
        })
        .collect();
    let out = Command::new("xmllint")
        .env("XML_CATALOG_FILES", dir.join("catalog.xml"))
        .args(["--nonet", "--noout", "--schema"])
        .arg(dir.join("DASH-MPD.xsd"))
        .args(&files)
        .output()
        .expect("run xmllint");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::remove_dir_all(&tmp).unwrap();
    let mut bad = Vec::new();
    for (i, (name, _)) in mpds.iter().enumerate() {
        let file = files[i].to_string_lossy().into_owned();
        if !log.contains(&format!("{file} validates")) {
            let why: Vec<&str> = log
                .lines()
                .filter(|l| l.starts_with(&format!("{file}:")))
                .take(3)
                .collect();
            bad.push(format!("{name}:\n    {}", why.join("\n    ")));
        }
    }
    bad
}

pub fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
