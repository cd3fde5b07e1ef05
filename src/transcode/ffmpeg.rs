//! Running ffmpeg and ffprobe as child processes (`tokio::process`; never linked).
//!
//! I/O. Every run has a deadline: past it the child is killed (`kill_on_drop`), and
//! a failed run keeps the tail of its stderr so the job's failure can be logged
//! with ffmpeg's own words.

use std::process::Stdio;
use std::time::Duration;

use thiserror::Error;
use tokio::process::Command;

/// How much of a failed run's stderr is kept (its end: where ffmpeg says why).
const STDERR_TAIL: usize = 4_000;

/// Why a run failed.
#[derive(Debug, Error)]
pub enum RunError {
    /// The program could not be started (not installed?).
    #[error("{program} could not be started: {reason}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        reason: String,
    },
    /// The deadline passed; the child was killed.
    #[error("{program} ran longer than {secs:.1} s and was killed")]
    Timeout {
        /// The program.
        program: String,
        /// The limit, seconds.
        secs: f64,
        /// The killed child's process id.
        pid: Option<u32>,
    },
    /// Non-zero exit.
    #[error("{program} exited with {status}: {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// Exit status as text.
        status: String,
        /// The end of its stderr.
        stderr: String,
    },
}

/// What a successful run printed.
#[derive(Debug)]
pub struct Output {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Run `program args...` with no stdin, killing it after `timeout`.
pub async fn run(program: &str, args: &[String], timeout: Duration) -> Result<Output, RunError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| RunError::Spawn {
        program: program.to_string(),
        reason: e.to_string(),
    })?;
    let pid = child.id();
    // Dropping the `wait_with_output` future on timeout drops the child, and
    // `kill_on_drop` sends it SIGKILL.
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(RunError::Timeout {
            program: program.to_string(),
            secs: timeout.as_secs_f64(),
            pid,
        }),
        Ok(Err(e)) => Err(RunError::Spawn {
            program: program.to_string(),
            reason: e.to_string(),
        }),
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            if out.status.success() {
                Ok(Output {
                    stdout: out.stdout,
                    stderr,
                })
            } else {
                Err(RunError::Failed {
                    program: program.to_string(),
                    status: out.status.to_string(),
                    stderr: tail(&stderr, STDERR_TAIL).to_string(),
                })
            }
        }
    }
}

/// The last `max` bytes of `s`, cut at a character boundary.
pub fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s.trim();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].trim()
}

/// Whether `ffmpeg` has the named encoder (`libfdk_aac`, `libx265`...).
pub async fn has_encoder(ffmpeg: &str, name: &str) -> bool {
    let args = ["-hide_banner", "-encoders"].map(String::from);
    match run(ffmpeg, &args, Duration::from_secs(10)).await {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(name)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_end_on_a_char_boundary() {
        assert_eq!(tail("abc", 10), "abc");
        assert_eq!(tail("aéz", 2), "z");
        assert_eq!(tail("xxxxEND", 3), "END");
    }
}
