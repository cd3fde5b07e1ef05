//! An in-process HTTP server for tests, which checks every manifest it serves.
//!
//! Every HLS playlist and MPD that a test server answers goes through the
//! conformance rules (`splicepoint::conformance::check`), and each answer of a URL
//! that was answered before also through the refresh rules against the previous
//! one (`conformance::check_next`). Answers of the proxy (paths under `/v1/`) must
//! keep every rule that the inputs (every other path: the tests' origins, the
//! demo) kept, and every MPD the proxy answers validates against the official
//! schema with `xmllint` when the schema and `xmllint` are there (see
//! `schema.rs`). An answer that breaks a rule becomes a 500 whose body names the
//! problems and carries the manifest, so the test that fetched it fails saying
//! why.
//!
//! The inputs' broken rules are gathered per thread that runs the servers: a
//! `#[tokio::test]` runs its servers on its own thread, so that is per test; the
//! tests of a multi-threaded runtime share the runtime's worker threads (and so
//! their inputs' broken rules). An input that breaks a rule is reported on
//! stderr; the suites' own fixtures keep every rule.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use splicepoint::conformance::{self, Kind};

#[path = "schema.rs"]
mod schema;

/// Serve `app` on a free 127.0.0.1 port for the rest of the test; its base URL
/// (`http://127.0.0.1:PORT`). Every manifest it answers is checked (see the
/// module docs).
pub async fn serve(app: axum::Router) -> String {
    // Said (or failed, under SPLICEPOINT_REQUIRE_XMLLINT) in the test, not in a
    // server task.
    schema_dir();
    let app = app.layer(axum::middleware::from_fn(check_manifests));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // With the peer's address, as the binary serves (`ConnectInfo`).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// What the servers of this test binary have answered.
#[derive(Default)]
struct Seen {
    /// Rules some input broke (refresh rules included), by thread (see the
    /// module docs).
    input_broke: HashMap<String, BTreeSet<&'static str>>,
    /// Threads on which some input MPD did not validate against the schema.
    input_schema_invalid: BTreeSet<String>,
    /// The last answer of each URL (`host` + path and query).
    last: HashMap<String, String>,
    /// Manifests checked, inputs and outputs.
    checked: (usize, usize),
}

static SEEN: Mutex<Option<Seen>> = Mutex::new(None);

/// The schema, looked up once per test binary.
fn schema_dir() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| schema::schema("manifests served by test servers"))
        .as_ref()
}

/// Whether MPDs are checked against the schema (xmllint and the schema are there).
pub fn schema_checks() -> bool {
    schema_dir().is_some()
}

/// How many manifests the servers of this test binary have checked: (inputs,
/// outputs).
pub fn checked() -> (usize, usize) {
    SEEN.lock().unwrap().as_ref().map_or((0, 0), |s| s.checked)
}

/// The manifest kind of a body, if it is an HLS playlist or an MPD (not VAST or
/// other XML).
fn manifest_kind(body: &str) -> Option<Kind> {
    match conformance::kind_of(body) {
        Kind::Unknown => None,
        Kind::Mpd if !body.contains("<MPD") => None,
        k => Some(k),
    }
}

/// Whether a content type may carry a manifest (segments are not read).
fn may_be_manifest(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|t| {
        let t = t.to_ascii_lowercase();
        ["mpegurl", "dash", "xml", "text", "octet-stream"]
            .iter()
            .any(|k| t.contains(k))
    })
}

async fn check_manifests(req: Request, next: Next) -> Response {
    let output = req.uri().path().starts_with("/v1/");
    let key = format!(
        "{}{}",
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or(""),
        req.uri()
    );
    let get = req.method() == axum::http::Method::GET;
    let res = next.run(req).await;
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !get || res.status() != StatusCode::OK || !may_be_manifest(content_type) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(kind) = manifest_kind(&text) {
        let problems = judge(&key, &text, kind, output).await;
        if !problems.is_empty() {
            let body = format!(
                "conformance: {key} breaks rules its inputs kept:\n  {}\n\n{text}",
                problems.join("\n  ")
            );
            return (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The scope of the inputs' broken rules: the thread serving (see the module
/// docs).
fn scope() -> String {
    let t = std::thread::current();
    t.name()
        .map_or_else(|| format!("{:?}", t.id()), str::to_string)
}

/// The problems of one answer (none for an input: its broken rules are noted).
async fn judge(key: &str, text: &str, kind: Kind, output: bool) -> Vec<String> {
    let scope = scope();
    let problems = {
        let mut guard = SEEN.lock().unwrap();
        let seen = guard.get_or_insert_with(Seen::default);
        let problems = match seen.last.get(key) {
            Some(prev) => conformance::check_next(prev, text).1,
            None => conformance::check(text).1,
        };
        seen.last.insert(key.to_string(), text.to_string());
        let broke = seen.input_broke.entry(scope.clone()).or_default();
        if output {
            seen.checked.1 += 1;
            problems
                .into_iter()
                .filter(|p| !broke.contains(p.rule.code()))
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        } else {
            seen.checked.0 += 1;
            for p in &problems {
                if broke.insert(p.rule.code()) {
                    eprintln!(
                        "test input {key} breaks a rule (allowed in outputs from now on): {p}"
                    );
                }
            }
            Vec::new()
        }
    };
    if kind != Kind::Mpd || !problems.is_empty() {
        return problems;
    }
    let Some(dir) = schema_dir() else {
        return problems;
    };
    let (dir, mpd) = (dir.clone(), text.to_string());
    let invalid = tokio::task::spawn_blocking(move || {
        schema::invalid_mpds(&dir, &[("MPD".to_string(), mpd)])
    })
    .await
    .unwrap();
    if invalid.is_empty() {
        return problems;
    }
    let mut guard = SEEN.lock().unwrap();
    let seen = guard.get_or_insert_with(Seen::default);
    if output && !seen.input_schema_invalid.contains(&scope) {
        return invalid
            .into_iter()
            .map(|i| format!("schema (DASH-MPD.xsd): {i}"))
            .collect();
    }
    if !output && seen.input_schema_invalid.insert(scope) {
        eprintln!("test input {key} does not validate against the schema (allowed in outputs from now on): {invalid:?}");
    }
    Vec::new()
}
