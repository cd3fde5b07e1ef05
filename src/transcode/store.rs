//! The segment store: where transcoded ads live, on `object_store` (a local
//! directory by default, any S3-compatible store by configuration, so that several
//! instances share the work).
//!
//! I/O. Layout under the store root, one folder per (creative, profile):
//!
//! ```text
//! {creative}/{profile}/hls/v0/index.m3u8, seg00000.ts...   (or init.mp4 + .m4s)
//! {creative}/{profile}/dash/v0/init.mp4, seg-1.m4s...; dash/a0/...
//! {creative}/{profile}/fast.m3u8, fast.mpd      the fast-path renditions only
//! {creative}/{profile}/master.m3u8, manifest.mpd every rendition
//! {creative}/{profile}/index.json                written last: the folder is complete
//! ```
//!
//! Every object is immutable once written, so it is served with long-lived cache
//! headers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};

use crate::config::StoreLocation;

/// The name of the record that marks a complete output folder.
pub const INDEX: &str = "index.json";

/// What a finished (or fast-path) job made; `index.json` holds the complete one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// The folder, relative to the store root (`{creative}/{profile}`).
    pub key: String,
    /// The multivariant playlist, relative to the store root.
    pub hls: String,
    /// The MPD, relative to the store root.
    pub dash: String,
    /// Only the fast-path renditions (the full set is still being made).
    pub partial: bool,
    /// Rendition names.
    pub renditions: Vec<String>,
    /// Renditions made by remuxing the source.
    pub remuxed: Vec<String>,
    /// Duration, seconds.
    pub duration: f64,
}

/// The store. Cheap to clone.
#[derive(Clone)]
pub struct AdStore {
    inner: Arc<dyn ObjectStore>,
    describe: String,
}

impl std::fmt::Debug for AdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[error("segment store: {0}")]
pub struct StoreError(pub String);

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// Join store key parts, skipping empty ones.
pub fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

impl AdStore {
    /// Open the store at `location` (creates a local directory).
    pub fn open(location: &StoreLocation) -> Result<Self, StoreError> {
        match location {
            StoreLocation::Local(dir) => Self::local(dir),
            StoreLocation::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region.as_deref().unwrap_or("us-east-1"))
                    .with_allow_http(*allow_http);
                if let Some(e) = endpoint {
                    b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
                }
                if let (Some(k), Some(s)) = (access_key_id, secret_access_key) {
                    b = b.with_access_key_id(k).with_secret_access_key(s);
                }
                let s3 = b.build().map_err(err)?;
                let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix.as_str()))
                };
                Ok(Self {
                    inner,
                    describe: format!("s3://{bucket}/{prefix}"),
                })
            }
        }
    }

    /// A local directory (created if missing).
    pub fn local(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(err)?;
        Ok(Self {
            inner: Arc::new(fs),
            describe: dir.display().to_string(),
        })
    }

    /// Where it is, for logs.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// An object, `None` when absent.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = ObjectPath::parse(key).map_err(err)?;
        match self.inner.get(&path).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(err)?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Write an object.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        let path = ObjectPath::parse(key).map_err(err)?;
        self.inner
            .put(&path, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(err)
    }

    /// Upload every file under `dir` to `{key}/...`: media first, then playlists,
    /// so a reader that sees a playlist finds its segments. `index.json` is not
    /// written here (see [`AdStore::put_index`]).
    pub async fn put_dir(&self, key: &str, dir: &Path) -> Result<usize, StoreError> {
        let mut files = Vec::new();
        walk(dir, dir, &mut files).map_err(err)?;
        files.sort_by_key(|(rel, _)| {
            let playlist = rel.ends_with(".m3u8") || rel.ends_with(".mpd");
            (playlist, rel.matches('/').count() == 0, rel.clone())
        });
        for (rel, path) in &files {
            let bytes = tokio::fs::read(path).await.map_err(err)?;
            self.put(&join(&[key, rel]), Bytes::from(bytes)).await?;
        }
        Ok(files.len())
    }

    /// The index record of a folder, if it is complete.
    pub async fn get_index(&self, key: &str) -> Result<Option<Outputs>, StoreError> {
        match self.get(&join(&[key, INDEX])).await? {
            Some(b) => serde_json::from_slice(&b).map(Some).map_err(err),
            None => Ok(None),
        }
    }

    /// Mark a folder complete.
    pub async fn put_index(&self, outputs: &Outputs) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(outputs).map_err(err)?;
        self.put(&join(&[&outputs.key, INDEX]), Bytes::from(json))
            .await
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            // ffmpeg's own DASH manifests are scaffolding, not outputs.
            if !rel.ends_with("ffmpeg.mpd") {
                out.push((rel, path));
            }
        }
    }
    Ok(())
}

/// A key is safe to serve: relative, no dot segments, a plain character set.
pub fn is_safe_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(join(&["a/", "", "/b", "c.ts"]), "a/b/c.ts");
        assert!(is_safe_key("abc-1/0123abcd/hls/v0/seg00001.ts"));
        assert!(!is_safe_key("../etc/passwd"));
        assert!(!is_safe_key("a//b"));
        assert!(!is_safe_key("a/b?c"));
        assert!(!is_safe_key(""));
    }

    #[tokio::test]
    async fn local_round_trip() {
        let dir = std::env::temp_dir().join(format!("splicepoint-store-{}", std::process::id()));
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("hls/v0")).unwrap();
        std::fs::write(src.join("hls/v0/seg00000.ts"), b"ts").unwrap();
        std::fs::write(src.join("master.m3u8"), b"#EXTM3U\n").unwrap();
        let store = AdStore::local(&dir.join("store")).unwrap();
        assert_eq!(store.put_dir("c/p", &src).await.unwrap(), 2);
        assert_eq!(
            store.get("c/p/hls/v0/seg00000.ts").await.unwrap().unwrap(),
            "ts"
        );
        assert!(store.get("c/p/nope").await.unwrap().is_none());
        assert!(store.get_index("c/p").await.unwrap().is_none());
        let o = Outputs {
            key: "c/p".into(),
            hls: "c/p/master.m3u8".into(),
            dash: "c/p/manifest.mpd".into(),
            partial: false,
            renditions: vec!["v0".into()],
            remuxed: vec![],
            duration: 6.0,
        };
        store.put_index(&o).await.unwrap();
        assert_eq!(store.get_index("c/p").await.unwrap(), Some(o));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
