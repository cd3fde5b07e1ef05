//! A decision's VAST responses, resolved as the ad decision does it: wrappers
//! followed (depth, loops, fan-out limits), pods ordered, tracking merged. The input
//! holds up to four documents separated by NUL bytes; every URL the resolver fetches
//! answers with one of them, chosen by the URL, so fuzzed wrappers always lead
//! somewhere. The resolver must finish: the in-memory ad server never waits.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use splicepoint::ads::resolve::{resolve_ads, FetchError, VastFetcher};

struct Docs<'a>(Vec<&'a str>);

impl VastFetcher for Docs<'_> {
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, FetchError>> + Send {
        let sum = url.bytes().fold(0usize, |a, b| {
            a.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        let doc = self.0[sum % self.0.len()].to_owned();
        std::future::ready(if doc.is_empty() {
            Err(FetchError::Status(404))
        } else {
            Ok(doc)
        })
    }
}

fuzz_target!(|text: &str| {
    let docs = Docs(text.split('\0').take(4).collect());
    let mut fut = pin!(resolve_ads(&docs, "https://ads.example.com/vast?sid=1"));
    let mut cx = Context::from_waker(Waker::noop());
    // Every fetch is ready at once: a resolver that is still pending after this many
    // polls is waiting for something that will never come.
    for _ in 0..1_000 {
        if let Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
            let _ = r;
            return;
        }
    }
    panic!("resolve_ads did not finish with every fetch ready");
});
