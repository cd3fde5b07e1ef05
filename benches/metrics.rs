//! What recording costs on the request path (issue #16): one observation of a
//! warm series (the label set already seen), and a scrape of a realistic
//! `/metrics` (10 configurations).
//!
//! Run: `cargo bench --bench metrics`.

use splicepoint::events::{kind, Metrics};

fn main() {
    divan::main();
}

fn warm() -> Metrics {
    let m = Metrics::default();
    for c in 0..10 {
        let config = format!("channel-{c}");
        for k in [
            kind::HLS_MASTER,
            kind::HLS_MEDIA,
            kind::DASH_MPD,
            kind::TRACKING,
        ] {
            m.request(k, 200, &config, 0.001);
        }
        m.origin_cache(&config, true);
        m.ads_decision(&config, "ok", 0.05);
        m.avail(&config, 30.0, 20.0);
        m.ads_skipped(&config, "NEW_CREATIVE", 1);
    }
    m.session_store("snapshot", 0.0001);
    m
}

/// A manifest request's duration, as the request middleware records it.
#[divan::bench]
fn request_observation(b: divan::Bencher) {
    let m = warm();
    b.bench(|| m.request(kind::HLS_MEDIA, 200, divan::black_box("channel-3"), 0.0012));
}

/// An origin cache lookup (a counter with the configuration label).
#[divan::bench]
fn counter_increment(b: divan::Bencher) {
    let m = warm();
    b.bench(|| m.origin_cache(divan::black_box("channel-3"), true));
}

/// A session store call's duration (a histogram with a static label).
#[divan::bench]
fn store_observation(b: divan::Bencher) {
    let m = warm();
    b.bench(|| m.session_store("snapshot", divan::black_box(0.0001)));
}

/// `/metrics` with 10 configurations' series.
#[divan::bench]
fn scrape(b: divan::Bencher) {
    let m = warm();
    b.bench(|| m.render(Some(1000), 0).len());
}
