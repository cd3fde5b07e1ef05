#!/usr/bin/env node
// Stand-in for `splicepoint demo`, used only to self-test the player harness
// (`./run.sh --self-test`). It mimics the documented behaviour of the real
// demo mode: same CLI, same stdout lines, same URL shapes, 2 s TS segments
// (H.264 25 fps + AAC), a 16 s ad break every --break-every seconds filled
// according to ?pod=single|two|timeout, and a VOD with pre-, mid- and
// post-roll. Media is generated once with ffmpeg into a temp folder.
//
// Usage: mock-splicepoint.mjs demo --listen 127.0.0.1:0 [--break-every SECS]
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const argv = process.argv.slice(2);
if (argv[0] !== 'demo') {
  console.error('usage: mock-splicepoint.mjs demo --listen 127.0.0.1:0 [--break-every SECS]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const listen = opt('--listen', '127.0.0.1:0');
const breakEvery = Number(opt('--break-every', '60'));
const SEG = 2;
const BREAK = 16;

// ---------------------------------------------------------------- media
const cacheDir = path.join(os.tmpdir(), 'splicepoint-mock-media-v1');
function gen(name, lavfiVideo, seconds) {
  const dir = path.join(cacheDir, name);
  if (fs.existsSync(path.join(dir, 'done'))) return;
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', lavfiVideo,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '64k', '-ac', '2',
    '-f', 'hls', '-hls_time', String(SEG), '-hls_list_size', '0',
    '-hls_segment_filename', path.join(dir, 's%d.ts'),
    path.join(dir, 'index.m3u8'),
  ], { stdio: 'inherit' });
  fs.writeFileSync(path.join(dir, 'done'), '');
}
const CONTENT_SEGS = 60;
gen('content', 'testsrc2=size=320x180:rate=25', CONTENT_SEGS * SEG);
gen('ad10', 'smptebars=size=320x180:rate=25', 10);
gen('ad6', 'rgbtestsrc=size=320x180:rate=25', 6);
gen('slate', 'color=c=0x404040:size=320x180:rate=25', 2);

// ---------------------------------------------------------------- timeline
// A "slot" is one 2 s segment. Each returns {uri, asset}.
const pods = {
  single: [['ad10', 5], ['slate', 3]],
  two: [['ad10', 5], ['ad6', 3]],
  timeout: [['slate', 8]],
};
function podSlots(pod) {
  const out = [];
  for (const [asset, n] of pods[pod] || pods.two) {
    for (let i = 0; i < n; i++) {
      const file = asset === 'slate' ? 's0.ts' : `s${i}.ts`;
      const dir = asset === 'slate' ? '/demo/media/slate' : `/demo/media/ads/${asset}`;
      // every repetition of the slate is its own asset instance
      out.push({ uri: `${dir}/${file}`, asset: asset === 'slate' ? `slate#${i}` : asset });
    }
  }
  return out;
}
const breakSlots = BREAK / SEG;
const cycleSlots = Math.max(breakEvery / SEG, breakSlots + 1);
function liveSlot(k, pod) {
  const p = k % cycleSlots;
  const contentSlots = cycleSlots - breakSlots;
  if (p < contentSlots) {
    const c = k % CONTENT_SEGS;
    return { uri: `/demo/origin/live/s${c}.ts`, asset: `content@${Math.floor(k / CONTENT_SEGS)}`, contentIdx: c };
  }
  return podSlots(pod)[p - contentSlots];
}
function needsDisc(prev, cur) {
  if (!prev) return false;
  if (prev.asset !== cur.asset) return true;
  // content that does not continue (break skipped over it) is discontinuous
  if (cur.contentIdx !== undefined && prev.contentIdx !== undefined) return cur.contentIdx !== prev.contentIdx + 1;
  return false;
}
const t0 = Date.now() - 40 * 1000; // pretend the channel started 40 s ago
const WINDOW = 6;

function livePlaylist(pod) {
  const now = Math.floor((Date.now() - t0) / 1000 / SEG); // newest complete segment
  const first = Math.max(0, now - WINDOW + 1);
  let dsn = 0;
  for (let k = 1; k < first; k++) if (needsDisc(liveSlot(k - 1, pod), liveSlot(k, pod))) dsn++;
  // the tag on `first` itself is dropped when it is the first line: count it too
  if (first > 0 && needsDisc(liveSlot(first - 1, pod), liveSlot(first, pod))) dsn++;
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${SEG}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${dsn}`];
  for (let k = first; k <= now; k++) {
    const cur = liveSlot(k, pod);
    if (k > first && needsDisc(liveSlot(k - 1, pod), cur)) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${SEG}.000,`, cur.uri);
  }
  return lines.join('\n') + '\n';
}
function vodPlaylist(pod) {
  const slots = [...podSlots(pod)];
  for (let c = 0; c < 15; c++) slots.push({ uri: `/demo/origin/vod/s${c}.ts`, asset: 'content', contentIdx: c });
  slots.push(...podSlots(pod));
  for (let c = 15; c < 30; c++) slots.push({ uri: `/demo/origin/vod/s${c}.ts`, asset: 'content', contentIdx: c });
  slots.push(...podSlots(pod));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${SEG}`,
    '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MEDIA-SEQUENCE:0'];
  slots.forEach((s, i) => {
    if (i > 0 && needsDisc(slots[i - 1], s)) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${SEG}.000,`, s.uri);
  });
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
const master = (kind, q) => ['#EXTM3U',
  '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180,CODECS="avc1.640016,mp4a.40.2"',
  `/v1/media/demo-${kind}/${kind}/media.m3u8${q}`, ''].join('\n');

// ---------------------------------------------------------------- server
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const send = (code, type, body) => {
    res.writeHead(code, { 'content-type': type, 'access-control-allow-origin': '*', 'cache-control': 'no-cache' });
    res.end(body);
  };
  const pod = u.searchParams.get('pod') || 'two';
  let m;
  if ((m = u.pathname.match(/^\/v1\/master\/demo-(live|vod)\/\1\/master\.m3u8$/))) {
    return send(200, 'application/vnd.apple.mpegurl', master(m[1], u.search));
  }
  if (u.pathname === '/v1/media/demo-live/live/media.m3u8') {
    return send(200, 'application/vnd.apple.mpegurl', livePlaylist(pod));
  }
  if (u.pathname === '/v1/media/demo-vod/vod/media.m3u8') {
    const delay = pod === 'timeout' ? 0 : 0;
    return setTimeout(() => send(200, 'application/vnd.apple.mpegurl', vodPlaylist(pod)), delay);
  }
  let file = null;
  if ((m = u.pathname.match(/^\/demo\/origin\/(?:live|vod)\/(s\d+\.ts)$/))) file = path.join(cacheDir, 'content', m[1]);
  else if ((m = u.pathname.match(/^\/demo\/media\/ads\/(ad10|ad6)\/(s\d+\.ts)$/))) file = path.join(cacheDir, m[1], m[2]);
  else if ((m = u.pathname.match(/^\/demo\/media\/slate\/(s0\.ts)$/))) file = path.join(cacheDir, 'slate', m[1]);
  if (file && fs.existsSync(file)) return send(200, 'video/mp2t', fs.readFileSync(file));
  send(404, 'text/plain', 'not found\n');
});
const [host, port] = listen.split(':');
server.listen(Number(port), host, () => {
  const base = `http://${host}:${server.address().port}`;
  process.stdout.write(`hls-live ${base}/v1/master/demo-live/live/master.m3u8\n`);
  process.stdout.write(`hls-vod ${base}/v1/master/demo-vod/vod/master.m3u8\n`);
  process.stdout.write(`dash-live ${base}/v1/dash/demo-live/live/manifest.mpd\n`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
