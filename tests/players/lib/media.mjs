// URL classification shared by the checks and the fault injector.
// Kept in sync with check_manifests.py (classify / asset_key).

export function category(url) {
  const s = String(url || '');
  if (s.includes('/demo/media/ads/')) return 'ad';
  if (s.includes('/demo/media/slate/')) return 'slate';
  if (s.includes('/demo/origin/')) return 'content';
  return 'other';
}

// Segments of one "asset" (the content, one ad creative, the slate) belong
// together; a change of asset between two consecutive segments is a
// timeline switch that needs a discontinuity. An ad creative is the first
// folder under /demo/media/ads/ (e.g. .../ads/ad1/v0/seg00.ts -> ad:ad1), so
// that a player switching variants (v0 -> v1) is not taken for a switch.
export function assetKey(url) {
  let p;
  try { p = new URL(url).pathname; } catch { p = String(url).split('?')[0]; }
  const cat = category(url);
  if (cat === 'ad') {
    const rest = p.slice(p.indexOf('/demo/media/ads/') + '/demo/media/ads/'.length);
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
  try { return SEGMENT_EXT.test(new URL(url).pathname); } catch { return false; }
}

// --------------------------------------------------------------- faults
// Each fault rewrites a manifest body (string) that was fetched from `url`.
// Returns {body, changes}; changes = how many edits were made.
// FAULT_CAUGHT_BY: checks that must fail on the faulty stream for the fault
// to count as detected (other checks failing too is reported, not required).
export const FAULT_CAUGHT_BY = {
  // hls.js keeps the same frag.cc across the switch; the playlists lack the tag
  'strip-ad-discontinuity': ['cc-at-switch', 'manifests'],
};
// FAULT_APPLIES: which scenarios a fault can corrupt at all.
export const FAULT_APPLIES = {
  'strip-ad-discontinuity': (sc) => (sc.expect.adAssets || 0) > 0,
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
};
