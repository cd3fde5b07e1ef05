//! A real Redis for tests: `redis-server` on a free 127.0.0.1 port, no
//! persistence, killed when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether `redis-server` is installed. When it is not: `false`, with a message
/// saying the test was skipped, unless `SPLICEPOINT_REQUIRE_REDIS` is set
/// (scripts/test sets it after installing Redis): then its absence fails.
pub fn installed() -> bool {
    if Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var_os("SPLICEPOINT_REQUIRE_REDIS").is_none(),
        "redis-server is required (scripts/install-deps installs it)"
    );
    eprintln!("SKIPPED: redis-server is not installed (scripts/install-deps installs it)");
    false
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `redis-server`.
pub struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:{port}`.
    pub url: String,
}

impl RedisServer {
    /// Start one. `None`, with a message saying the test was skipped, when
    /// `redis-server` is not installed, unless `SPLICEPOINT_REQUIRE_REDIS` is set
    /// (scripts/test sets it after installing Redis): then its absence fails.
    pub fn start() -> Option<Self> {
        if !installed() {
            return None;
        }
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let server = Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if ping(port) {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {port} did not answer PING within 5 s");
    }

    /// `n` stores on it, as `n` instances would have (one key prefix).
    #[allow(dead_code)] // not every test file that includes this module uses it
    pub async fn stores(
        &self,
        n: usize,
    ) -> Vec<std::sync::Arc<dyn splicepoint::session::SessionStore>> {
        let mut out: Vec<std::sync::Arc<dyn splicepoint::session::SessionStore>> = Vec::new();
        for _ in 0..n {
            let store = splicepoint::session::RedisStore::connect(&self.url, "splicepoint:s:")
                .await
                .expect("connect to the test Redis");
            out.push(std::sync::Arc::new(store));
        }
        out
    }

    /// Stop it now (an outage).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok()
        && s.read(&mut buf)
            .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
}
