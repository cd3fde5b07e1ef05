#!/usr/bin/env node
// Real-player conformance suite for splicepoint (HLS in hls.js, DASH in
// dash.js and Shaka Player). See README.md.
//
//   node run.mjs [--only ID[,ID]] [--players NAME[,NAME]] [--concurrency N]
//                [--fault NAME] [--no-fault] [--no-ffmpeg]
//                [--self-test] [--out DIR]
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { PLAYERS } from './players.mjs';
import { SCENARIOS, FAULT_RUNS, BREAK_EVERY } from './scenarios.mjs';
import { checkConformance } from './lib/conformance.mjs';
import { category, assetKey, isManifestResponse, looksLikeSegment, FAULTS, FAULT_CAUGHT_BY, FAULT_APPLIES, FAULT_EDITS } from './lib/media.mjs';
import { analyseSamples, breakRuns, runMatches, describeRun, ccCheck, playedPeriods, periodWalk, periodBreaks, segmentPeriods,
  prerollPlay, prerollMatches, describePreroll, periodPreroll, periodBreakOf, PREROLL_CONTENT_SEC,
  FPS, FRAME_TOLERANCE, MAX_HOLE_SEC, MAX_STALL_SEC } from './lib/checks.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SUITE_BUDGET_SEC = 9 * 60 + 30; // whole suite, including startup
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];
const POST_BREAK_CONTENT_SEC = 4; // live: content to play after the break before stopping
const MAX_MANIFEST_MS = 2000; // one target duration
const HOPELESS_STALL_SEC = 15; // stop a run early when currentTime stood still this long (already a FAIL)
const MPD_POLL_MS = 250; // DASH live: the harness's own polls of the session MPD

// ---------------------------------------------------------------- args
function parseArgs(argv) {
  const a = { only: null, players: null, concurrency: 2, fault: null, noFault: false, noFfmpeg: false, selfTest: false, out: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) usage(`${k} needs a value`); return argv[++i]; };
    if (k === '--only') a.only = v().split(',');
    else if (k === '--players') a.players = v().split(',');
    else if (k === '--concurrency') a.concurrency = Math.max(1, Number(v()) || 1);
    else if (k === '--fault') a.fault = v();
    else if (k === '--no-fault') a.noFault = true;
    else if (k === '--no-ffmpeg') a.noFfmpeg = true;
    else if (k === '--self-test') a.selfTest = true;
    else if (k === '--out') a.out = v();
    else if (k === '-h' || k === '--help') usage();
    else usage(`unknown argument ${k}`);
  }
  if (a.fault && !FAULTS[a.fault]) usage(`unknown fault ${a.fault} (known: ${Object.keys(FAULTS).join(', ')})`);
  return a;
}
function usage(msg) {
  if (msg) console.error(msg);
  console.error('usage: run.mjs [--only ID,..] [--players NAME,..] [--concurrency N] [--fault NAME] [--no-fault] [--no-ffmpeg] [--self-test] [--out DIR]');
  console.error(`scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  console.error(`players: ${PLAYERS.map((p) => p.name).join(', ')}; faults: ${Object.keys(FAULTS).join(', ')}`);
  process.exit(2);
}
const args = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------- cleanup
const children = new Set();
const browsers = new Set();
function killChild(cp) {
  if (cp.exitCode !== null || cp.signalCode !== null) return;
  try { cp.kill('SIGTERM'); } catch { /* gone */ }
  setTimeout(() => { try { if (cp.exitCode === null && cp.signalCode === null) cp.kill('SIGKILL'); } catch { /* gone */ } }, 2000).unref();
}
function cleanupSync() {
  for (const cp of children) {
    try { if (cp.exitCode === null && cp.signalCode === null) cp.kill('SIGKILL'); } catch { /* gone */ }
  }
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.log(`interrupted (${sig})`); cleanupSync(); process.exit(130); });
}
function track(cp) { children.add(cp); cp.on('exit', () => children.delete(cp)); return cp; }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([p, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timeout after ${Math.round(ms / 1000)}s: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}
const t0 = Date.now();
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(0);
const r2 = (x) => Math.round(x * 100) / 100;
const oneLine = (x, n) => { const t = String(x).replace(/\s+/g, ' ').trim(); return t.length > n ? `${t.slice(0, n)}...` : t; };
function logInfo(msg) { console.error(`[${elapsed()}s] ${msg}`); }

// ---------------------------------------------------------------- splicepoint
async function startSplicepoint(outDir, neededStreams) {
  let bin = process.env.SPLICEPOINT_BIN || 'target/release/splicepoint';
  if (args.selfTest) bin = path.join(HERE, 'mock', 'mock-splicepoint.mjs');
  if (!path.isAbsolute(bin)) bin = path.resolve(REPO, bin);
  if (!fs.existsSync(bin)) throw new Error(`splicepoint binary not found at ${bin} (build it with cargo build --release or set SPLICEPOINT_BIN)`);
  const argv = ['demo', '--listen', '127.0.0.1:0', '--break-every', String(BREAK_EVERY)];
  const logFile = path.join(outDir, 'splicepoint.log');
  const logStream = fs.createWriteStream(logFile);
  logInfo(`starting ${bin} ${argv.join(' ')} (log: ${logFile})`);
  const cp = track(spawn(bin, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { RUST_LOG: 'info', NO_COLOR: '1', ...process.env } }));
  cp.stderr.pipe(logStream);
  const streams = {};
  let exited = null;
  cp.on('exit', (code, sig) => { exited = `exited with ${code ?? sig}`; });
  const rl = readline.createInterface({ input: cp.stdout });
  let lastLine = 0;
  rl.on('line', (line) => {
    logStream.write(`[stdout] ${line}\n`);
    const m = line.trim().match(/^(\S+)\s+(https?:\/\/\S+)$/);
    if (m) { streams[m[1]] = m[2]; lastLine = Date.now(); }
  });
  const deadline = Date.now() + 60_000; // first start may have to prepare demo media
  while (Date.now() < deadline) {
    if (exited) {
      await sleep(200);
      let first = '';
      try { first = fs.readFileSync(logFile, 'utf8').split('\n').find((l) => l.trim() && !l.startsWith('[stdout]')) || ''; } catch { /* no log */ }
      throw new Error(`splicepoint ${exited} before printing its URLs${first ? `: ${oneLine(first, 200)}` : ''} (log: ${logFile})`);
    }
    const have = neededStreams.every((s) => streams[s]);
    if (have && Date.now() - lastLine > 300) break;
    // all lines seem printed but a needed stream is missing: give it 5 s more then go on
    if (lastLine && Date.now() - lastLine > 5000) break;
    await sleep(100);
  }
  if (!Object.keys(streams).length) throw new Error(`splicepoint printed no stream URL within 60 s; see ${logFile}`);
  return { cp, streams, logFile, isAlive: () => !exited, exitInfo: () => exited };
}

// ---------------------------------------------------------------- page server
function startPageServer() {
  const routes = new Map([
    ['/', { file: path.join(HERE, 'page', 'index.html'), type: 'text/html' }],
    ['/player.js', { file: path.join(HERE, 'page', 'player.js'), type: 'text/javascript' }],
  ]);
  const vendor = [];
  for (const p of PLAYERS) for (const [prefix, dir] of Object.entries(p.vendor || {})) vendor.push([prefix, path.join(HERE, dir)]);
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname === '/time') { // wall clock for players (dash.js UTC timing, see players.mjs)
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(new Date().toISOString());
      return;
    }
    let file = null, type = 'application/octet-stream';
    const r = routes.get(u.pathname);
    if (r) ({ file, type } = r);
    else {
      for (const [prefix, dir] of vendor) {
        if (u.pathname.startsWith(prefix)) {
          const f = path.normalize(path.join(dir, u.pathname.slice(prefix.length)));
          if (f.startsWith(dir)) { file = f; type = f.endsWith('.js') || f.endsWith('.mjs') ? 'text/javascript' : type; }
        }
      }
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` })));
}

// ---------------------------------------------------------------- ffmpeg
function runFfmpeg(url, seconds, logPath, timeoutMs) {
  return new Promise((resolve) => {
    const argv = ['-hide_banner', '-nostdin', '-v', 'warning', '-stats', '-rw_timeout', '15000000', '-i', url];
    if (seconds) argv.push('-t', String(seconds));
    argv.push('-f', 'null', '-');
    const cp = track(spawn('ffmpeg', argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    cp.stdout.on('data', (d) => { out += d; });
    cp.stderr.on('data', (d) => { out += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killChild(cp); }, timeoutMs);
    cp.on('error', (e) => { out += `\nspawn error: ${e.message}`; });
    cp.on('close', (code) => {
      clearTimeout(timer);
      fs.writeFileSync(logPath, `ffmpeg ${argv.join(' ')}\n${out}`);
      // -stats progress chunks end in \r and may share a line with a warning: drop them
      const lines = out.replace(/frame=.*?speed=\s*\S+x\s*/g, '\n').split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean);
      const bad = lines.filter((l) => /HTTP error|Failed to open segment|Error when loading first segment|Server returned/i.test(l));
      const warnings = lines.filter((l) => !l.startsWith('ffmpeg ') && !/^spawn error/.test(l));
      const stats = [...out.matchAll(/time=\s*(-?[\d:.]+)/g)].pop();
      const frames = [...out.matchAll(/frame=\s*(\d+)/g)].pop();
      const toSec = (t) => t.split(':').reduce((s, x) => s * 60 + Number(x), 0);
      const decoded = stats ? toSec(stats[1]) : 0;
      let ok = true, why = [];
      if (timedOut) { ok = false; why.push(`ffmpeg timed out after ${Math.round(timeoutMs / 1000)}s`); }
      else if (code !== 0) { ok = false; why.push(`ffmpeg exit ${code}`); }
      if (bad.length) { ok = false; why.push(`ffmpeg: ${bad.length}x "${bad[0].trim().slice(0, 160)}"`); }
      if (seconds && decoded < seconds - 2 && !timedOut) { ok = false; why.push(`ffmpeg decoded only ${decoded}s of ${seconds}s`); }
      resolve({ ok, why, decoded, frames: frames ? Number(frames[1]) : null, warnings: warnings.length, firstWarning: warnings[0] || null });
    });
  });
}

// URIs of the variant (and rendition) playlists in a master playlist
function variantsOf(body, base) {
  const out = [];
  const lines = body.split(/\r?\n/);
  lines.forEach((l, i) => {
    if (l.startsWith('#EXT-X-STREAM-INF')) {
      let j = i + 1;
      while (j < lines.length && (!lines[j].trim() || lines[j].startsWith('#'))) j++;
      if (j < lines.length) out.push(new URL(lines[j].trim(), base).href);
    } else if (l.startsWith('#EXT-X-MEDIA') && /URI="([^"]+)"/.test(l)) {
      out.push(new URL(l.match(/URI="([^"]+)"/)[1], base).href);
    }
  });
  return [...new Set(out)];
}

// ---------------------------------------------------------------- python manifest check
// HLS: check_manifests.py (m3u8); DASH: check_mpds.py (mpegdash), which also
// returns the session's Period timeline for the player checks.
const PYTHON = process.env.PLAYERS_PYTHON || path.join(HERE, '.venv', 'bin', 'python');
function checkManifests(dir, live, format) {
  const script = format === 'dash' ? 'check_mpds.py' : 'check_manifests.py';
  return new Promise((resolve) => {
    const argv = [path.join(HERE, script), dir, live ? '--live' : '--vod', ...(format === 'dash' ? ['--media'] : [])];
    execFile(PYTHON, argv, { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        resolve({ ok: false, problems: [`${script} failed: ${(stderr || String(err)).trim().split('\n').pop()}`], stats: {} });
      }
    });
  });
}

// ---------------------------------------------------------------- warm-up
/// Seconds until a new session's first variant playlist carries ad segments,
/// or null when that did not happen within `limitSec`.
async function warmUp(url, limitSec) {
  const start = Date.now();
  while (Date.now() - start < limitSec * 1000) {
    try {
      const master = await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
      const variant = master.split('\n').find((l) => l && !l.startsWith('#'));
      if (variant) {
        const media = await (await fetch(new URL(variant.trim(), url), { signal: AbortSignal.timeout(10_000) })).text();
        const ads = media.split('\n').filter((l) => l && !l.startsWith('#')).filter((l) => category(new URL(l.trim(), url).href) === 'ad');
        if (ads.length) return Math.round((Date.now() - start) / 1000);
      }
    } catch { /* keep trying until the limit */ }
    await new Promise((r) => setTimeout(r, 3000));
  }
  return null;
}

// DASH (issue #12): the same with throwaway DASH sessions (fetch follows the
// new-session redirect); ready once an MPD has an ad Period (`...-ad0`) whose
// BaseURL is an ad.
async function warmUpDash(url, limitSec) {
  const start = Date.now();
  while (Date.now() - start < limitSec * 1000) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const mpd = await r.text();
      const ads = [...mpd.matchAll(/<Period [^>]*id="[^"]*-ad\d+"[^>]*>\s*<BaseURL>([^<]+)<\/BaseURL>/g)]
        .filter((m) => category(new URL(m[1].replace(/&amp;/g, '&'), r.url).href) === 'ad');
      if (ads.length) return Math.round((Date.now() - start) / 1000);
    } catch { /* keep trying until the limit */ }
    await new Promise((r) => setTimeout(r, 3000));
  }
  return null;
}

// ---------------------------------------------------------------- join gate
// Live pre-roll: splicepoint places it where the session's player joins. The
// harness starts the player only when a pre-roll of `sec` from there, and
// from one segment later (a slow start), crosses no signalled break, reading
// the break schedule from the origin every 100 ms:
//   gate.playlist (HLS): an origin media playlist; the player joins at the
//     segment 3 from its end; breaks come every BREAK_EVERY s, from the last
//     CUE-OUT (or CUE-OUT-CONT ElapsedTime) in the window, CUE-OUT long. A
//     pre-roll over a break's start is not what this scenario is about (the
//     break then plays from its start after the pre-roll, with its first
//     segments changing from content to ads across refreshes).
//   gate.mpd (DASH): the origin MPD; the player joins at the live edge less
//     suggestedPresentationDelay, down to a segment boundary; breaks are its
//     SCTE-35 Events (splicepoint leaves out a pre-roll that would overlap
//     one, and cuts it at the end of its Period). It also waits until the join
//     point is JOIN_PHASE_SEC into its segment, so a player whose clock is up
//     to that much behind (dash.js syncs to a UTCTiming source with whole
//     seconds) still joins in the pre-roll's first segment.
// Returns the seconds waited, or null when no such moment came within
// `gate.limitSec`.
const JOIN_PHASE_SEC = [1.0, 1.6];
function parseXsDuration(d) {
  const m = /^PT(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?$/.exec(String(d || ''));
  return m ? (Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0)) : null;
}
const xmlAttr = (tag, name) => { const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag); return m ? m[1] : null; };

// DASH: may a player starting now get a whole pre-roll?
function mpdJoinFits(body, sec) {
  const mpdTag = (/<MPD\b[^>]*>/.exec(body) || [''])[0];
  const ast = Date.parse(xmlAttr(mpdTag, 'availabilityStartTime')) / 1000;
  const spd = parseXsDuration(xmlAttr(mpdTag, 'suggestedPresentationDelay')) ?? 6;
  const periods = [];
  for (const m of body.matchAll(/<Period\b([^>]*)>([\s\S]*?)<\/Period>/g)) {
    const start = parseXsDuration(xmlAttr(m[1], 'start'));
    const dur = parseXsDuration(xmlAttr(m[1], 'duration'));
    const st = /<SegmentTemplate\b[^>]*>/.exec(m[2]);
    const seg = st ? Number(xmlAttr(st[0], 'duration')) / Number(xmlAttr(st[0], 'timescale') || 1) : null;
    const es = /<EventStream\b[^>]*>/.exec(m[2]);
    const ts = es ? Number(xmlAttr(es[0], 'timescale') || 1) : 1;
    const events = [...m[2].matchAll(/<Event\b[^>]*>/g)].map((e) => [Number(xmlAttr(e[0], 'presentationTime')) / ts, Number(xmlAttr(e[0], 'duration') || 0) / ts]);
    if (start !== null && seg) periods.push({ start, end: dur !== null ? start + dur : null, seg, events });
  }
  const holding = (t) => periods.filter((p) => p.start <= t + 1e-6 && (p.end === null || t < p.end - 1e-6)).pop();
  const fits = (t) => {
    const p = holding(t);
    if (!p || (p.end !== null && t + sec > p.end + 1e-3)) return false;
    return !p.events.some(([at, d]) => p.start + at < t + sec && t < p.start + at + d);
  };
  const x = Date.now() / 1000 - ast - spd;
  const p = holding(x);
  if (!p) return false;
  const join = p.start + Math.floor((x - p.start) / p.seg) * p.seg;
  const phase = x - join;
  return phase >= JOIN_PHASE_SEC[0] && phase <= JOIN_PHASE_SEC[1] && fits(join) && fits(join + p.seg);
}

// HLS: may a player starting now get a whole pre-roll?
function playlistJoinFits(body, sec) {
  let msn = Number((/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(body) || [0, 0])[1]);
  const segs = [];
  let tags = [];
  for (const line of body.split(/\r?\n/)) {
    if (line.startsWith('#')) tags.push(line);
    else if (line.trim()) { segs.push({ msn: msn++, tags }); tags = []; }
  }
  const seg = Number((/#EXTINF:([\d.]+)/.exec(body) || [0, 0])[1]);
  if (segs.length < 3 || !seg) return false;
  let start = null, len = null; // the last break start in the window, and its length (segments)
  for (const s of segs) {
    for (const t of s.tags) {
      let m;
      if ((m = /^#EXT-X-CUE-OUT:([\d.]+)/.exec(t))) { start = s.msn; len = Math.round(Number(m[1]) / seg); }
      else if ((m = /^#EXT-X-CUE-OUT-CONT:.*ElapsedTime=([\d.]+).*Duration=([\d.]+)/.exec(t))) {
        start = s.msn - Math.round(Number(m[1]) / seg); len = Math.round(Number(m[2]) / seg);
      }
    }
  }
  if (start === null) return false;
  const every = Math.round(BREAK_EVERY / seg);
  const n = Math.ceil(sec / seg - 1e-6);
  const fits = (j) => [-1, 0, 1, 2].every((k) => { const b = start + k * every; return j + n <= b || b + len <= j; });
  const join = segs[segs.length - 3].msn;
  return fits(join) && fits(join + 1);
}

async function waitForClearJoin(streamUrl, gate, sec) {
  const src = new URL(gate.mpd || gate.playlist, streamUrl).href;
  const start = Date.now();
  while (Date.now() - start < gate.limitSec * 1000) {
    try {
      const body = await (await fetch(src, { signal: AbortSignal.timeout(5000) })).text();
      if (gate.mpd ? mpdJoinFits(body, sec) : playlistJoinFits(body, sec)) return Math.round((Date.now() - start) / 100) / 10;
    } catch { /* keep trying until the limit */ }
    await sleep(100);
  }
  return null;
}

// ---------------------------------------------------------------- one player run
async function playJob(job, ctx) {
  const { scenario: sc, player, fault } = job;
  const jobDir = path.join(ctx.outDir, job.id);
  const manDir = path.join(jobDir, 'manifests');
  fs.mkdirSync(manDir, { recursive: true });
  const base = ctx.sp.streams[sc.stream];
  const url = base + (base.includes('?') ? (sc.query || '').replace(/^\?/, '&') : (sc.query || ''));
  const res = { checks: [], info: {}, url };
  const check = (name, ok, detail) => res.checks.push({ name, ok, detail });
  if (sc.warmupSec && sc.format === 'dash') {
    res.info.warmupSec = await warmUpDash(url, sc.warmupSec);
    check('warm-up', res.info.warmupSec !== null, res.info.warmupSec === null
      ? `no session got the transcoded ad within ${sc.warmupSec}s` : `ready after ${res.info.warmupSec}s`);
  }
  if (sc.warmupSec && sc.format === 'hls') {
    // New creatives (MP4-only ads) are transcoded on first sighting: throwaway
    // sessions ask for them until one gets them, then the player's session does.
    res.info.warmupSec = await warmUp(url, sc.warmupSec);
    check('warm-up', res.info.warmupSec !== null, res.info.warmupSec === null
      ? `no session got the transcoded ad within ${sc.warmupSec}s` : `ready after ${res.info.warmupSec}s`);
  }

  let ffmpegP = null;
  const startFfmpeg = () => {
    if (fault || args.noFfmpeg || sc.noFfmpeg || sc.format !== 'hls') return;
    const secs = sc.live ? sc.ffmpegSeconds || 50 : null;
    ffmpegP = runFfmpeg(url, secs, path.join(jobDir, 'ffmpeg.log'), (sc.live ? (secs + 40) : 150) * 1000);
  };
  if (!sc.joinGate) startFfmpeg(); // else once the gate opens: its session gets a pre-roll too

  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-chromium-'));
  let browser = null;
  const network = { manifests: [], manifestMs: [], segments: [], errors: [], adOk: 0, slateOk: 0, contentOk: 0, pending: [] };
  const faultStats = { changes: 0, manifests: 0 };
  let log = null;
  let shot = null;
  const jobStart = Date.now();
  try {
    browser = await withTimeout(chromium.launchPersistentContext(udd, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 660, height: 420 },
    }), 30_000, 'chromium launch');
    browsers.add(browser);
    const page = browser.pages()[0] || await browser.newPage();
    page.on('pageerror', (e) => network.errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') network.errors.push(`console: ${m.text().slice(0, 200)}`); });
    if (fault) {
      const spOrigin = new URL(base).origin;
      await page.route((u) => u.origin === spOrigin && !looksLikeSegment(u.href), async (route) => {
        try {
          // follows redirects (the new-session 302): Playwright routes only the
          // first request of a redirect chain, so the body is served at the
          // first URL (MPD refreshes then go to its Location, routed again)
          const resp = await route.fetch();
          const body = await resp.text();
          const { body: nb, changes } = FAULTS[fault](body, route.request().url());
          if (body.startsWith('#EXTM3U') || body.includes('<MPD')) faultStats.manifests++;
          faultStats.changes += changes;
          await route.fulfill({ response: resp, body: nb });
        } catch (e) {
          try { await route.abort(); } catch { /* page gone */ }
        }
      });
    }
    let manN = 0;
    let masterSeen = false, variantUrls = [];
    // The harness also fetches every variant of the session itself (as a
    // player switching variants would), so check_manifests.py can compare
    // the variants with each other: same sequence number -> same asset,
    // duration and discontinuity number. Not in fault runs (unfaulted bodies).
    let lastVariantPoll = 0;
    const pollVariants = () => {
      if (fault || !variantUrls.length) return;
      if (sc.live ? Date.now() - lastVariantPoll < 2000 : lastVariantPoll) return; // VOD: once
      lastVariantPoll = Date.now();
      for (const vu of variantUrls) {
        const t = Date.now() - jobStart;
        network.pending.push(fetch(vu, { signal: AbortSignal.timeout(5000) }).then(async (r) => {
          const body = await r.text();
          const file = `${String(++manN).padStart(4, '0')}.m3u8`;
          fs.writeFileSync(path.join(manDir, file), body);
          network.manifests.push({ file, url: vu, t, status: r.status, source: 'harness' });
        }).catch((e) => network.errors.push(`harness fetch of ${vu} failed: ${e.message}`)));
      }
    };
    // DASH live: the harness also polls the session MPD (its Location) every
    // MPD_POLL_MS, to see when each Period is first published. It saves a
    // poll only around a change of the Period list (the last poll before it
    // and the first after), so check_mpds.py can tell whether a Period came
    // too late: after a segment it replaces was promised by an earlier MPD.
    // Not in fault runs (unfaulted bodies).
    let mpdLocation = null, mpdPolling = false, lastMpdPoll = 0, prevPoll = null;
    const periodSig = (b) => (b.match(/<Period\b[^>]*>/g) || []).join('');
    const pollMpd = () => {
      if (fault || sc.format !== 'dash' || !sc.live || !mpdLocation || mpdPolling || Date.now() - lastMpdPoll < MPD_POLL_MS) return;
      lastMpdPoll = Date.now();
      mpdPolling = true;
      const url = mpdLocation;
      network.pending.push(fetch(url, { signal: AbortSignal.timeout(5000) }).then(async (r) => {
        const cur = { body: await r.text(), t: Date.now() - jobStart, wall: Date.now(), status: r.status, saved: false };
        cur.sig = periodSig(cur.body);
        const save = (p) => {
          if (p.saved) return;
          p.saved = true;
          const file = `${String(++manN).padStart(4, '0')}.mpd`;
          fs.writeFileSync(path.join(manDir, file), p.body);
          network.manifests.push({ file, url, t: p.t, wall: p.wall, status: p.status, source: 'harness' });
        };
        if (prevPoll && prevPoll.sig !== cur.sig) { save(prevPoll); save(cur); }
        prevPoll = cur;
      }).catch((e) => network.errors.push(`harness fetch of ${url} failed: ${e.message}`)).finally(() => { mpdPolling = false; }));
    };
    page.on('response', (resp) => {
      const u = resp.url();
      if (u.startsWith(ctx.pageBase)) return;
      const status = resp.status();
      const t = Date.now() - jobStart;
      const wall = Date.now();
      if (status >= 400) network.errors.push(`HTTP ${status} ${u}`);
      // a guided session's asset list (JSON at its playlist's URL): not a manifest
      if (u.includes('sgai.break=')) { network.assetLists = (network.assetLists || 0) + 1; return; }
      if (isManifestResponse(u, resp.headers()['content-type'])) {
        const n = ++manN;
        network.pending.push(resp.text().then((body) => {
          const file = `${String(n).padStart(4, '0')}.${body.includes('<MPD') ? 'mpd' : 'm3u8'}`;
          fs.writeFileSync(path.join(manDir, file), body);
          network.manifests.push({ file, url: u, t, wall, status, source: 'player' });
          if (!masterSeen && body.includes('#EXT-X-STREAM-INF')) {
            masterSeen = true;
            variantUrls = variantsOf(body, u);
            // the session's first playlist places the live pre-roll: leave it to the player
            if (sc.expect.preroll) lastVariantPoll = Date.now();
          }
          const loc = /<Location>\s*([^<\s]+)\s*<\/Location>/.exec(body);
          if (loc && !mpdLocation) { try { mpdLocation = new URL(loc[1], u).href; } catch { /* bad Location: check_mpds.py reports */ } }
        }).catch(() => { /* body gone (page closed) */ }));
      } else {
        const cat = category(u);
        network.segments.push({ url: u, status, t, cat });
        if (status < 300) {
          if (cat === 'ad') network.adOk++;
          else if (cat === 'slate') network.slateOk++;
          else if (cat === 'content') network.contentOk++;
        }
      }
    });
    const reqStart = new Map();
    page.on('request', (req) => reqStart.set(req, Date.now()));
    page.on('requestfinished', (req) => {
      const t = reqStart.get(req);
      reqStart.delete(req);
      if (t !== undefined && !req.url().startsWith(ctx.pageBase) && !looksLikeSegment(req.url()) && req.resourceType() !== 'document') {
        network.manifestMs.push({ url: req.url(), ms: Date.now() - t });
      }
    });
    page.on('requestfailed', (req) => {
      const f = req.failure();
      if (!String(f && f.errorText).includes('ERR_ABORTED')) network.errors.push(`request failed ${req.url()}: ${f && f.errorText}`);
    });
    await withTimeout(page.goto(ctx.pageBase + '/'), 15_000, 'page load');
    for (const s of player.scripts) await page.addScriptTag({ url: ctx.pageBase + s });
    let gateMs = 0;
    if (sc.joinGate) {
      const g0 = Date.now();
      res.info.joinWait = await waitForClearJoin(url, sc.joinGate, sc.expect.preroll.sec);
      gateMs = Date.now() - g0;
      check('join-gate', res.info.joinWait !== null, res.info.joinWait === null
        ? `no moment within ${sc.joinGate.limitSec}s where a ${sc.expect.preroll.sec}s pre-roll fits where the player joins` : `waited ${res.info.joinWait}s`);
      startFfmpeg();
    }
    await page.evaluate((cfg) => window.__sp.start(cfg), {
      player: player.name, url, rate: sc.rate || 1, label: `${job.id}`,
      playerConfig: Object.assign({}, player.config || {}, (sc.playerConfig || {})[player.name] || {}),
    });

    // ---- poll until done
    const deadline = jobStart + gateMs + (fault ? Math.min(sc.timeoutSec, 90) : sc.timeoutSec) * 1000;
    let stopReason = 'timeout';
    let firstCt = null;
    let guidedDoneAt = null;
    let lastCt = -1, lastProgress = Date.now();
    while (Date.now() < deadline) {
      await sleep(250);
      if (ctx.overBudget()) { stopReason = 'suite budget exhausted'; break; }
      pollVariants();
      pollMpd();
      const st = await withTimeout(page.evaluate(() => window.__sp.poll()), 10_000, 'page poll');
      if (firstCt === null && st.ct > 0) firstCt = st.ct;
      if (st.ct !== lastCt || st.ended) { lastCt = st.ct; lastProgress = Date.now(); }
      if (Date.now() - lastProgress > HOPELESS_STALL_SEC * 1000) { stopReason = `no progress for ${HOPELESS_STALL_SEC}s`; break; }
      // mid-ad screenshot
      if (!shot && st.changed.length) {
        const cur = st.changed[st.changed.length - 1];
        const cat = category(cur.url);
        const want = (sc.expect.adAssets || 0) > 0 ? 'ad' : 'slate';
        if (cat === want && st.ct >= cur.start + 0.3) {
          shot = path.join(ctx.outDir, `${job.id}-mid${want}.png`);
          await withTimeout(page.screenshot({ path: shot }), 10_000, 'screenshot').catch(() => { shot = null; });
        }
      }
      if (st.fatal) { stopReason = 'fatal error'; await sleep(500); break; }
      if (!sc.live && sc.expect.guided) {
        // guided VOD: a post-roll plays after the content's end
        const done = new Set(st.interstitials.filter((e) => e.name === 'INTERSTITIAL_ENDED').map((e) => e.id));
        if (done.size >= sc.expect.guided.interstitials) {
          guidedDoneAt = guidedDoneAt || Date.now();
          if (st.ended || Date.now() - guidedDoneAt > 2000) { stopReason = 'interstitials done'; await sleep(300); break; }
        }
        continue;
      }
      if (!sc.live) { if (st.ended) { stopReason = 'ended'; await sleep(300); break; } continue; }
      // guided live: stop once enough interstitials ended and content played on
      if (sc.expect.guided) {
        const ended = new Set(st.interstitials.filter((e) => e.name === 'INTERSTITIAL_ENDED').map((e) => e.id));
        if (ended.size >= sc.expect.guided.interstitials) {
          guidedDoneAt = guidedDoneAt || Date.now();
          if (Date.now() - guidedDoneAt >= (POST_BREAK_CONTENT_SEC + 1) * 1000) { stopReason = 'interstitials done'; break; }
        }
        continue;
      }
      // live pre-roll: stop once it went by and content played on (or when
      // content played first: no pre-roll will come)
      if (sc.expect.preroll) {
        const pre = prerollPlay(st.changed, { byTime: sc.format === 'dash', leadInSec: sc.expect.preroll.leadInSec || 0 });
        if (pre.frags.length && pre.after && pre.content >= PREROLL_CONTENT_SEC) { stopReason = 'pre-roll done'; break; }
        if (!pre.frags.length && firstCt !== null && st.ct - firstCt >= 2 * PREROLL_CONTENT_SEC) { stopReason = 'no pre-roll first'; break; }
        continue;
      }
      // live: stop once enough whole breaks went by and content played on
      const runs = breakRuns(st.changed, { byTime: sc.format === 'dash' }).filter((r) => r.whole);
      if (runs.length >= (sc.expect.breaks || 1)) {
        const after = runs[runs.length - 1].after;
        if (after && st.ct >= after.start + POST_BREAK_CONTENT_SEC) { stopReason = 'break done'; break; }
      }
      if (sc.expect.contentMayFill && !breakRuns(st.changed, { byTime: sc.format === 'dash' }).length && firstCt !== null &&
          st.ct - firstCt >= BREAK_EVERY + (sc.expect.breakSec || 16) + POST_BREAK_CONTENT_SEC) {
        stopReason = 'played through break window as content';
        break;
      }
    }
    res.info.stopReason = stopReason;
    if (!shot) {
      shot = path.join(ctx.outDir, `${job.id}-no-ad-seen.png`);
      await withTimeout(page.screenshot({ path: shot }), 10_000, 'screenshot').catch(() => { shot = null; });
    }
    log = await withTimeout(page.evaluate(() => window.__sp.dump()), 15_000, 'page dump');
    await withTimeout(Promise.allSettled(network.pending), 10_000, 'manifest bodies').catch(() => {});
  } catch (e) {
    check('harness', false, e.message.split('\n')[0]);
  } finally {
    if (browser) { await withTimeout(browser.close(), 15_000, 'browser close').catch(() => {}); browsers.delete(browser); }
    fs.rmSync(udd, { recursive: true, force: true });
  }
  res.info.screenshot = shot;
  network.manifests.sort((a, b) => a.file.localeCompare(b.file));
  fs.writeFileSync(path.join(manDir, 'index.json'), JSON.stringify(network.manifests, null, 1));
  if (log) fs.writeFileSync(path.join(jobDir, 'player-log.json'), JSON.stringify(log));
  fs.writeFileSync(path.join(jobDir, 'network.json'), JSON.stringify({ playlistTimes: network.manifestMs, segments: network.segments, errors: network.errors }, null, 1));

  // ---- independent manifest parse (DASH: first, the Period timeline feeds the player checks)
  const man = await checkManifests(manDir, sc.live, sc.format);
  if (log) {
    if (sc.format === 'dash') evaluateDash(sc, log, network, res, check, man);
    else if (sc.expect.guided) evaluateGuided(sc, log, network, res, check);
    else evaluate(sc, log, network, res, check);
  }
  if (fault) {
    res.info.faultChanges = faultStats.changes;
    if (faultStats.changes === 0) check('fault-injected', false, `fault ${fault} changed nothing in ${faultStats.manifests} manifests`);
  }
  if (man.notes && man.notes.length) res.info.manifestNotes = man.notes;
  if (sc.format === 'dash') {
    res.info.manifests = man.stats && man.stats.mpds;
    check('manifests', man.ok, man.ok ? `${man.stats.mpds} MPDs` : `${man.problems.length} problem(s): ${man.problems.slice(0, 3).join(' | ')}`);
  } else {
    res.info.manifests = man.stats && man.stats.playlists;
    res.info.variantPairs = man.stats && man.stats.variant_pairs_compared;
    check('manifests', man.ok, man.ok ? `${man.stats.playlists} playlists` : `${man.problems.length} problem(s): ${man.problems.slice(0, 3).join(' | ')}`);
  }
  // The rules and the schema (a fault run breaks manifests on purpose: not here).
  if (!fault && !args.selfTest) {
    const conf = await checkConformance(manDir, { bin: process.env.SPLICEPOINT_BIN || 'target/release/splicepoint', repo: REPO, corpus: process.env.SPLICEPOINT_CORPUS });
    res.info.conformance = conf.schemaNote;
    check('conformance', conf.ok, conf.ok ? `${conf.manifests} manifests keep the rules; ${conf.schemaNote}` : `${conf.problems.length} problem(s): ${conf.problems.slice(0, 3).join(' | ')}`);
  }
  if (ffmpegP) {
    const ff = await ffmpegP;
    res.info.ffmpeg = ff;
    if (!sc.live && res.info.vodDuration && ff.ok && ff.decoded < res.info.vodDuration - 2) {
      ff.ok = false;
      ff.why.push(`ffmpeg decoded ${r2(ff.decoded)}s of a ${res.info.vodDuration}s VOD`);
    }
    check('ffmpeg', ff.ok, ff.ok ? `${r2(ff.decoded)}s` : ff.why.join('; '));
  }
  return res;
}

// Checks every format shares: player errors, HTTP, manifest latency, the
// <video> samples (frames, holes, jumps, stalls).
function evaluateCommon(sc, log, network, res, check) {
  const { info } = res;
  // fatal errors
  const fatal = log.errors.filter((e) => e.fatal);
  const nonFatal = log.errors.filter((e) => !e.fatal);
  info.errors = fatal.length;
  info.warnings = nonFatal.length;
  info.warningKinds = [...new Set(nonFatal.map((e) => e.details))].join(',');
  check('no-fatal-error', fatal.length === 0, fatal.length ? fatal.map((e) => `${e.type}/${e.details}${e.reason ? ` (${oneLine(e.reason, 160)})` : ''}${e.url ? ` ${e.url}` : ''}`).slice(0, 2).join('; ') : '');

  // network
  const httpErr = network.errors.filter((e) => e.startsWith('HTTP ') || e.startsWith('request failed'));
  check('http', httpErr.length === 0, httpErr.slice(0, 2).join('; '));

  // playlist response time: a live playlist slower than a target duration drains the player's buffer
  if (network.manifestMs.length) {
    const worst = network.manifestMs.reduce((a, b) => (b.ms > a.ms ? b : a));
    info.maxManifestMs = worst.ms;
    check('manifest-latency', worst.ms <= MAX_MANIFEST_MS, worst.ms > MAX_MANIFEST_MS ? `playlist took ${worst.ms} ms (> ${MAX_MANIFEST_MS}): ${worst.url}` : '');
  }

  // samples: frames, holes, stalls, jumps
  const a = analyseSamples(log.samples);
  info.played = r2(a.played);
  info.frames = a.frames;
  info.expectedFrames = Math.round(a.expectedFrames);
  if (a.baselineIdx < 0) {
    check('playback', false, 'currentTime never advanced');
  } else {
    const dev = a.expectedFrames ? (a.frames - a.expectedFrames) / a.expectedFrames : 1;
    info.frameDev = `${(dev * 100).toFixed(1)}%`;
    check('frames', a.played > 2 && Math.abs(dev) <= FRAME_TOLERANCE,
      `${a.frames} decoded vs ${Math.round(a.expectedFrames)} expected for ${r2(a.played)}s played (${(dev * 100).toFixed(1)}%, dropped ${a.dropped})`);
    info.maxHole = r2(a.maxHole);
    check('no-buffer-hole', a.maxHole <= MAX_HOLE_SEC, a.maxHole > MAX_HOLE_SEC ? `hole of ${a.maxHole.toFixed(3)}s in video.buffered at ${JSON.stringify(a.holeAt)} (${a.holes} samples)` : '');
    check('no-jump', a.jumps.length === 0, a.jumps.length ? `currentTime jumped ${a.jumps.slice(0, 3).map((j) => `${j.by}s at ${j.at}`).join(', ')}` : '');
    info.stall = r2(a.maxStall);
    check('no-stall', a.maxStall <= MAX_STALL_SEC, a.maxStall > MAX_STALL_SEC ? `no progress for ${a.maxStall.toFixed(1)}s at ${a.stallAt}` : '');
  }
  return a;
}

// Live pre-roll (expect.preroll): the first segments played are the whole
// pre-roll, then at least PREROLL_CONTENT_SEC of content (a mid-roll in
// between may come, and is not required).
function checkPreroll(sc, changed, res, check, opts) {
  const pre = prerollPlay(changed, { ...opts, leadInSec: sc.expect.preroll.leadInSec || 0 });
  res.info.preroll = describePreroll(pre);
  res.info.contentAfterPreroll = r2(pre.content);
  const why = prerollMatches(pre, sc.expect.preroll);
  check('preroll', why.length === 0, why.length ? `${why.join(', ')} (played first: ${res.info.preroll}; stop: ${res.info.stopReason})` : res.info.preroll);
  if (pre.frags.length) {
    check('content-after-preroll', pre.content >= PREROLL_CONTENT_SEC,
      `${r2(pre.content)}s of content played after the pre-roll, expected ${PREROLL_CONTENT_SEC}s (stop: ${res.info.stopReason})`);
  }
}

// ads really fetched (or not, when the ADS timed out)
function checkFetched(sc, network, res, check) {
  const { info } = res;
  info.adSegments = network.adOk;
  info.slateSegments = network.slateOk;
  if ((sc.expect.adAssets || 0) > 0) {
    const assets = new Set(network.segments.filter((s) => s.cat === 'ad' && s.status < 300).map((s) => assetKey(s.url)));
    check('ads-fetched', network.adOk > 0 && assets.size >= sc.expect.adAssets, `${network.adOk} ad segment(s) from ${assets.size} creative(s) fetched`);
  } else {
    check('no-ads-fetched', network.adOk === 0, network.adOk ? `${network.adOk} ad segment(s) fetched although the ADS timed out` : '');
  }
  if (sc.expect.slate === true) check('slate-fetched', network.slateOk > 0, network.slateOk ? '' : 'no slate segment fetched');
}

function evaluate(sc, log, network, res, check) {
  const { info } = res;
  evaluateCommon(sc, log, network, res, check);

  // cc at every asset switch
  const cc = ccCheck(log.frags);
  info.cc = `${cc.ccFirst}->${cc.ccLast}`;
  info.switches = cc.switches;
  check('cc-at-switch', cc.violations.length === 0, cc.violations.slice(0, 3).join('; '));

  // break playthrough / completion
  const changed = log.frags.filter((f) => f.ev === 'changed' && f.type === 'main');
  const levels = log.events.filter((e) => e.name === 'level-loaded').map((e) => e.data);
  const lastLevel = levels[levels.length - 1];
  const ended = log.events.some((e) => e.name === 'ended');
  const runs = breakRuns(changed, sc.live ? {} : { vodStartSN: lastLevel ? lastLevel.startSN : null, vodEndSN: lastLevel ? lastLevel.endSN : null, ended });
  info.breaks = runs.map(describeRun);
  const good = runs.filter((r) => runMatches(r, sc.expect).length === 0);
  const need = sc.expect.breaks || 1;
  if (sc.expect.preroll) {
    checkPreroll(sc, changed, res, check, {});
  } else if (sc.live) {
    if (sc.expect.contentMayFill && runs.length === 0) {
      check('break-playthrough', info.played >= BREAK_EVERY + (sc.expect.breakSec || 16),
        `no ad/slate played; ${info.played}s of content played (break every ${BREAK_EVERY}s)`);
    } else {
      const whole = runs.filter((r) => r.whole);
      check('break-playthrough', good.length >= need,
        good.length >= need ? `${good.length} whole break(s)` : (whole.length
          ? `break(s) not as expected: ${whole.map((r) => `${describeRun(r)} -> ${runMatches(r, sc.expect).join(', ')}`).join(' | ')}`
          : `no whole ad break played through (${runs.length} partial: ${runs.map(describeRun).join(' | ') || 'none'}); stop: ${info.stopReason}`));
    }
  } else {
    check('ended', ended, ended ? '' : `VOD did not reach ended (stop: ${info.stopReason}, ct=${log.samples.length ? r2(log.samples[log.samples.length - 1].ct) : '?'})`);
    if (lastLevel) {
      const playedSN = new Set(changed.map((f) => f.sn));
      const missing = [];
      for (let sn = lastLevel.startSN; sn <= lastLevel.endSN; sn++) if (!playedSN.has(sn)) missing.push(sn);
      check('all-segments-played', missing.length === 0, missing.length ? `segments never played: ${missing.slice(0, 8).join(',')}${missing.length > 8 ? '...' : ''} of ${lastLevel.startSN}-${lastLevel.endSN}` : '');
      info.vodDuration = r2(lastLevel.totalduration);
    }
    const bad = runs.filter((r) => runMatches(r, sc.expect).length);
    check('breaks', good.length === need && bad.length === 0,
      `${good.length}/${need} breaks as expected${bad.length ? `; ${bad.map((r) => `${describeRun(r)} -> ${runMatches(r, sc.expect).join(', ')}`).join(' | ')}` : ''}`);
  }

  checkFetched(sc, network, res, check);
}

// Guided sessions (HLS interstitials): the player's own interstitial events
// for every break (started, asset started / ended, ended), the primary resuming
// at the event's resume time (live: on the live timeline; VOD: where it left),
// the ad segments fetched, and the common checks (frames, errors, stalls).
function evaluateGuided(sc, log, network, res, check) {
  const { info } = res;
  evaluateCommon(sc, log, network, res, check);
  // An interstitial not appended in place plays in a new MediaSource: currentTime
  // switches to the asset's timeline and back, and the frame counter restarts. So
  // those switches are not jumps, and frames are summed across the restarts.
  const a = analyseSamples(log.samples);
  if (a.baselineIdx >= 0) {
    let frames = 0;
    for (let i = a.baselineIdx + 1; i < log.samples.length; i++) {
      const p = log.samples[i - 1], q = log.samples[i];
      if (p.frames == null || q.frames == null) continue;
      // an interval with a timeline switch is left out of both counts (as
      // analyseSamples leaves its time out of the played duration)
      const dc = q.ct - p.ct;
      const maxStep = ((q.t - p.t) / 1000) * Math.max(p.rate, q.rate, 0.01) * 1.5 + 0.3;
      if (dc < -0.05 || dc > maxStep || q.frames < p.frames) continue;
      frames += q.frames - p.frames;
    }
    const dev = a.expectedFrames ? (frames - a.expectedFrames) / a.expectedFrames : 1;
    info.frames = frames;
    info.frameDev = `${(dev * 100).toFixed(1)}%`;
    const switches = a.jumps.length;
    res.checks = res.checks.filter((c) => c.name !== 'frames' && c.name !== 'no-jump');
    check('frames', a.played > 2 && Math.abs(dev) <= FRAME_TOLERANCE,
      `${frames} decoded vs ${Math.round(a.expectedFrames)} expected for ${r2(a.played)}s played (${(dev * 100).toFixed(1)}%; ${switches} timeline switch(es))`);
  }
  info.assetLists = network.assetLists || 0;
  const evs = log.events.filter((e) => e.name.startsWith('INTERSTITIAL') || e.name === 'ASSET_LIST_LOADED');
  const byId = new Map();
  for (const e of evs) {
    const id = e.data && e.data.id;
    if (!id) continue;
    if (!byId.has(id)) byId.set(id, { started: 0, assetStarted: 0, assetEnded: 0, ended: 0, assets: null, errors: [] });
    const x = byId.get(id);
    if (e.name === 'INTERSTITIAL_STARTED') x.started++;
    if (e.name === 'INTERSTITIAL_ASSET_STARTED') x.assetStarted++;
    if (e.name === 'INTERSTITIAL_ASSET_ENDED') x.assetEnded++;
    if (e.name === 'INTERSTITIAL_ENDED') x.ended++;
    if (e.name === 'INTERSTITIAL_ASSET_ERROR') x.errors.push(e.data.error);
    if (e.name === 'ASSET_LIST_LOADED') x.assets = e.data.assets;
  }
  const complete = [...byId.entries()].filter(([, x]) => x.started && x.assetStarted && x.assetEnded && x.ended && !x.errors.length);
  info.interstitials = [...byId.entries()].map(([id, x]) => `${id}:${x.started}/${x.assetStarted}/${x.assetEnded}/${x.ended}${x.assets !== null ? `(${x.assets}a)` : ''}`).join(' ');
  const need = sc.expect.guided.interstitials;
  check('interstitial-events', complete.length >= need,
    `${complete.length}/${need} interstitials with STARTED, ASSET_STARTED, ASSET_ENDED and ENDED: ${info.interstitials || 'none'}${[...byId.values()].some((x) => x.errors.length) ? `; asset errors: ${[...byId.values()].flatMap((x) => x.errors).slice(0, 2).join(' | ')}` : ''}`);
  // resume point: the primary's position when it resumes, against the event's resume time
  const resumes = [];
  for (let i = 0; i < evs.length; i++) {
    if (evs[i].name !== 'INTERSTITIAL_ENDED' || evs[i].data.resume === null) continue;
    const r = evs.slice(i + 1).find((e) => e.name === 'INTERSTITIALS_PRIMARY_RESUMED');
    if (!r || r.data.primary === null) continue;
    resumes.push({ id: evs[i].data.id, want: evs[i].data.resume, got: r.data.primary, inPlace: evs[i].data.inPlace });
  }
  info.resumes = resumes.map((x) => `${x.id}@${r2(x.want)}->${r2(x.got)}${x.inPlace ? '(in place)' : ''}`).join(' ');
  const off = resumes.filter((x) => Math.abs(x.got - x.want) > sc.expect.guided.resumeSec);
  // a post-roll has no content to resume
  const needResumes = sc.expect.guided.resumes ?? need;
  check('resume-point', resumes.length >= needResumes && off.length === 0,
    `${resumes.length}/${needResumes} resumes measured${off.length ? `; off: ${off.map((x) => `${x.id} resumed at ${r2(x.got)}, expected ${r2(x.want)}`).join(', ')}` : ''}: ${info.resumes || 'none'}`);
  if (!sc.live) {
    const ended = log.events.some((e) => e.name === 'ended');
    check('ended', ended, ended ? '' : `VOD did not reach ended (stop: ${info.stopReason})`);
  } else {
    // content after the last interstitial (the primary played on)
    const last = resumes[resumes.length - 1];
    const lastSample = log.samples[log.samples.length - 1];
    check('content-after', !!last && !!lastSample && lastSample.ct > last.got, last ? `played to ${lastSample ? r2(lastSample.ct) : '-'}` : 'no resume measured');
  }
  checkFetched(sc, network, res, check);
}

// DASH: the same player checks, with Periods in place of discontinuities.
// man.timeline: every Period the session's MPDs published (check_mpds.py).
function evaluateDash(sc, log, network, res, check, man) {
  const { info } = res;
  const a = evaluateCommon(sc, log, network, res, check);
  const timeline = man.timeline || [];
  if (!timeline.length) check('periods', false, 'no Period timeline (no MPD parsed)');

  // the player puts every asset switch in a new Period, never goes back
  const cc = ccCheck(log.frags, { byTime: true });
  info.cc = `${cc.ccFirst}->${cc.ccLast}`;
  info.switches = cc.switches;
  check('period-at-switch', cc.violations.length === 0, cc.violations.slice(0, 3).join('; '));

  // every loaded segment lies in the Period the player put it in, and is of its kind
  if (timeline.length) {
    const sp = segmentPeriods(log.frags, timeline);
    check('segment-period', sp.length === 0, sp.length ? `${sp.length} segment(s): ${sp.slice(0, 3).join('; ')}` : '');
  }

  // the Periods playback went through: in timeline order, nothing skipped
  const played = playedPeriods(log.samples, timeline, a.baselineIdx);
  info.periods = played.length;
  info.periodIds = played.map((p) => p.id);
  const walk = periodWalk(played, timeline);

  const changed = log.frags.filter((f) => f.ev === 'changed' && f.type === 'main');
  const ended = log.events.some((e) => e.name === 'ended');
  const vodEnd = man.duration ?? null;
  const runs = breakRuns(changed, sc.live ? { byTime: true } : { byTime: true, vodEnd, ended });
  info.breaks = runs.map(describeRun);
  const good = runs.filter((r) => runMatches(r, sc.expect).length === 0);
  const need = sc.expect.breaks || 1;
  if (sc.expect.preroll) {
    const pp = periodPreroll(played, timeline, sc.expect.preroll);
    check('period-order', walk.length === 0 && pp.length === 0, [...walk.slice(0, 2), ...pp].join('; '));
    checkPreroll(sc, changed, res, check, { byTime: true, ...(timeline.length ? { breakOf: periodBreakOf(timeline) } : {}) });
  } else if (sc.live) {
    const pb = periodBreaks(played, sc.expect);
    const okBreaks = pb.filter((b) => b.ok);
    check('period-order', walk.length === 0 && okBreaks.length >= need,
      [...walk.slice(0, 2), ...(okBreaks.length >= need ? [] : [pb.length
        ? `break Periods not as expected: ${pb.map((b) => `${b.before} -> ${b.ids.join(',')} -> ${b.after}: ${b.why.join(', ')}`).join(' | ')}`
        : `no break Periods played (${played.map((p) => p.id).join(' ')})`])].join('; '));
    const whole = runs.filter((r) => r.whole);
    check('break-playthrough', good.length >= need,
      good.length >= need ? `${good.length} whole break(s)` : (whole.length
        ? `break(s) not as expected: ${whole.map((r) => `${describeRun(r)} -> ${runMatches(r, sc.expect).join(', ')}`).join(' | ')}`
        : `no whole ad break played through (${runs.length} partial: ${runs.map(describeRun).join(' | ') || 'none'}); stop: ${info.stopReason}`));
  } else {
    check('ended', ended, ended ? '' : `VOD did not reach ended (stop: ${info.stopReason}, ct=${log.samples.length ? r2(log.samples[log.samples.length - 1].ct) : '?'})`);
    const ids = played.map((p) => p.id);
    const want = sc.periods || timeline.map((p) => p.id);
    const same = ids.length === want.length && ids.every((id, i) => id === want[i]);
    check('period-order', walk.length === 0 && same,
      [...walk.slice(0, 2), ...(same ? [] : [`played ${ids.join(' ')}; expected ${want.join(' ')}`])].join('; '));
    // played media time covers the presentation (frames are checked against it)
    if (vodEnd) {
      check('all-played', a.played >= vodEnd - 1, `${r2(a.played)}s of ${r2(vodEnd)}s played`);
      info.vodDuration = r2(vodEnd);
    }
    const bad = runs.filter((r) => runMatches(r, sc.expect).length);
    check('breaks', good.length === need && bad.length === 0,
      `${good.length}/${need} breaks as expected${bad.length ? `; ${bad.map((r) => `${describeRun(r)} -> ${runMatches(r, sc.expect).join(', ')}`).join(' | ')}` : ''}`);
  }
  checkFetched(sc, network, res, check);
}

// ---------------------------------------------------------------- result lines
function summarise(job, res) {
  const failed = res.checks.filter((c) => !c.ok);
  const i = res.info;
  const dash = job.scenario.format === 'dash';
  const facts = [
    `frames=${i.frames ?? '-'}/${i.expectedFrames ?? '-'}(${i.frameDev ?? '-'})`,
    `played=${i.played ?? '-'}s`, `errors=${i.errors ?? '-'}`, `warnings=${i.warnings ?? '-'}${i.warningKinds ? `(${i.warningKinds})` : ''}`,
    `maxhole=${i.maxHole ?? '-'}s`, `stall=${i.stall ?? '-'}s`, dash ? `periodStart=${i.cc ?? '-'}` : `cc=${i.cc ?? '-'}`, `switches=${i.switches ?? '-'}`,
    ...(dash ? [`periods=${i.periods ?? '-'}`] : []),
    `ads=${i.adSegments ?? '-'}`, `slate=${i.slateSegments ?? '-'}`, `breaks=${(i.breaks || []).length}`,
    ...(job.scenario.expect.preroll ? [`preroll=${i.preroll ? i.preroll.replace(/ /g, '_') : '-'}`, `contentAfter=${i.contentAfterPreroll ?? '-'}s`] : []),
    ...(i.joinWait != null ? [`joinWait=${i.joinWait}s`] : []),
    ...(job.scenario.expect.guided ? [`interstitials=${(i.interstitials || '-').replace(/ /g, ',')}`, `resumes=${(i.resumes || '-').replace(/ /g, ',')}`] : []),
    dash ? `mpds=${i.manifests ?? '-'}` : `manifests=${i.manifests ?? '-'}(variant pairs ${i.variantPairs ?? 0})`,
    `${dash ? 'maxMpdMs' : 'maxPlaylistMs'}=${i.maxManifestMs ?? '-'}`,
  ];
  if (i.ffmpeg) facts.push(`ffmpeg=${i.ffmpeg.ok ? 'ok' : 'FAIL'}(${r2(i.ffmpeg.decoded)}s,warn=${i.ffmpeg.warnings})`);
  if (job.fault) {
    const caughtBy = failed.filter((c) => c.name !== 'fault-injected' && c.name !== 'harness').map((c) => c.name);
    const required = FAULT_CAUGHT_BY[job.fault] || [];
    const missed = required.filter((n) => !caughtBy.includes(n));
    const harness = failed.find((c) => c.name === 'harness');
    const notInjected = failed.find((c) => c.name === 'fault-injected');
    const edits = `${i.faultChanges} ${FAULT_EDITS[job.fault] || 'edits'}`;
    const ok = !notInjected && !harness && caughtBy.length > 0 && missed.length === 0;
    const why = notInjected ? notInjected.detail
      : harness ? `harness error: ${harness.detail}`
        : !caughtBy.length ? `corrupted stream passed every check (${edits})`
          : missed.length ? `not caught by ${missed.join(',')} (only by ${caughtBy.join(',')}; ${edits})`
            : `caught by ${caughtBy.join(',')} (${edits})`;
    return { ok, line: `${ok ? 'PASS' : 'FAIL'} fault-detection ${job.scenario.id} ${job.player.name} ${job.fault}: ${why}`,
      details: failed.map((c) => `    ${c.name}: ${oneLine(c.detail, 400)}`) };
  }
  const ok = failed.length === 0;
  return { ok, line: `${ok ? 'PASS' : 'FAIL'} ${job.scenario.id} ${job.player.name} ${ok ? facts.join(' ') : failed.map((c) => `${c.name}: ${oneLine(c.detail, 300)}`).join('; ')}`,
    details: ok || i.played === undefined ? [] : [`    ${facts.join(' ')}`, ...(i.breaks || []).map((b) => `    break ${b}`)] };
}

// ---------------------------------------------------------------- main
async function main() {
  const outDir = args.out ? path.resolve(args.out) : fs.mkdtempSync(path.join(os.tmpdir(), 'splicepoint-players-'));
  fs.mkdirSync(outDir, { recursive: true });
  console.log(`output (screenshots, manifests, logs): ${outDir}`);

  const players = PLAYERS.filter((p) => !args.players || args.players.includes(p.name));
  const scenarios = SCENARIOS.filter((s) => !args.only || args.only.includes(s.id));
  if (args.only) for (const id of args.only) if (!SCENARIOS.some((s) => s.id === id)) usage(`unknown scenario ${id}`);
  const jobs = [];
  for (const sc of scenarios) {
    for (const p of players) {
      if (!p.formats.includes(sc.format)) continue;
      if (args.fault && FAULT_APPLIES[args.fault] && !FAULT_APPLIES[args.fault](sc)) {
        console.log(`note: ${sc.id} skipped: fault ${args.fault} cannot apply to it`);
      } else if (args.fault) jobs.push({ id: `fault-${args.fault}-${sc.id}-${p.name}`, scenario: sc, player: p, fault: args.fault });
      else jobs.push({ id: `${sc.id}-${p.name}`, scenario: sc, player: p, fault: null });
    }
  }
  if (!args.fault && !args.noFault) {
    for (const fr of FAULT_RUNS) {
      const sc = SCENARIOS.find((s) => s.id === fr.scenario);
      if (!sc || (args.only && !args.only.includes(sc.id))) continue;
      for (const p of players) if (p.formats.includes(sc.format)) jobs.push({ id: `fault-${fr.fault}-${sc.id}-${p.name}`, scenario: sc, player: p, fault: fr.fault });
    }
  }
  // longest (live) first so the parallel slots finish together
  jobs.sort((a, b) => (b.scenario.live ? 1 : 0) - (a.scenario.live ? 1 : 0));
  if (!jobs.length) usage('nothing to run');

  const results = [];
  let passed = 0, failed = 0;
  const report = (job, r) => {
    const s = summarise(job, r);
    if (s.ok) passed++; else failed++;
    console.log(s.line);
    for (const d of s.details) console.log(d);
    if (r.info.screenshot) console.log(`    screenshot: ${r.info.screenshot}`);
    results.push({ id: job.id, ok: s.ok, line: s.line, checks: r.checks, info: r.info, url: r.url });
  };

  let sp = null, pageSrv = null;
  try {
    const needed = [...new Set(jobs.map((j) => j.scenario.stream))];
    try {
      sp = await startSplicepoint(outDir, needed);
      logInfo(`streams: ${Object.entries(sp.streams).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    } catch (e) {
      for (const job of jobs) report(job, { checks: [{ name: 'harness', ok: false, detail: e.message }], info: {} });
      return finish();
    }
    await corsProbe(sp.streams);
    pageSrv = await startPageServer();
    const ctx = { outDir, sp, pageBase: pageSrv.base, overBudget: () => (Date.now() - t0) / 1000 > SUITE_BUDGET_SEC };
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        if (!sp.streams[job.scenario.stream]) {
          report(job, { checks: [{ name: 'harness', ok: false, detail: `splicepoint did not print a '${job.scenario.stream}' URL` }], info: {} });
          continue;
        }
        if (ctx.overBudget()) { report(job, { checks: [{ name: 'harness', ok: false, detail: 'suite time budget exhausted before start' }], info: {} }); continue; }
        if (!sp.isAlive()) { report(job, { checks: [{ name: 'harness', ok: false, detail: `splicepoint ${sp.exitInfo()}` }], info: {} }); continue; }
        logInfo(`start ${job.id}`);
        let r;
        try {
          r = await withTimeout(playJob(job, ctx), (job.scenario.timeoutSec + (job.scenario.joinGate ? job.scenario.joinGate.limitSec : 0) + 150) * 1000, `job ${job.id}`);
        } catch (e) {
          r = { checks: [{ name: 'harness', ok: false, detail: e.message }], info: {} };
        }
        if (!sp.isAlive()) r.checks.push({ name: 'splicepoint-alive', ok: false, detail: `splicepoint ${sp.exitInfo()} during the run` });
        report(job, r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(args.concurrency, jobs.length) }, worker));
  } finally {
    if (sp) killChild(sp.cp);
    if (pageSrv) pageSrv.server.close();
  }
  return finish();

  function finish() {
    fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 1));
    console.log(`output: ${outDir}`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  }
}

// CORS + reachability probe; only prints diagnostics (the players fail on their own).
async function corsProbe(streams) {
  for (const [name, url] of Object.entries(streams)) {
    try {
      const r = await withTimeout(fetch(url, { headers: { Origin: 'http://127.0.0.1:9' } }), 10_000, `GET ${url}`);
      const acao = r.headers.get('access-control-allow-origin');
      const body = await r.text();
      logInfo(`${name}: HTTP ${r.status} ${r.headers.get('content-type')} ACAO=${acao} ${body.split('\n').length} lines`);
      if (!acao) console.log(`note: ${name} master has no Access-Control-Allow-Origin header; browser players will fail`);
    } catch (e) {
      console.log(`note: ${name} master not reachable: ${e.message}`);
    }
  }
}

const timer = setTimeout(() => {
  console.log(`FAIL suite: exceeded ${SUITE_BUDGET_SEC + 60}s hard limit`);
  console.log('0 passed, 1 failed');
  cleanupSync();
  process.exit(1);
}, (SUITE_BUDGET_SEC + 60) * 1000);
timer.unref();
main().then((code) => { cleanupSync(); process.exitCode = code; setTimeout(() => process.exit(code), 500).unref(); },
  (e) => { console.log(`FAIL suite: ${e.stack || e}`); console.log('0 passed, 1 failed'); cleanupSync(); process.exit(1); });
