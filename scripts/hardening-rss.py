"""RSS under the memory attacks of issue #13 (README, Operations).

Usage: python3 scripts/hardening-rss.py target/debug/splicepoint [allow_cb]
(allow_cb: the channel names `cb` in origin_query_params, so every ?cb=N is a
new origin cache entry and only the byte budget bounds them). Needs nothing but
Python 3; starts its own origin and the binary on free 127.0.0.1 ports."""
import http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler

binary = sys.argv[1]
allow_cb = len(sys.argv) > 2 and sys.argv[2] == "allow_cb"
root = tempfile.mkdtemp()
lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-MEDIA-SEQUENCE:0"]
for i in range(3500):
    lines += ["#EXTINF:6.000,", f"segments/rendition-1080p-avc1.640028/segment-{i:08}-of-the-long-vod-asset.ts"]
lines.append("#EXT-X-ENDLIST")
open(f"{root}/big.m3u8", "w").write("\n".join(lines) + "\n")
open(f"{root}/small.m3u8", "w").write("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\na.ts\n#EXT-X-ENDLIST\n")
print("playlist bytes", os.path.getsize(f"{root}/big.m3u8"))

class Quiet(SimpleHTTPRequestHandler):
    def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
    def log_message(self, *a): pass
origin = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
threading.Thread(target=origin.serve_forever, daemon=True).start()
op = origin.server_address[1]
cfg = tempfile.mkdtemp()
extra = 'origin_query_params = ["cb"]\n' if allow_cb else ""
open(f"{cfg}/ch.toml", "w").write(f'origin = "http://127.0.0.1:{op}/"\nads_url = "http://127.0.0.1:{op}/vast"\n{extra}')
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--config-dir", cfg],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     env={**os.environ, "SPLICEPOINT_LOG": "error"})
def rss():
    for l in open(f"/proc/{p.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) * 1024
conn = None
def req(method, path, body=None):
    global conn
    for _ in range(2):
        try:
            if conn is None: conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            h = {"content-type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse(); data = r.read()
            return r.status, r.getheader("location"), data
        except (ConnectionError, http.client.HTTPException, OSError):
            conn = None
    raise RuntimeError("no answer")
for _ in range(100):
    try:
        if req("GET", "/healthz")[0] == 200: break
    except Exception: time.sleep(0.1)
try:
    mb = lambda b: f"{b/1048576:.1f} MB"
    base = rss(); print("RSS at start", mb(base))
    st, loc, _ = req("GET", "/v1/master/ch/big.m3u8")
    assert st == 302, st
    codes = {}
    for n in range(80):
        st, _, _ = req("GET", f"{loc}?cb={n}")
        codes[st] = codes.get(st, 0) + 1
    time.sleep(1)
    a1 = rss(); print(f"attack 1 (80 x ?cb=N, 330 KB playlist): {codes} RSS {mb(base)} -> {mb(a1)} (+{mb(a1-base)})")
    big = json.dumps({"playerParams": {f"p{i}": "x" * 1000 for i in range(60)}})
    codes = {}
    for n in range(2000):
        st, _, _ = req("POST", "/v1/session/ch/small.m3u8", big)
        codes[st] = codes.get(st, 0) + 1
    a2 = rss(); print(f"attack 2 (2,000 sessions, 60 x 1,000-char params): {codes} RSS {mb(a1)} -> {mb(a2)} (+{mb(a2-a1)})")
    typical = json.dumps({"playerParams": {"deviceType": "ios", "pod": "two", "gdpr": "1", "consent": "CPc7TgAPc7TgAAGABCENC"}})
    N = 20000
    for n in range(N):
        st, _, _ = req("POST", "/v1/session/ch/small.m3u8", typical)
        assert st == 200, st
    a3 = rss(); print(f"typical idle sessions: {N} sessions RSS +{mb(a3-a2)} = {(a3-a2)/N:.0f} B per session")
finally:
    p.kill()
    p.wait()
    origin.shutdown()
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(cfg, ignore_errors=True)
