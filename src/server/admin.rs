//! Ad ops: the playback configuration API (`/v1/configs`), the conformance check of
//! a channel's origin manifests (`/v1/admin/configs/{name}/validate`), and hot
//! reload of the configuration directory.
//!
//! I/O. The API is on only when a bearer token is configured
//! (`SPLICEPOINT_ADMIN_TOKEN`); it compares tokens in constant time, writes changes
//! atomically (temporary file, then rename) to the configuration directory, and
//! refuses a bad body with the reason, leaving the last good configuration in force.
//! The directory itself is polled: edited files are picked up without a restart, a
//! bad file is refused (logged) and its last good version stays.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tracing::{info, warn};

use super::AppState;
use crate::config::{parse_config, Channel, PlaybackConfig};
use crate::error::Error;

/// Environment variable holding the admin API's bearer token.
pub const ENV_ADMIN_TOKEN: &str = "SPLICEPOINT_ADMIN_TOKEN";
/// How often the configuration directory is checked for edits.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Equal strings, compared in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

/// `None` when the request may use the API, else the refusal.
fn refusal(st: &AppState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = st.admin_token.as_deref() else {
        return Some(admin_error(
            StatusCode::FORBIDDEN,
            "admin_disabled",
            "the admin API is off: no token is configured",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        None
    } else {
        Some(admin_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        ))
    }
}

fn admin_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (
        status,
        Json(json!({ "error": code, "message": message, "status": status.as_u16() })),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

fn config_json(c: &Channel) -> serde_json::Value {
    let mut v = serde_json::to_value(&c.raw).unwrap_or_default();
    v["name"] = json!(c.name);
    v
}

/// `GET /v1/configs`
pub async fn list(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&st, &headers) {
        return r;
    }
    let channels = st
        .channels
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Json(json!({ "configs": channels.values().map(|c| config_json(c)).collect::<Vec<_>>() }))
        .into_response()
}

/// `GET /v1/configs/{name}`
pub async fn get_one(
    State(st): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&st, &headers) {
        return r;
    }
    match st.channel(&name) {
        Some(c) => Json(config_json(&c)).into_response(),
        None => Error::UnknownConfig(name).into_response(),
    }
}

/// `PUT /v1/configs/{name}`: create or replace, from a JSON body with the TOML's fields.
pub async fn put(
    State(st): State<AppState>,
    Path(name): Path<String>,
    req: Request<Body>,
) -> Response {
    if let Some(r) = refusal(&st, req.headers()) {
        return r;
    }
    let Some(dir) = st.config_dir.clone() else {
        return admin_error(
            StatusCode::CONFLICT,
            "no_config_dir",
            "this server has no configuration directory",
        );
    };
    let bytes = match axum::body::to_bytes(req.into_body(), 256 * 1024).await {
        Ok(b) => b,
        Err(_) => return admin_error(StatusCode::BAD_REQUEST, "bad_request", "body too large"),
    };
    let mut raw: PlaybackConfig = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                "bad_config",
                &format!("bad JSON: {e}"),
            )
        }
    };
    if raw.name.as_deref().is_some_and(|n| n != name) {
        return admin_error(
            StatusCode::BAD_REQUEST,
            "bad_config",
            "`name` in the body differs from the URL",
        );
    }
    raw.name = None;
    let file = format!("{name}.toml");
    let channel = match raw.clone().validate(&file, &name) {
        Ok(c) => c,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, "bad_config", &e.to_string()),
    };
    let text = match toml::to_string(&raw) {
        Ok(t) => t,
        Err(e) => return Error::Internal(e.to_string()).into_response(),
    };
    if let Err(e) = write_atomically(&dir.join(&file), &text).await {
        return Error::Internal(format!("writing {file}: {e}")).into_response();
    }
    let created = {
        let mut channels = st.channels.write().unwrap_or_else(|e| e.into_inner());
        let mut next = (**channels).clone();
        let created = next
            .insert(name.clone(), Arc::new(channel.clone()))
            .is_none();
        *channels = Arc::new(next);
        created
    };
    info!(config = %name, "Configuration written through the admin API.");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(config_json(&channel))).into_response()
}

/// `DELETE /v1/configs/{name}`
pub async fn delete(
    State(st): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&st, &headers) {
        return r;
    }
    if st.channel(&name).is_none() {
        return Error::UnknownConfig(name).into_response();
    }
    if let Some(dir) = &st.config_dir {
        let path = dir.join(format!("{name}.toml"));
        if let Err(e) = tokio::fs::remove_file(&path).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Error::Internal(format!("removing {}: {e}", path.display()))
                    .into_response();
            }
        }
    }
    {
        let mut channels = st.channels.write().unwrap_or_else(|e| e.into_inner());
        let mut next = (**channels).clone();
        next.remove(&name);
        *channels = Arc::new(next);
    }
    info!(config = %name, "Configuration deleted through the admin API.");
    StatusCode::NO_CONTENT.into_response()
}

async fn write_atomically(path: &FsPath, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("toml.tmp-{}", std::process::id()));
    tokio::fs::write(&tmp, text).await?;
    tokio::fs::rename(&tmp, path).await
}

type Signature = BTreeMap<PathBuf, (SystemTime, u64)>;

fn signature(dir: &FsPath) -> Signature {
    let mut sig = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "toml") {
                if let Ok(m) = e.metadata() {
                    sig.insert(
                        path,
                        (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()),
                    );
                }
            }
        }
    }
    sig
}

/// Reload the directory once: every good file replaces its channel; a bad file is
/// logged and the channel it held keeps its last good version; a removed file
/// removes its channel. Returns the errors.
pub fn reload(
    st: &AppState,
    dir: &FsPath,
    by_file: &mut BTreeMap<PathBuf, Arc<Channel>>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut next: BTreeMap<PathBuf, Arc<Channel>> = BTreeMap::new();
    for path in signature(dir).into_keys() {
        let file = path.display().to_string();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| parse_config(&file, &stem, &text).map_err(|e| e.to_string()));
        match parsed {
            Ok(c) => {
                next.insert(path, Arc::new(c));
            }
            Err(e) => {
                warn!(file = %file, reason = %e, "Configuration refused; keeping the last good version.");
                errors.push(e);
                if let Some(old) = by_file.get(&path) {
                    next.insert(path, old.clone());
                }
            }
        }
    }
    let mut channels: BTreeMap<String, Arc<Channel>> = BTreeMap::new();
    for c in next.values() {
        channels.entry(c.name.clone()).or_insert_with(|| c.clone());
    }
    *by_file = next;
    *st.channels.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(channels);
    errors
}

/// Watch the configuration directory and reload it when a file changes.
pub fn spawn_reloader(st: AppState, dir: PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut by_file: BTreeMap<PathBuf, Arc<Channel>> = {
            let channels = st
                .channels
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            signature(&dir)
                .into_keys()
                .filter_map(|p| {
                    let stem = p.file_stem()?.to_str()?.to_string();
                    let c = channels
                        .values()
                        .find(|c| c.name == stem || c.raw.name.as_deref() == Some(&stem))?;
                    Some((p, c.clone()))
                })
                .collect()
        };
        let mut last = signature(&dir);
        loop {
            tokio::time::sleep(RELOAD_EVERY).await;
            let now = signature(&dir);
            if now != last {
                let errors = reload(&st, &dir, &mut by_file);
                info!(dir = %dir.display(), errors = errors.len(), "Configuration directory reloaded.");
                last = now;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}

/// Query of the validate route.
#[derive(Debug, serde::Deserialize)]
pub struct ValidateQuery {
    /// An origin path (relative to the channel's origin) to check with its
    /// renditions; without it, the channel's origin manifests now in the cache.
    pub path: Option<String>,
}

/// `GET /v1/admin/configs/{name}/validate[?path=...]`: the conformance report
/// (`splicepoint validate --json`) of the channel's origin manifests: the one at
/// `path` and its renditions, or else every content manifest of the channel in the
/// shared origin cache (the ones its sessions are playing), fetched again as the
/// origin serves them.
pub async fn validate(
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ValidateQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&st, &headers) {
        return r;
    }
    let Some(channel) = st.channel(&name) else {
        return Error::UnknownConfig(name).into_response();
    };
    let sources: Vec<String> = match q.path.as_deref() {
        Some(p) => match crate::urls::join(&channel.origin, p.trim_start_matches('/')) {
            Ok(u) if u.as_str().starts_with(channel.origin.as_str()) => vec![u.to_string()],
            _ => {
                return admin_error(
                    StatusCode::BAD_REQUEST,
                    "bad_path",
                    "path must be a path below the channel's origin",
                )
            }
        },
        None => st
            .origin
            .content_urls(&channel.name)
            .into_iter()
            .map(|u| u.to_string())
            .collect(),
    };
    let mut v = crate::validate::Validator::new(
        st.http.clone(),
        channel.origin_timeout(),
        channel.raw.origin_max_bytes,
    );
    let report = v.round(&sources).await;
    let mut r = Json(report).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
