// Checks over what one player run recorded (page/player.js log + network).
// Every check returns {name, ok, detail, data}.
import { category, assetKey } from './media.mjs';

export const FPS = 25;
export const FRAME_TOLERANCE = 0.02; // decoded frames within 2% of played duration x FPS
export const MAX_HOLE_SEC = 0.1; // largest allowed gap between video.buffered ranges
export const MAX_STALL_SEC = 1.5; // longest allowed time without currentTime progress while playing
export const BREAK_TOLERANCE_SEC = 1.0; // break fill duration vs expected break length

const r2 = (x) => Math.round(x * 100) / 100;

// ---------------------------------------------------------------- samples
// The played duration is measured from currentTime progress between two
// samples (200 ms apart). Progress larger than what the playback rate
// allows is a jump (a seek or a gap skip by the player): it is not counted
// as played and reported. So the frame expectation follows the media time
// that really played, whatever playbackRate was.
export function analyseSamples(samples) {
  const out = { played: 0, frames: null, expectedFrames: 0, jumps: [], maxStall: 0, stallAt: null,
    maxHole: 0, holeAt: null, holes: 0, baselineIdx: -1, dropped: null, maxRanges: 0 };
  // baseline: first sample whose currentTime advanced while playing
  let i0 = -1;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i];
    if (!b.paused && !b.seeking && b.rs >= 2 && b.ct > a.ct && !a.seeking) { i0 = i; break; }
  }
  out.baselineIdx = i0;
  if (i0 < 0) return out;
  let stall = 0;
  for (let i = i0 + 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i];
    const dw = (b.t - a.t) / 1000;
    const dc = b.ct - a.ct;
    const rate = Math.max(a.rate, b.rate, 0.01);
    const maxStep = dw * rate * 1.5 + 0.3;
    if (dc < -0.05) out.jumps.push({ at: r2(a.ct), by: r2(dc) });
    else if (dc > maxStep) out.jumps.push({ at: r2(a.ct), by: r2(dc) });
    else if (dc > 0) out.played += dc;
    if (dc <= 0.001 && !b.paused && !b.ended && !a.ended) {
      stall += dw;
      if (stall > out.maxStall) { out.maxStall = stall; out.stallAt = r2(b.ct); }
    } else stall = 0;
    const rs = b.buffered;
    out.maxRanges = Math.max(out.maxRanges, rs.length);
    for (let j = 1; j < rs.length; j++) {
      const gap = rs[j][0] - rs[j - 1][1];
      if (gap > MAX_HOLE_SEC) out.holes++;
      if (gap > out.maxHole) { out.maxHole = gap; out.holeAt = [r2(rs[j - 1][1]), r2(rs[j][0])]; }
    }
  }
  const first = samples[i0], last = samples[samples.length - 1];
  if (first.frames != null && last.frames != null) {
    out.frames = last.frames - first.frames;
    out.dropped = last.dropped - first.dropped;
  }
  out.expectedFrames = out.played * FPS;
  return out;
}

// ---------------------------------------------------------------- breaks
// Splits the played fragments (FRAG_CHANGED order) into runs of non-content
// (ad/slate) fragments. A run is "whole" when it is bounded on both sides
// by content with adjacent sequence numbers (or by the start/end of a VOD
// playlist) and has no sequence-number hole inside.
export function breakRuns(changed, { vodStartSN = null, vodEndSN = null, ended = false } = {}) {
  const frags = [];
  for (const f of changed) {
    if (frags.length && frags[frags.length - 1].sn === f.sn) continue;
    frags.push(f);
  }
  const runs = [];
  let cur = null;
  frags.forEach((f, i) => {
    const cat = category(f.url);
    if (cat === 'ad' || cat === 'slate') {
      if (!cur) {
        const prev = frags[i - 1];
        cur = { frags: [], startBounded: prev ? (category(prev.url) === 'content' && prev.sn === f.sn - 1)
          : (vodStartSN !== null && f.sn === vodStartSN), holes: 0, endBounded: false, after: null };
        runs.push(cur);
      } else if (f.sn !== cur.frags[cur.frags.length - 1].sn + 1) cur.holes++;
      cur.frags.push(f);
    } else if (cur) {
      cur.endBounded = category(f.url) === 'content' && f.sn === cur.frags[cur.frags.length - 1].sn + 1;
      cur.after = f;
      cur = null;
    }
  });
  if (cur && vodEndSN !== null && ended && cur.frags[cur.frags.length - 1].sn === vodEndSN) cur.endBounded = true;
  for (const r of runs) {
    r.whole = r.startBounded && r.endBounded && r.holes === 0;
    r.duration = r.frags.reduce((s, f) => s + (f.duration || 0), 0);
    r.adAssets = new Set(r.frags.filter((f) => category(f.url) === 'ad').map((f) => assetKey(f.url))).size;
    r.slate = r.frags.some((f) => category(f.url) === 'slate');
    r.firstSN = r.frags[0].sn;
    r.lastSN = r.frags[r.frags.length - 1].sn;
  }
  return runs;
}

export function runMatches(run, expect) {
  const why = [];
  if (!run.whole) why.push(`not whole (start=${run.startBounded} end=${run.endBounded} snHoles=${run.holes})`);
  if (expect.adAssets !== undefined && run.adAssets !== expect.adAssets) why.push(`${run.adAssets} ad creatives, expected ${expect.adAssets}`);
  if (expect.slate === true && !run.slate) why.push('no slate');
  if (expect.slate === false && run.slate) why.push('unexpected slate');
  if (expect.breakSec !== undefined && Math.abs(run.duration - expect.breakSec) > BREAK_TOLERANCE_SEC) {
    why.push(`fill ${r2(run.duration)}s, expected ${expect.breakSec}s`);
  }
  return why;
}

export function describeRun(r) {
  const parts = [];
  let last = null;
  for (const f of r.frags) {
    const label = assetKey(f.url);
    if (!last || last.label !== label) { last = { label, n: 0, cc: new Set() }; parts.push(last); }
    last.n++; last.cc.add(f.cc);
  }
  return `sn ${r.firstSN}-${r.lastSN} ${r2(r.duration)}s: ` +
    parts.map((p) => `${p.label}x${p.n}[cc ${[...p.cc].join(',')}]`).join(' ');
}

// ---------------------------------------------------------------- cc
// Whenever two consecutive segments (by sequence number) belong to
// different assets, the player's discontinuity counter must increase; it
// must never decrease. Checked on the fragments the player loaded and on
// the order it played them.
export function ccCheck(frags) {
  const violations = [];
  let switches = 0;
  const loaded = new Map();
  for (const f of frags) if (f.ev === 'loaded' && f.type === 'main') loaded.set(f.sn, f);
  const bySn = [...loaded.values()].sort((a, b) => a.sn - b.sn);
  const pairs = [];
  for (let i = 1; i < bySn.length; i++) if (bySn[i].sn === bySn[i - 1].sn + 1) pairs.push([bySn[i - 1], bySn[i], 'loaded']);
  const changed = frags.filter((f) => f.ev === 'changed' && f.type === 'main');
  for (let i = 1; i < changed.length; i++) if (changed[i].sn !== changed[i - 1].sn) pairs.push([changed[i - 1], changed[i], 'played']);
  const seen = new Set();
  for (const [a, b, how] of pairs) {
    const switching = assetKey(a.url) !== assetKey(b.url);
    if (switching && how === 'loaded') switches++;
    const bad = b.cc < a.cc || (switching && b.cc <= a.cc);
    if (!bad) continue;
    const key = `${a.sn}-${b.sn}`;
    if (seen.has(key)) continue;
    seen.add(key);
    violations.push(`sn ${a.sn}->${b.sn} ${category(a.url)}->${category(b.url)} cc ${a.cc}->${b.cc} (${how})`);
  }
  const ccs = bySn.map((f) => f.cc);
  return { switches, violations, ccFirst: ccs.length ? ccs[0] : null, ccLast: ccs.length ? ccs[ccs.length - 1] : null };
}
