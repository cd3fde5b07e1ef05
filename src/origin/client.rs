//! One bounded HTTP GET: timeout, size cap, status mapping.

use std::time::Duration;

use thiserror::Error;

/// Why a fetch failed.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum FetchFailure {
    /// No complete answer within the timeout.
    #[error("timed out")]
    Timeout,
    /// The server answered with a non-success status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// Connection or protocol failure.
    #[error("transport: {0}")]
    Transport(String),
    /// The body is larger than allowed.
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not UTF-8 text.
    #[error("body is not UTF-8 text")]
    NotText,
}

/// GET `url` as text, within `timeout` (whole request, body included) and
/// `max_bytes`.
pub async fn fetch_text(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    max_bytes: usize,
    headers: &[(&str, &str)],
) -> Result<String, FetchFailure> {
    let work = async {
        let mut req = http.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = req.send().await.map_err(map_reqwest)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchFailure::Status(status.as_u16()));
        }
        if resp.content_length().is_some_and(|l| l > max_bytes as u64) {
            return Err(FetchFailure::TooLarge(max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(map_reqwest)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchFailure::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| FetchFailure::NotText)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(FetchFailure::Timeout),
    }
}

fn map_reqwest(e: reqwest::Error) -> FetchFailure {
    if e.is_timeout() {
        FetchFailure::Timeout
    } else {
        // Without the URL: the message may reach a player.
        FetchFailure::Transport(e.without_url().to_string())
    }
}

/// The HTTP client every fetch shares: rustls, no redirects to other schemes, a
/// connect timeout.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            // A redirect never moves a fetch to another internal host (an ADS or
            // origin steering us at this network's services).
            let first = attempt.previous().first().cloned();
            if attempt.previous().len() >= 3 {
                attempt.error("more than 3 redirects")
            } else if first.is_some_and(|f| !super::internal::may_redirect(&f, attempt.url())) {
                attempt.error("redirect to an internal host refused")
            } else {
                attempt.follow()
            }
        }))
        .user_agent(concat!("splicepoint/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}
