#!/usr/bin/env node
// Stand-in for `splicepoint demo`, used only to self-test the player harness
// (`./run.sh --self-test`). It mimics the documented behaviour of the real
// demo mode: same CLI, same stdout lines, same URL shapes, 2 s TS segments
// (H.264 25 fps + AAC), a 16 s ad break every --break-every seconds filled
// according to ?pod=single|two|timeout, and a VOD with pre-, mid- and
// post-roll. DASH the same way: 2 s CMAF segments, one Period per 60 s
// content loop split around its breaks (ad, slate and resume Periods named
// as splicepoint names them), a static MPD with pre-, mid- and post-roll.
// Media is generated once with ffmpeg into a temp folder.
//
// Usage: mock-splicepoint.mjs demo --listen 127.0.0.1:0 [--break-every SECS]
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

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

// DASH: separate video (rep "0") and audio (rep "1") AdaptationSets
function genDash(name, lavfiVideo, seconds) {
  const dir = path.join(cacheDir, `dash-${name}`);
  if (!fs.existsSync(path.join(dir, 'done'))) {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('ffmpeg', [
      '-v', 'error', '-y',
      '-f', 'lavfi', '-i', lavfiVideo,
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds), '-map', '0:v', '-map', '1:a',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-bf', '0',
      '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', '64k', '-ac', '1', '-ar', '48000',
      '-f', 'dash', '-seg_duration', String(SEG), '-use_template', '1', '-use_timeline', '0',
      '-adaptation_sets', 'id=0,streams=v id=1,streams=a',
      '-init_seg_name', 'init-$RepresentationID$.m4s', '-media_seg_name', 'seg-$RepresentationID$-$Number$.m4s',
      path.join(dir, 'manifest.mpd'),
    ], { stdio: 'inherit' });
    fs.writeFileSync(path.join(dir, 'done'), '');
  }
  const mpd = fs.readFileSync(path.join(dir, 'manifest.mpd'), 'utf8');
  const codecs = [...mpd.matchAll(/codecs="([^"]+)"/g)].map((m) => m[1]);
  return { video: codecs[0], audio: codecs[1] };
}
const DASH_LOOP = 60;
const dashCodecs = genDash('content', 'testsrc2=size=320x180:rate=25', DASH_LOOP);
genDash('ad10', 'smptebars=size=320x180:rate=25', 10);
genDash('ad6', 'rgbtestsrc=size=320x180:rate=25', 6);
genDash('slate', 'color=c=0x404040:size=320x180:rate=25', 2);

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

// ---------------------------------------------------------------- DASH
// A piece is one Period: {id, start, dur (null: open), kind, asset, from (content seconds)}
const TS = 1000000; // ffmpeg's dash muxer timescale
function adaptationSets(fromSec) {
  const number = Math.round(fromSec / SEG) + 1;
  const tmpl = (rep) => `<SegmentTemplate timescale="${TS}" duration="${SEG * TS}" startNumber="${number}"` +
    `${fromSec ? ` presentationTimeOffset="${Math.round(fromSec * TS)}"` : ''} initialization="init-$RepresentationID$.m4s" media="seg-$RepresentationID$-$Number$.m4s"/>`;
  return `
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" frameRate="25" maxWidth="320" maxHeight="180">
      ${tmpl('0')}
      <Representation id="0" codecs="${dashCodecs.video}" bandwidth="300000" width="320" height="180"/>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1">
      ${tmpl('1')}
      <Representation id="1" codecs="${dashCodecs.audio}" bandwidth="64000" audioSamplingRate="48000"/>
    </AdaptationSet>`;
}
const DASH_PODS = { single: [['ad10', 10], ['slate', 2], ['slate', 2], ['slate', 2]], two: [['ad10', 10], ['ad6', 6]],
  timeout: Array.from({ length: 8 }, () => ['slate', 2]) };
function breakPieces(base, event, start, pod) {
  const out = [];
  let at = start, ad = 0, slate = 0;
  for (const [asset, dur] of DASH_PODS[pod] || DASH_PODS.two) {
    const kind = asset === 'slate' ? 'slate' : 'ad';
    out.push({ id: `${base}-${base}-${event}-${kind === 'ad' ? `ad${ad++}` : `slate${slate++}`}`, start: at, dur, kind, asset });
    at += dur;
  }
  return out;
}
// the pieces of live content loop k: content, then each break and its resume
function loopPieces(k, pod) {
  const base = `p${k}`, t = k * DASH_LOOP, out = [];
  let from = 0, id = base, j = 0;
  for (let at = 3 * SEG; at + BREAK <= DASH_LOOP; at += Math.max(breakEvery, BREAK + 2 * SEG), j++) {
    out.push({ id, start: t + from, dur: at - from, kind: 'content', from });
    out.push(...breakPieces(base, k * 100 + j, t + at, pod));
    from = at + BREAK;
    id = `${base}-${base}-${k * 100 + j}-resume`;
  }
  out.push({ id, start: t + from, dur: DASH_LOOP - from, kind: 'content', from });
  return out;
}
function periodXml(p, host) {
  const dur = p.dur == null ? '' : ` duration="PT${p.dur}S"`;
  const baseUrl = p.kind === 'content' ? '' : p.kind === 'slate' ? `\n    <BaseURL>${host}/demo/media/dash/slate/</BaseURL>`
    : `\n    <BaseURL>${host}/demo/media/dash/ads/${p.asset}/</BaseURL>`;
  return `\n  <Period id="${p.id}" start="PT${p.start}S"${dur}>${baseUrl}${adaptationSets(p.kind === 'content' ? p.from : 0)}\n  </Period>`;
}
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
function dashLive(host, sid, pod) {
  const elapsed = (Date.now() - t0) / 1000;
  const tsb = 40;
  const pieces = [];
  // every Period (a break's, the next loop's) is published 4 s before it starts;
  // until then the content Period before it runs on (open-ended)
  for (let k = Math.max(0, Math.floor((elapsed - tsb) / DASH_LOOP)); k <= Math.floor((elapsed + 4) / DASH_LOOP); k++) pieces.push(...loopPieces(k, pod));
  const shown = pieces.filter((p) => p.start <= elapsed + 4 && p.start + (p.dur ?? 0) >= elapsed - tsb);
  const last = shown[shown.length - 1];
  if (last && last.kind === 'content') last.dur = null;
  return `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="${iso(t0)}" publishTime="${iso(Date.now())}" minimumUpdatePeriod="PT2S" minBufferTime="PT4S" timeShiftBufferDepth="PT${tsb}S" maxSegmentDuration="PT2S" suggestedPresentationDelay="PT8S">
  <BaseURL>${host}/demo/origin/dash/live/</BaseURL>
  <Location>/v1/dash/demo-live/${sid}/dash/live/manifest.mpd</Location>${shown.map((p) => periodXml(p, host)).join('')}
</MPD>
`;
}
function dashVod(host, pod) {
  const pieces = [];
  let at = 0;
  const brk = (e) => { const b = breakPieces('vod', e, at, pod); pieces.push(...b); at += b.reduce((s, p) => s + p.dur, 0); };
  brk(0);
  pieces.push({ id: 'vod', start: at, dur: 30, kind: 'content', from: 0 }); at += 30;
  brk(1);
  pieces.push({ id: 'vod-vod-1-resume', start: at, dur: 30, kind: 'content', from: 30 }); at += 30;
  brk(2);
  return `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT${at}S" minBufferTime="PT4S">
  <BaseURL>${host}/demo/origin/dash/vod/</BaseURL>${pieces.map((p) => periodXml(p, host)).join('')}
</MPD>
`;
}
const dashSessions = new Map(); // sid -> pod

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
  if ((m = u.pathname.match(/^\/v1\/dash\/demo-(live|vod)\/dash\/\1\/manifest\.mpd$/))) {
    const sid = crypto.randomBytes(16).toString('hex');
    dashSessions.set(sid, pod);
    res.writeHead(302, { location: `/v1/dash/demo-${m[1]}/${sid}/dash/${m[1]}/manifest.mpd`, 'access-control-allow-origin': '*', 'cache-control': 'no-store' });
    return res.end();
  }
  if ((m = u.pathname.match(/^\/v1\/dash\/demo-(live|vod)\/([0-9a-f]+)\/dash\/\1\/manifest\.mpd$/)) && dashSessions.has(m[2])) {
    const host = `http://${req.headers.host}`;
    const spod = dashSessions.get(m[2]);
    return send(200, 'application/dash+xml', m[1] === 'live' ? dashLive(host, m[2], spod) : dashVod(host, spod));
  }
  let file = null;
  if ((m = u.pathname.match(/^\/demo\/origin\/dash\/(?:live|vod)\/((?:init|seg)-[01](?:-\d+)?\.m4s)$/))) file = path.join(cacheDir, 'dash-content', m[1]);
  else if ((m = u.pathname.match(/^\/demo\/media\/dash\/ads\/(ad10|ad6)\/((?:init|seg)-[01](?:-\d+)?\.m4s)$/))) file = path.join(cacheDir, `dash-${m[1]}`, m[2]);
  else if ((m = u.pathname.match(/^\/demo\/media\/dash\/slate\/((?:init|seg)-[01](?:-\d+)?\.m4s)$/))) file = path.join(cacheDir, 'dash-slate', m[1]);
  if (file && fs.existsSync(file)) return send(200, m[0].includes('/init-') ? 'video/mp4' : 'video/iso.segment', fs.readFileSync(file));
  file = null;
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
  process.stdout.write(`dash-live ${base}/v1/dash/demo-live/dash/live/manifest.mpd\n`);
  process.stdout.write(`dash-vod ${base}/v1/dash/demo-vod/dash/vod/manifest.mpd\n`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
