// Checks over what one player run recorded (page/player.js log + network).
// Every check returns {name, ok, detail, data}.
import { category, assetKey, breakIdOf } from './media.mjs';

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
// DASH (byTime): segment numbers restart in every Period, so two segments
// are adjacent when one starts where the other ends (presentation time,
// within ADJ_TOL_SEC), and a VOD run is bounded by the start (0) / end
// (vodEnd) of the presentation.
export const ADJ_TOL_SEC = 0.05;
export function segmentOrder(byTime) {
  if (!byTime) return { key: (f) => f.sn, adjacent: (a, b) => b.sn === a.sn + 1 };
  return {
    key: (f) => Math.round(f.start * 1000),
    adjacent: (a, b) => Math.abs(b.start - (a.start + a.duration)) <= ADJ_TOL_SEC,
  };
}

export function breakRuns(changed, { vodStartSN = null, vodEndSN = null, ended = false, byTime = false, vodEnd = null } = {}) {
  const { key, adjacent } = segmentOrder(byTime);
  const isFirst = byTime ? (f) => vodEnd !== null && f.start <= ADJ_TOL_SEC : (f) => vodStartSN !== null && f.sn === vodStartSN;
  const isLast = byTime ? (f) => vodEnd !== null && Math.abs(f.start + f.duration - vodEnd) <= ADJ_TOL_SEC : (f) => vodEndSN !== null && f.sn === vodEndSN;
  const frags = [];
  for (const f of changed) {
    if (frags.length && key(frags[frags.length - 1]) === key(f)) continue;
    frags.push(f);
  }
  const runs = [];
  let cur = null;
  frags.forEach((f, i) => {
    const cat = category(f.url);
    if (cat === 'ad' || cat === 'slate') {
      if (!cur) {
        const prev = frags[i - 1];
        cur = { frags: [], startBounded: prev ? (category(prev.url) === 'content' && adjacent(prev, f)) : isFirst(f),
          holes: 0, endBounded: false, after: null, byTime };
        runs.push(cur);
      } else if (!adjacent(cur.frags[cur.frags.length - 1], f)) cur.holes++;
      cur.frags.push(f);
    } else if (cur) {
      cur.endBounded = category(f.url) === 'content' && adjacent(cur.frags[cur.frags.length - 1], f);
      cur.after = f;
      cur = null;
    }
  });
  if (cur && ended && isLast(cur.frags[cur.frags.length - 1])) cur.endBounded = true;
  for (const r of runs) {
    r.whole = r.startBounded && r.endBounded && r.holes === 0;
    r.duration = r.frags.reduce((s, f) => s + (f.duration || 0), 0);
    r.adAssets = new Set(r.frags.filter((f) => category(f.url) === 'ad').map((f) => assetKey(f.url))).size;
    r.slate = r.frags.some((f) => category(f.url) === 'slate');
    r.firstSN = r.frags[0].sn;
    r.lastSN = r.frags[r.frags.length - 1].sn;
    r.firstStart = r.frags[0].start;
    r.end = r.frags[r.frags.length - 1].start + (r.frags[r.frags.length - 1].duration || 0);
  }
  return runs;
}

export function runMatches(run, expect) {
  const why = [];
  if (!run.whole) why.push(`not whole (start=${run.startBounded} end=${run.endBounded} ${run.byTime ? 'timeHoles' : 'snHoles'}=${run.holes})`);
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
  const where = r.byTime ? `t ${r2(r.firstStart)}-${r2(r.end)}` : `sn ${r.firstSN}-${r.lastSN}`;
  return `${where} ${r2(r.duration)}s: ` +
    parts.map((p) => `${p.label}x${p.n}[cc ${[...p.cc].join(',')}]`).join(' ');
}

// ---------------------------------------------------------------- live pre-roll
// A live session's first playlist/MPD starts with a pre-roll where the player
// joins (break id `live-preroll` in splicepoint's reporting URLs). prerollPlay
// returns it as played: the leading ad/slate fragments of the played ones
// (FRAG_CHANGED order; DASH: derived, by time), up to content or to a
// segment of another break (a mid-roll right after it), and the seconds of
// content played through after it (content fragments the player went past).
// breakOf(frag): the break a segment belongs to, by default the break id in
// its reporting URL (DASH players may report the redirect's target instead:
// there the Period holding it tells, see periodBreakOf).
export const PREROLL_BREAK_ID = 'live-preroll';
export const PREROLL_CONTENT_SEC = 10; // content that must play after the pre-roll
// leadInSec: seconds of other segments (content, or another break's) that may
// be played before the pre-roll: DASH players start up to one
// maxSegmentDuration apart (Shaka before dash.js), so one of them may start
// just before it.
export function prerollPlay(changed, { byTime = false, breakOf = (f) => breakIdOf(f.url), leadInSec = 0 } = {}) {
  const { key, adjacent } = segmentOrder(byTime);
  const frags = [];
  for (const f of changed) {
    if (frags.length && key(frags[frags.length - 1]) === key(f)) continue;
    frags.push(f);
  }
  const out = { first: frags[0] || null, frags: [], holes: 0, after: null, endBounded: false, content: 0, byTime, leadIn: 0 };
  const ofPreroll = (f) => (category(f.url) === 'ad' || category(f.url) === 'slate') && breakOf(f) === PREROLL_BREAK_ID;
  let i = 0;
  while (i < frags.length && !ofPreroll(frags[i]) && out.leadIn + (frags[i].duration || 0) <= leadInSec + 1e-6) {
    out.leadIn += frags[i].duration || 0;
    i++;
  }
  if (i === frags.length || !ofPreroll(frags[i])) { i = 0; out.leadIn = 0; }
  for (; i < frags.length; i++) {
    const f = frags[i];
    const cat = category(f.url);
    const b = breakOf(f);
    if ((cat !== 'ad' && cat !== 'slate') || (b !== null && b !== PREROLL_BREAK_ID)) break;
    if (out.frags.length && !adjacent(out.frags[out.frags.length - 1], f)) out.holes++;
    out.frags.push(f);
  }
  if (out.frags.length && i < frags.length) {
    out.after = frags[i];
    out.endBounded = category(out.after.url) === 'content' && adjacent(out.frags[out.frags.length - 1], out.after);
  }
  if (out.frags.length) {
    for (let j = i; j + 1 < frags.length; j++) if (category(frags[j].url) === 'content') out.content += frags[j].duration || 0;
  }
  out.duration = out.frags.reduce((s, f) => s + (f.duration || 0), 0);
  out.adAssets = new Set(out.frags.filter((f) => category(f.url) === 'ad').map((f) => assetKey(f.url))).size;
  out.slate = out.frags.some((f) => category(f.url) === 'slate');
  out.ofPreroll = out.frags.filter((f) => breakOf(f) === PREROLL_BREAK_ID).length;
  out.firstBreak = out.first ? breakOf(out.first) : null;
  return out;
}

// What is wrong with the played pre-roll, given expect.preroll {adAssets,
// sec, slate}: it must be the first thing played, only segments of the
// pre-roll break, without holes, with the expected creatives (and slate or
// not), `sec` long (+-BREAK_TOLERANCE_SEC), then content right after it.
export function prerollMatches(p, want) {
  const why = [];
  const short = (u) => String(u).replace(/^https?:\/\/[^/]+/, '').slice(0, 120);
  if (!p.first) return ['nothing played'];
  if (!p.frags.length) {
    const b = p.firstBreak;
    return [`the first segment played is ${category(p.first.url)}${b ? ` of break ${b}` : ''} (${short(p.first.url)}${p.byTime ? ` at ${r2(p.first.start)}s` : ` sn ${p.first.sn}`}), not the pre-roll`];
  }
  if (!p.ofPreroll) why.push(`no played segment is of break ${PREROLL_BREAK_ID}`);
  if (p.holes) why.push(`${p.holes} ${p.byTime ? 'time' : 'sn'} hole(s)`);
  if (want.adAssets !== undefined && p.adAssets !== want.adAssets) why.push(`${p.adAssets} ad creatives, expected ${want.adAssets}`);
  if (want.slate === true && !p.slate) why.push('no slate');
  if (want.slate === false && p.slate) why.push('unexpected slate');
  if (want.sec !== undefined && Math.abs(p.duration - want.sec) > BREAK_TOLERANCE_SEC) why.push(`fill ${r2(p.duration)}s, expected ${want.sec}s`);
  if (!p.after) why.push('not left (run ended inside it)');
  else if (!p.endBounded) why.push(`left to ${category(p.after.url)} ${short(p.after.url)}, not to the adjacent content`);
  return why;
}

export function describePreroll(p) {
  if (!p.frags.length) return 'none';
  return describeRun({ frags: p.frags, byTime: p.byTime, duration: p.duration, firstSN: p.frags[0].sn,
    lastSN: p.frags[p.frags.length - 1].sn, firstStart: p.frags[0].start,
    end: p.frags[p.frags.length - 1].start + (p.frags[p.frags.length - 1].duration || 0) });
}

// ---------------------------------------------------------------- cc
// Whenever two consecutive segments (by sequence number; DASH: by
// presentation time) belong to different assets, the player's
// discontinuity counter (DASH: the start of the Period it put the segment
// in) must increase; it must never decrease. Checked on the fragments the
// player loaded and on the order it played them.
export function ccCheck(frags, { byTime = false } = {}) {
  const { key, adjacent } = segmentOrder(byTime);
  const violations = [];
  let switches = 0;
  const loaded = new Map();
  for (const f of frags) if (f.ev === 'loaded' && f.type === 'main') loaded.set(key(f), f);
  const bySn = [...loaded.values()].sort((a, b) => key(a) - key(b));
  const pairs = [];
  for (let i = 1; i < bySn.length; i++) if (adjacent(bySn[i - 1], bySn[i])) pairs.push([bySn[i - 1], bySn[i], 'loaded']);
  const changed = frags.filter((f) => f.ev === 'changed' && f.type === 'main');
  for (let i = 1; i < changed.length; i++) if (key(changed[i]) !== key(changed[i - 1])) pairs.push([changed[i - 1], changed[i], 'played']);
  const seen = new Set();
  const at = (f) => (byTime ? `t ${r2(f.start)}` : `sn ${f.sn}`);
  for (const [a, b, how] of pairs) {
    const switching = assetKey(a.url) !== assetKey(b.url);
    if (switching && how === 'loaded') switches++;
    const bad = a.cc == null || b.cc == null || b.cc < a.cc || (switching && b.cc <= a.cc);
    if (!bad) continue;
    const k = `${key(a)}-${key(b)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    violations.push(`${at(a)}->${byTime ? r2(b.start) : b.sn} ${category(a.url)}->${category(b.url)} ${byTime ? 'period start' : 'cc'} ${a.cc}->${b.cc} (${how})`);
  }
  const ccs = bySn.map((f) => f.cc);
  return { switches, violations, ccFirst: ccs.length ? ccs[0] : null, ccLast: ccs.length ? ccs[ccs.length - 1] : null };
}

// ---------------------------------------------------------------- DASH Periods
// timeline: [{id, start, end, kind}] from check_mpds.py (every Period the
// session's MPDs published, in presentation order).
// A time up to END_SLACK_SEC past the end of the last Period is still in it
// (a VOD's currentTime at `ended` may pass mediaPresentationDuration by a frame).
const END_SLACK_SEC = 0.25;
export function periodAt(timeline, t) {
  let hit = null;
  for (const p of timeline) {
    if (p.start <= t + 1e-3 && (p.end == null || t < p.end - 1e-3)) hit = p;
  }
  const last = timeline[timeline.length - 1];
  if (!hit && last && last.end != null && t >= last.end - 1e-3 && t < last.end + END_SLACK_SEC) hit = last;
  return hit;
}

// The Periods playback went through, in order: the Period holding
// currentTime at every sample from the first one where playback advanced.
export function playedPeriods(samples, timeline, fromIdx) {
  const out = [];
  if (fromIdx < 0) return out;
  for (let i = fromIdx; i < samples.length; i++) {
    const s = samples[i];
    const p = periodAt(timeline, s.ct);
    const id = p ? p.id : `(no Period at ${r2(s.ct)}s)`;
    const last = out[out.length - 1];
    if (last && last.id === id) { last.to = s.ct; last.n++; continue; }
    out.push({ id, from: s.ct, to: s.ct, n: 1, kind: p ? p.kind : null });
  }
  return out;
}

// Played Periods must walk the published timeline in order: each one the
// next Period of the timeline (nothing skipped, nothing played twice, never
// backwards). Returns problems.
export function periodWalk(played, timeline) {
  const problems = [];
  const idx = new Map(timeline.map((p, i) => [p.id, i]));
  for (let i = 1; i < played.length; i++) {
    const a = played[i - 1], b = played[i];
    const ia = idx.get(a.id), ib = idx.get(b.id);
    if (ia === undefined || ib === undefined) { problems.push(`played outside every Period: ${a.id} -> ${b.id}`); continue; }
    if (ib !== ia + 1) {
      problems.push(ib > ia
        ? `skipped ${timeline.slice(ia + 1, ib).map((p) => p.id).join(',')} between ${a.id} and ${b.id} (ct ${r2(a.to)} -> ${r2(b.from)})`
        : `went back from ${a.id} to ${b.id} (ct ${r2(a.to)} -> ${r2(b.from)})`);
    }
  }
  return problems;
}

// A piece of an origin Period X: X-X-E-{adN,slateN,resume} for the break of
// event E, X-live-preroll-{adN,slateN,resume} for the live pre-roll (its break
// id is not X-E); null for X itself.
export function parsePeriodId(id) {
  const m = /^(.+?)-\1-([^-]+)-(ad|slate)(\d+)$/.exec(id) || /^(.+?)-\1-([^-]+)-(resume)$/.exec(id)
    || /^(.+?)-(live-preroll)-(ad|slate)(\d+)$/.exec(id) || /^(.+?)-(live-preroll)-(resume)$/.exec(id);
  return m ? { base: m[1], event: m[2], what: m[3], n: m[4] === undefined ? null : Number(m[4]) } : null;
}

// The live pre-roll in the Periods playback went through: playback starts in
// its ad Periods X-live-preroll-ad0.. (in order, as many as want.adAssets),
// then its slate Periods (want.slate), and leaves them to X-live-preroll-resume
// (or, when the pre-roll ends with its origin Period, to the next Period).
// Returns problems.
export function periodPreroll(played, timeline, want) {
  if (!played.length) return ['no Period played'];
  const ids = [];
  let j = 0;
  // up to want.leadInSec of other Periods may play first (see prerollPlay)
  const isPre = (p) => { const q = parsePeriodId(p.id); return q && q.event === PREROLL_BREAK_ID && q.what !== 'resume'; };
  const k = played.findIndex(isPre);
  if (k > 0 && played[k].from - played[0].from <= (want.leadInSec || 0) + 0.25) j = k;
  for (; j < played.length; j++) {
    const q = parsePeriodId(played[j].id);
    if (!q || q.event !== PREROLL_BREAK_ID || q.what === 'resume') break;
    ids.push(played[j].id);
  }
  if (!ids.length) {
    const pre = timeline.find((p) => { const q = parsePeriodId(p.id); return q && q.event === PREROLL_BREAK_ID; });
    return [`playback started in ${played[0].id} at ${r2(played[0].from)}s, not in a ${PREROLL_BREAK_ID} ad Period`
      + (pre ? ` (${pre.id} starts at ${r2(pre.start)}s)` : ` (no ${PREROLL_BREAK_ID} Period published)`)];
  }
  const why = [];
  const qs = ids.map(parsePeriodId);
  const ads = qs.filter((q) => q.what === 'ad').map((q) => q.n);
  const slates = qs.filter((q) => q.what === 'slate').map((q) => q.n);
  const firstSlate = qs.findIndex((q) => q.what === 'slate');
  if (firstSlate >= 0 && qs.slice(firstSlate).some((q) => q.what === 'ad')) why.push('an ad Period after the slate');
  if (ads.some((n, k) => n !== k)) why.push(`ad Periods out of order (${ads.join(',')})`);
  if (slates.some((n, k) => n !== k)) why.push(`slate Periods out of order (${slates.join(',')})`);
  if (want.adAssets !== undefined && ads.length !== want.adAssets) why.push(`${ads.length} ad Periods, expected ${want.adAssets}`);
  if (want.slate === true && !slates.length) why.push('no slate Period');
  if (want.slate === false && slates.length) why.push('unexpected slate Period');
  const after = j < played.length ? played[j].id : null;
  const base = qs[0].base;
  const last = timeline.findIndex((p) => p.id === ids[ids.length - 1]);
  const next = last >= 0 && last + 1 < timeline.length ? timeline[last + 1] : null;
  if (!after) why.push('not left (run ended inside the pre-roll)');
  else if (after !== `${base}-${PREROLL_BREAK_ID}-resume` && !(next && next.id === after && next.kind === 'content' && !parsePeriodId(after))) {
    why.push(`left to ${after}, expected ${base}-${PREROLL_BREAK_ID}-resume`);
  }
  return why.length ? [`${ids.join(',')} -> ${after}: ${why.join(', ')}`] : [];
}

// DASH: the break a segment belongs to, from the published Period holding
// its start: `live-preroll`, `X-E` for a break's ad/slate Periods X-X-E-*,
// null for content (and when no Period holds it: then its reporting URL).
export function periodBreakOf(timeline) {
  return (f) => {
    const p = typeof f.start === 'number' ? periodAt(timeline, f.start + 1e-3) : null;
    if (!p) return breakIdOf(f.url);
    const q = parsePeriodId(p.id);
    if (!q || q.what === 'resume') return null;
    return q.event === PREROLL_BREAK_ID ? PREROLL_BREAK_ID : `${q.base}-${q.event}`;
  };
}

// The Period ids of whole breaks in the played order: content, the pod's ad
// Periods X-X-E-ad0.. in order, its slate Periods X-X-E-slate0.., then
// X-X-E-resume. Returns [{event, ids, ok, why}] for every break entered.
export function periodBreaks(played, expect) {
  const out = [];
  const parse = parsePeriodId;
  for (let i = 0; i < played.length; i++) {
    const q = parse(played[i].id);
    if (!q || q.what === 'resume' || q.event === PREROLL_BREAK_ID) continue; // the pre-roll: periodPreroll
    if (i > 0) { const prev = parse(played[i - 1].id); if (prev && prev.event === q.event && prev.what !== 'resume') continue; }
    // a break starts here
    const ids = [];
    let j = i;
    for (; j < played.length; j++) {
      const x = parse(played[j].id);
      if (!x || x.event !== q.event || x.base !== q.base || x.what === 'resume') break;
      ids.push(played[j].id);
    }
    const before = i > 0 ? played[i - 1].id : null;
    const after = j < played.length ? played[j].id : null;
    const why = [];
    const bq = before ? parse(before) : null;
    if (!before) why.push('not entered from content (playback started inside it)');
    else if (bq && bq.what !== 'resume') why.push(`entered from ${before}`);
    else if (bq ? bq.base !== q.base : before !== q.base) why.push(`entered from ${before}, not from ${q.base} or one of its resume Periods`);
    const ads = ids.map(parse).filter((x) => x.what === 'ad');
    const slates = ids.map(parse).filter((x) => x.what === 'slate');
    const adNs = ads.map((x) => x.n), slateNs = slates.map((x) => x.n);
    const firstSlate = ids.findIndex((id) => parse(id).what === 'slate');
    if (firstSlate >= 0 && ids.slice(firstSlate).some((id) => parse(id).what === 'ad')) why.push('an ad Period after the slate');
    if (adNs.some((n, k) => n !== k)) why.push(`ad Periods out of order (${adNs.join(',')})`);
    if (slateNs.some((n, k) => n !== k)) why.push(`slate Periods out of order (${slateNs.join(',')})`);
    if (expect.adAssets !== undefined && ads.length !== expect.adAssets) why.push(`${ads.length} ad Periods, expected ${expect.adAssets}`);
    if (expect.slate === true && !slates.length) why.push('no slate Period');
    if (expect.slate === false && slates.length) why.push('unexpected slate Period');
    if (!after) why.push('not left (run ended inside the break)');
    else if (after !== `${q.base}-${q.base}-${q.event}-resume`) why.push(`left to ${after}, expected ${q.base}-${q.base}-${q.event}-resume`);
    out.push({ event: q.event, before, ids, after, ok: why.length === 0, why });
    i = j - 1;
  }
  return out;
}

// Every segment the player loaded lies in the Period it was put in: the
// published Period holding the segment's start has the start (and id, when
// the player reports ids) the player gave it, and the segment's URL is of
// that Period's kind (ad Period: an ad, slate Period: the slate, else
// content). Returns problems.
export function segmentPeriods(frags, timeline) {
  const problems = [];
  for (const f of frags) {
    if (f.ev !== 'loaded' || typeof f.start !== 'number') continue;
    const p = periodAt(timeline, f.start + 1e-3);
    const where = `${f.type === 'main' ? 'video' : f.type} segment at ${r2(f.start)}s ${String(f.url).replace(/^https?:\/\/[^/]+/, '')}`;
    if (!p) { problems.push(`${where}: in no published Period`); continue; }
    if (f.cc != null && Math.abs(f.cc - p.start) > 0.002) problems.push(`${where}: player put it in the Period starting at ${r2(f.cc)}s, it lies in ${p.id} (${r2(p.start)}s)`);
    if (f.period != null && f.period !== p.id) problems.push(`${where}: player put it in Period ${f.period}, it lies in ${p.id}`);
    const cat = category(f.url);
    if (cat !== p.kind) problems.push(`${where}: a ${cat} segment in ${p.kind} Period ${p.id}`);
  }
  return problems;
}
