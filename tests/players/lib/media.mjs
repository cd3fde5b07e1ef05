// URL classification shared by the checks and the fault injector.
// Kept in sync with check_manifests.py (classify / asset_key).

// HLS media lives under /demo/media/{ads,slate}/, DASH media under
// /demo/media/dash/{ads,slate}/; the content under /demo/origin/ (DASH:
// /demo/origin/dash/).
// Transcoded creatives (MP4-only ads) are served by splicepoint under /v1/ads/.
const AD_DIRS = ['/demo/media/ads/', '/demo/media/dash/ads/', '/v1/ads/'];
const SLATE_DIRS = ['/demo/media/slate/', '/demo/media/dash/slate/'];

// splicepoint's server-side ad reporting serves ad segments through
// /v1/segment/{session}/... (it fires the VAST beacons, then redirects to
// the creative's segment). The target is in the URL, hex-encoded:
//   HLS:  /v1/segment/{sid}/{hex break}/{ad}/{index}/{count}/{hex segment URL}/{file}
//   DASH: /v1/segment/{sid}/{hex break}/{ad}/d/{count}/{hex BaseURL}/{path under it}
// (an older HLS form carried it as ?u={percent-encoded segment URL}).
// resolveReportingUrl returns that target (or the URL itself).
function unhex(h) {
  if (!h || !/^(?:[0-9a-f]{2})+$/i.test(h)) return null;
  try { return decodeURIComponent(h.replace(/../g, '%$&')); } catch { return null; }
}
export function resolveReportingUrl(url) {
  const s = String(url || '');
  if (!s.includes('/v1/segment/')) return s;
  let u;
  try { u = new URL(s); } catch { return s; }
  const parts = u.pathname.replace(/^\/v1\/segment\//, '').split('/');
  for (let i = 2; i < parts.length; i++) {
    const target = unhex(parts[i]);
    if (!target || !/^https?:\/\//.test(target)) continue;
    if (!target.endsWith('/')) return target; // HLS: the segment itself
    try { return new URL(parts.slice(i + 1).join('/'), target).href; } catch { return s; } // DASH: under the base
  }
  return u.searchParams.get('u') || s;
}

// The break a segment was served for: the second path part of a reporting
// URL, hex-encoded (`live-preroll` for the live pre-roll, `{Period}-{event}`
// for a DASH mid-roll); null when the URL is not a reporting URL.
export function breakIdOf(url) {
  const s = String(url || '');
  if (!s.includes('/v1/segment/')) return null;
  let u;
  try { u = new URL(s); } catch { return null; }
  return unhex(u.pathname.replace(/^\/v1\/segment\//, '').split('/')[1]);
}

export function category(url) {
  const s = resolveReportingUrl(url);
  if (AD_DIRS.some((d) => s.includes(d))) return 'ad';
  if (SLATE_DIRS.some((d) => s.includes(d))) return 'slate';
  if (s.includes('/demo/origin/')) return 'content';
  return 'other';
}

// Segments of one "asset" (the content, one ad creative, the slate) belong
// together; a change of asset between two consecutive segments is a
// timeline switch that needs a discontinuity (HLS) or a new Period (DASH).
// An ad creative is the first folder under /demo/media/ads/ (or
// /demo/media/dash/ads/; e.g. .../ads/ad1/v0/seg00.ts -> ad:ad1), so that a
// player switching variants (v0 -> v1) is not taken for a switch.
export function assetKey(url) {
  url = resolveReportingUrl(url);
  let p;
  try { p = new URL(url).pathname; } catch { p = String(url).split('?')[0]; }
  const cat = category(url);
  if (cat === 'ad') {
    const dir = AD_DIRS.find((d) => p.includes(d));
    const rest = p.slice(p.indexOf(dir) + dir.length);
    return `ad:${rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : rest}`;
  }
  if (cat === 'other') return `other:${p.slice(0, p.lastIndexOf('/'))}`;
  return cat;
}

export function isManifestResponse(url, contentType) {
  const ct = String(contentType || '').toLowerCase();
  if (ct.includes('mpegurl') || ct.includes('dash+xml')) return true;
  try {
    const p = new URL(url).pathname;
    return p.endsWith('.m3u8') || p.endsWith('.mpd');
  } catch { return false; }
}

const SEGMENT_EXT = /\.(ts|m4s|mp4|m4a|m4v|aac|mp3|vtt|webvtt|cmfv|cmfa|key)$/i;
export function looksLikeSegment(url) {
  try {
    const p = new URL(url).pathname;
    return SEGMENT_EXT.test(p) || p.startsWith('/v1/segment/'); // ad segments through splicepoint's reporting
  } catch { return false; }
}

// --------------------------------------------------------------- faults
// Each fault rewrites a manifest body (string) that was fetched from `url`.
// Returns {body, changes}; changes = how many edits were made.
// FAULT_CAUGHT_BY: checks that must fail on the faulty stream for the fault
// to count as detected (other checks failing too is reported, not required).
export const FAULT_CAUGHT_BY = {
  // hls.js keeps the same frag.cc across the switch; the playlists lack the tag
  'strip-ad-discontinuity': ['cc-at-switch', 'manifests'],
  // the resumed content is mapped one segment early: a 2 s hole at the end of
  // the resume Period that players jump (or stall at); check_mpds.py finds
  // presentationTimeOffset inconsistent with startNumber and with the break
  'shift-resume-pto': ['manifests', 'no-buffer-hole'],
  // the ad Periods play content from the origin: no ad is fetched, the
  // segments in ad Periods are content, check_mpds.py finds no BaseURL
  'drop-ad-baseurl': ['manifests', 'segment-period', 'ads-fetched'],
};
// how the result line counts a fault's edits
export const FAULT_EDITS = {
  'strip-ad-discontinuity': 'tags removed',
  'shift-resume-pto': 'presentationTimeOffsets shifted',
  'drop-ad-baseurl': 'BaseURLs removed',
};
// FAULT_APPLIES: which scenarios a fault can corrupt at all.
export const FAULT_APPLIES = {
  'strip-ad-discontinuity': (sc) => sc.format === 'hls' && (sc.expect.adAssets || 0) > 0,
  'shift-resume-pto': (sc) => sc.format === 'dash' && ((sc.expect.adAssets || 0) > 0 || sc.expect.slate === true),
  'drop-ad-baseurl': (sc) => sc.format === 'dash' && (sc.expect.adAssets || 0) > 0,
};
export const FAULTS = {
  // Remove every #EXT-X-DISCONTINUITY whose next segment is an ad segment.
  'strip-ad-discontinuity'(body, url) {
    if (!body.startsWith('#EXTM3U')) return { body, changes: 0 };
    const lines = body.split(/\r?\n/);
    const out = [];
    let changes = 0;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === '#EXT-X-DISCONTINUITY') {
        let j = i + 1;
        while (j < lines.length && (lines[j].trim() === '' || lines[j].startsWith('#'))) j++;
        if (j < lines.length) {
          let abs;
          try { abs = new URL(lines[j].trim(), url).href; } catch { abs = lines[j]; }
          if (category(abs) === 'ad') { changes++; continue; }
        }
      }
      out.push(lines[i]);
    }
    return { body: out.join('\n'), changes };
  },

  // DASH: the content resumes one segment off. Every SegmentTemplate of a
  // Period `...-resume` gets presentationTimeOffset + one segment duration,
  // so the player maps the resumed content's media 2 s too early.
  'shift-resume-pto'(body) {
    if (!body.includes('<MPD')) return { body, changes: 0 };
    let changes = 0;
    const out = body.replace(/<Period\b[^>]*\bid="[^"]*-resume"[^>]*>[\s\S]*?<\/Period>/g, (period) =>
      period.replace(/<SegmentTemplate\b[^>]*?\/?>/g, (tag) => {
        const dur = /\bduration="(\d+)"/.exec(tag);
        if (!dur) return tag;
        changes++;
        const pto = /\bpresentationTimeOffset="(\d+)"/.exec(tag);
        const shifted = (pto ? Number(pto[1]) : 0) + Number(dur[1]);
        return pto ? tag.replace(pto[0], `presentationTimeOffset="${shifted}"`)
          : tag.replace('<SegmentTemplate', `<SegmentTemplate presentationTimeOffset="${shifted}"`);
      }));
    return { body: out, changes };
  },

  // DASH: ad Periods lose their BaseURL, so their segments resolve against
  // the MPD's BaseURL (the content origin) instead of the ad creative.
  'drop-ad-baseurl'(body) {
    if (!body.includes('<MPD')) return { body, changes: 0 };
    let changes = 0;
    const out = body.replace(/<Period\b[^>]*\bid="[^"]*-ad\d+"[^>]*>[\s\S]*?<\/Period>/g, (period) =>
      period.replace(/\s*<BaseURL\b[^>]*>[^<]*<\/BaseURL>/g, () => { changes++; return ''; }));
    return { body: out, changes };
  },
};
