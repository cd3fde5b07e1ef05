//! One transcoding job: fetch the creative, probe it, measure its loudness, plan,
//! run ffmpeg, package for HLS and DASH, upload to the segment store.
//!
//! I/O. The fast path (remuxed renditions) runs under the light semaphore and is
//! published on its own (`fast.m3u8`, `fast.mpd`) as soon as it is made; the
//! encodes then wait for a slot of the bounded pool. Every ffmpeg run gets what is
//! left of the job's deadline and is killed past it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Semaphore};

use super::ffmpeg::{has_encoder, run};
use super::input::{sniff_container, REFUSED};
use super::plan::{
    audio_args, dash_args, encode_video_args, hls_args, plan_job, remux_video_args, write_mpd,
    write_multivariant, Plan, PlannedRendition, DASH_DIR,
};
use super::probe::{measure_loudness, probe_file};
use super::profile::{Rendition, TargetProfile};
use super::store::{join, AdStore, Outputs};

/// What to make.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The creative: an http(s) URL, or (CLI only) a local path or `file://` URL.
    pub source: String,
    /// The target.
    pub profile: Arc<TargetProfile>,
    /// Loudness target, LKFS (`None`: normalisation off).
    pub loudness_target: Option<f64>,
    /// The output folder in the store (`{creative}/{profile}`; may be empty).
    pub key: String,
}

/// The tools and limits.
#[derive(Debug, Clone)]
pub struct Tools {
    /// ffmpeg program.
    pub ffmpeg: String,
    /// ffprobe program.
    pub ffprobe: String,
    /// x264/x265 preset.
    pub preset: String,
    /// Largest creative fetched, bytes.
    pub max_source_bytes: u64,
}

/// Where a job is; watched by every decision waiting for it.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Waiting for a slot.
    Queued,
    /// Fetching and probing the creative.
    Probing,
    /// Planned and running; `fast_path`: a remuxed subset will be published first.
    Encoding {
        /// Whether any rendition takes the fast path.
        fast_path: bool,
    },
    /// The fast-path renditions are stored and playable.
    FastReady(Arc<Outputs>),
    /// Every rendition is stored.
    Ready(Arc<Outputs>),
    /// The job failed (the reason, for logs).
    Failed(Arc<str>),
}

/// What a job runs with.
pub struct JobCtx<'a> {
    /// Tools.
    pub tools: &'a Tools,
    /// For http(s) creatives.
    pub http: &'a reqwest::Client,
    /// Where outputs go.
    pub store: &'a AdStore,
    /// Probe and fast path.
    pub light: &'a Semaphore,
    /// Encodes: the bounded pool.
    pub heavy: &'a Semaphore,
    /// Past this, ffmpeg is killed and the job fails.
    pub deadline: Instant,
    /// Scratch folder (removed by the caller).
    pub work: PathBuf,
    /// Progress reports.
    pub progress: &'a watch::Sender<Progress>,
}

impl JobCtx<'_> {
    fn left(&self) -> Result<Duration, String> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(50) {
            return Err("job timeout".into());
        }
        Ok(left)
    }

    async fn ffmpeg(&self, args: &[String]) -> Result<(), String> {
        run(&self.tools.ffmpeg, args, self.left()?)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Run a job to the end. Returns the complete outputs (also recorded in the
/// store's `index.json`).
pub async fn run_job(spec: &JobSpec, ctx: &JobCtx<'_>) -> Result<Outputs, String> {
    let light = ctx.light.acquire().await.map_err(|e| e.to_string())?;
    ctx.progress.send_replace(Progress::Probing);
    if let Ok(Some(done)) = ctx.store.get_index(&spec.key).await {
        return Ok(done); // made by another instance, or before a restart
    }
    std::fs::create_dir_all(&ctx.work).map_err(|e| format!("work folder: {e}"))?;
    let source = fetch_source(spec, ctx).await?;
    check_container(&source)?;
    let info = probe_file(&ctx.tools.ffprobe, &source, ctx.left()?)
        .await
        .map_err(|e| format!("probing the creative: {e}"))?;
    let loudness = match (spec.loudness_target, &info.audio) {
        (Some(_), Some(_)) => Some(
            measure_loudness(&ctx.tools.ffmpeg, &source, ctx.left()?)
                .await
                .map_err(|e| format!("measuring loudness: {e}"))?,
        ),
        _ => None,
    };
    let has_fdk = has_encoder(&ctx.tools.ffmpeg, "libfdk_aac").await;
    let plan = plan_job(
        &info,
        &spec.profile,
        loudness,
        spec.loudness_target,
        has_fdk,
    )
    .map_err(|e| e.to_string())?;
    ctx.progress.send_replace(Progress::Encoding {
        fast_path: plan.has_fast_path(),
    });
    let src = path_str(&source);
    let audio = match &plan.audio {
        Some(a) => {
            let out = ctx.work.join("audio.m4a");
            ctx.ffmpeg(&audio_args(&src, a, plan.duration, &path_str(&out)))
                .await?;
            Some(out)
        }
        None => None,
    };
    let (fast, rest): (Vec<&PlannedRendition>, Vec<&PlannedRendition>) =
        plan.renditions.iter().partition(|r| r.remux);
    let all: Vec<&Rendition> = plan.renditions.iter().map(|r| &r.rendition).collect();
    let audio_target = spec.profile.audio.as_ref();
    let mut audio_packaged = false;
    let mut remuxed = Vec::new();
    if !fast.is_empty() {
        let out = ctx.work.join("out-fast");
        for r in &fast {
            let video = ctx.work.join(format!("video-{}.mp4", r.rendition.name));
            ctx.ffmpeg(&remux_video_args(&src, &path_str(&video), plan.duration))
                .await?;
            package(
                ctx,
                &plan,
                &r.rendition.name,
                &video,
                audio.as_deref(),
                &out,
            )
            .await?;
            remuxed.push(r.rendition.name.clone());
        }
        package_audio(ctx, &plan, audio.as_deref(), &out).await?;
        audio_packaged = true;
        if !rest.is_empty() {
            let subset: Vec<&Rendition> = fast.iter().map(|r| &r.rendition).collect();
            std::fs::write(
                out.join("fast.m3u8"),
                write_multivariant(&subset, audio_target, plan.container),
            )
            .map_err(|e| e.to_string())?;
            std::fs::write(
                out.join("fast.mpd"),
                write_mpd(&subset, audio_target, &plan),
            )
            .map_err(|e| e.to_string())?;
        }
        ctx.store
            .put_dir(&spec.key, &out)
            .await
            .map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            let partial = Outputs {
                key: spec.key.clone(),
                hls: join(&[&spec.key, "fast.m3u8"]),
                dash: join(&[&spec.key, "fast.mpd"]),
                partial: true,
                renditions: remuxed.clone(),
                remuxed: remuxed.clone(),
                duration: plan.duration,
            };
            ctx.progress
                .send_replace(Progress::FastReady(Arc::new(partial)));
        }
    }
    drop(light);
    let out = ctx.work.join("out-full");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        let _slot = ctx.heavy.acquire().await.map_err(|e| e.to_string())?;
        let outputs: Vec<(&PlannedRendition, String)> = rest
            .iter()
            .map(|r| {
                let p = ctx.work.join(format!("video-{}.mp4", r.rendition.name));
                (*r, path_str(&p))
            })
            .collect();
        ctx.ffmpeg(&encode_video_args(&src, &outputs, &plan, &ctx.tools.preset))
            .await?;
        for (r, video) in &outputs {
            package(
                ctx,
                &plan,
                &r.rendition.name,
                Path::new(video),
                audio.as_deref(),
                &out,
            )
            .await?;
        }
    }
    if !audio_packaged {
        package_audio(ctx, &plan, audio.as_deref(), &out).await?;
    }
    std::fs::write(
        out.join("master.m3u8"),
        write_multivariant(&all, audio_target, plan.container),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        out.join("manifest.mpd"),
        write_mpd(&all, audio_target, &plan),
    )
    .map_err(|e| e.to_string())?;
    ctx.store
        .put_dir(&spec.key, &out)
        .await
        .map_err(|e| e.to_string())?;
    let done = Outputs {
        key: spec.key.clone(),
        hls: join(&[&spec.key, "master.m3u8"]),
        dash: join(&[&spec.key, "manifest.mpd"]),
        partial: false,
        renditions: all.iter().map(|r| r.name.clone()).collect(),
        remuxed,
        duration: plan.duration,
    };
    ctx.store
        .put_index(&done)
        .await
        .map_err(|e| e.to_string())?;
    Ok(done)
}

/// HLS segments + media playlist and DASH video segments of one rendition.
async fn package(
    ctx: &JobCtx<'_>,
    plan: &Plan,
    name: &str,
    video: &Path,
    audio: Option<&Path>,
    out: &Path,
) -> Result<(), String> {
    let hls = out.join("hls").join(name);
    let dash = out.join(DASH_DIR).join(name);
    for d in [&hls, &dash] {
        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let audio = audio.map(path_str);
    ctx.ffmpeg(&hls_args(
        &path_str(video),
        audio.as_deref(),
        plan,
        &path_str(&hls),
    ))
    .await?;
    ctx.ffmpeg(&dash_args(&path_str(video), plan, &path_str(&dash)))
        .await
}

async fn package_audio(
    ctx: &JobCtx<'_>,
    plan: &Plan,
    audio: Option<&Path>,
    out: &Path,
) -> Result<(), String> {
    let Some(audio) = audio else { return Ok(()) };
    let dir = out.join(DASH_DIR).join("a0");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    ctx.ffmpeg(&dash_args(&path_str(audio), plan, &path_str(&dir)))
        .await
}

/// Refuse a file whose first bytes are not a container a creative may be (see
/// [`super::input`]): the reason starts with [`REFUSED`].
fn check_container(path: &Path) -> Result<(), String> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(400);
    std::fs::File::open(path)
        .and_then(|f| f.take(400).read_to_end(&mut head))
        .map_err(|e| format!("reading the creative: {e}"))?;
    match sniff_container(&head) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{REFUSED}not a media file of a container we transcode (MP4/MOV, MPEG-TS, \
             Matroska/WebM, MXF); it starts {:?}",
            String::from_utf8_lossy(&head[..head.len().min(16)])
        )),
    }
}

/// The creative as a local file: downloaded (http/https, size-capped) or as given.
async fn fetch_source(spec: &JobSpec, ctx: &JobCtx<'_>) -> Result<PathBuf, String> {
    let src = spec.source.as_str();
    if !(src.starts_with("http://") || src.starts_with("https://")) {
        let path = PathBuf::from(src.strip_prefix("file://").unwrap_or(src));
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{src}: no such file"))
        };
    }
    let dest = ctx.work.join("source");
    let max = ctx.tools.max_source_bytes;
    let work = async {
        // Parsed here, with the host-length cap, rather than by reqwest.
        let url = crate::urls::parse(src).map_err(|e| format!("{src}: {e}"))?;
        let mut resp = ctx.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP status {}", resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|l| l > max) {
            return Err(format!("larger than {max} bytes"));
        }
        let mut file = std::fs::File::create(&dest).map_err(|e| e.to_string())?;
        let mut total = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            total += chunk.len() as u64;
            if total > max {
                return Err(format!("larger than {max} bytes"));
            }
            std::io::Write::write_all(&mut file, &chunk).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    match tokio::time::timeout(ctx.left()?, work).await {
        Ok(Ok(())) => Ok(dest),
        Ok(Err(e)) => Err(format!("fetching the creative {src}: {e}")),
        Err(_) => Err(format!("fetching the creative {src}: job timeout")),
    }
}
