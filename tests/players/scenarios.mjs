// Scenario table. Adding a scenario = one entry here.
//   id          printed in result lines
//   stream      name of the line `splicepoint demo` prints (`<name> <url>`)
//   format      'hls' | 'dash' (which players can play it)
//   query       appended to the stream URL (the `pod` player parameter)
//   live        live stream: play until a whole break went by and content is back
//   rate        playbackRate used in the browser
//   timeoutSec  hard limit for the browser part; reaching it is a FAIL
//   expect      what the break(s) must contain:
//     breaks      number of complete breaks to play through (live: 1)
//     adAssets    distinct ad creatives that must be played in one break (0: none may appear)
//     slate       true: slate must appear; false: must not; undefined: either
//     breakSec    length of the break the fill must cover (sum of segment durations)
//     contentMayFill  (live) the break may be passed through as content (no ad/slate run at all)
//     preroll     (live) the stream has a live pre-roll where the session joins:
//                 {adAssets, sec, slate, leadInSec}. Playback must start with
//                 it, after at most leadInSec of other segments (only
//                 segments of break `live-preroll`, no holes, that many ad
//                 creatives, slate or not, `sec` long), then go to the
//                 adjacent content and play at least 10 s of content
//                 (PREROLL_CONTENT_SEC; a mid-roll in between may come, is not
//                 required); the run stops then. breaks/adAssets/slate/breakSec
//                 are then not required of mid-rolls; adAssets still asks for
//                 that many creatives fetched (ads-fetched)
//   warmupSec   (HLS, DASH) before playing, throwaway sessions ask for the ads until one
//               gets them (new creatives are transcoded on first sighting)
//   ffmpegSeconds  bound for the ffmpeg decode (live, HLS); VOD decodes to the end
//   joinGate    (live pre-roll) {playlist | mpd, limitSec}: start the player only
//               when a whole pre-roll fits where it joins (no signalled break in
//               it; DASH: not past its Period's end), reading the break schedule
//               from the origin media playlist / MPD at that path; no such moment
//               within limitSec is a FAIL (see waitForClearJoin in run.mjs)
//   guided      (HLS interstitials, guided sessions) {interstitials, resumes, resumeSec}:
//               that many interstitials must each fire INTERSTITIAL_STARTED,
//               INTERSTITIAL_ASSET_STARTED / ENDED and INTERSTITIAL_ENDED, and
//               the primary must resume (`resumes` times: a post-roll has no
//               content after it) within resumeSec of the event's resume time
//               (live: on the live timeline; VOD: where it left)
//   playerConfig  {player name: config} merged over that player's configuration
//   periods     (DASH VOD) the Period ids playback must go through, in order
//               (DASH live: derived from expect, see periodBreaks in lib/checks.mjs)
export const BREAK_EVERY = 30; // --break-every passed to `splicepoint demo`

export const SCENARIOS = [
  {
    id: 'hls-live-midroll', stream: 'hls-live', format: 'hls', query: '?pod=single', live: true,
    rate: 1, timeoutSec: 130, ffmpegSeconds: 50,
    expect: { breaks: 1, adAssets: 1, slate: true, breakSec: 16 },
  },
  {
    id: 'hls-vod-pre-mid-post', stream: 'hls-vod', format: 'hls', query: '', live: false,
    rate: 4, timeoutSec: 100,
    expect: { breaks: 3, adAssets: 2, breakSec: 16 },
  },
  {
    id: 'hls-live-two-ads', stream: 'hls-live', format: 'hls', query: '?pod=two', live: true,
    rate: 1, timeoutSec: 130, ffmpegSeconds: 50,
    expect: { breaks: 1, adAssets: 2, slate: false, breakSec: 16 },
  },
  {
    id: 'hls-live-ads-timeout', stream: 'hls-live', format: 'hls', query: '?pod=timeout', live: true,
    rate: 1, timeoutSec: 130, ffmpegSeconds: 50,
    expect: { breaks: 1, adAssets: 0, breakSec: 16, contentMayFill: true },
  },
  {
    // An ad whose only media file is an MP4 (640x360 30 fps, 44.1 kHz stereo):
    // transcoded to the content's renditions, then played in every break.
    id: 'hls-vod-mp4-creative', stream: 'hls-vod', format: 'hls', query: '?pod=mp4', live: false,
    rate: 4, timeoutSec: 100, warmupSec: 120,
    expect: { breaks: 3, adAssets: 1, breakSec: 6 },
  },
  {
    // demo-live-preroll: demo-live plus a 10 s live pre-roll of one ad (its own
    // ADS template, pod=single) where the session joins, whenever that is (a
    // signalled break it overlaps plays as content)
    id: 'hls-live-preroll', stream: 'hls-live-preroll', format: 'hls', query: '?pod=single', live: true,
    rate: 1, timeoutSec: 100, ffmpegSeconds: 50,
    expect: { preroll: { adAssets: 1, sec: 10, slate: false }, adAssets: 1 },
  },
  {
    // guided VOD: pre-, mid- and post-roll interstitials, content resumes where it left
    id: 'hls-vod-guided', stream: 'hls-vod-guided', format: 'hls', query: '', live: false,
    rate: 4, timeoutSec: 110, noFfmpeg: true,
    expect: { adAssets: 2, guided: { interstitials: 3, resumes: 2, resumeSec: 1.0 } },
  },
  {
    id: 'dash-live-midroll', stream: 'dash-live', format: 'dash', query: '?pod=single', live: true,
    rate: 1, timeoutSec: 130,
    expect: { breaks: 1, adAssets: 1, slate: true, breakSec: 16 },
  },
  {
    id: 'dash-vod-pre-mid-post', stream: 'dash-vod', format: 'dash', query: '', live: false,
    rate: 4, timeoutSec: 100,
    expect: { breaks: 3, adAssets: 2, breakSec: 16 },
    periods: ['vod-vod-0-ad0', 'vod-vod-0-ad1', 'vod', 'vod-vod-1-ad0', 'vod-vod-1-ad1', 'vod-vod-1-resume',
      'vod-vod-2-ad0', 'vod-vod-2-ad1'],
  },
  {
    // the same on DASH. dash.js starts at the live edge less the MPD's
    // suggestedPresentationDelay, where splicepoint starts the pre-roll; Shaka
    // one maxSegmentDuration (2.1 s) earlier: it may play that much first
    id: 'dash-live-preroll', stream: 'dash-live-preroll', format: 'dash', query: '?pod=single', live: true,
    rate: 1, timeoutSec: 100, joinGate: { mpd: '/demo/origin/dash/live/manifest.mpd', limitSec: 75 },
    expect: { preroll: { adAssets: 1, sec: 10, slate: false, leadInSec: 2.1 }, adAssets: 1 },
  },
  // ---- issue #12, DASH shapes (dashshapes branch) ----
  {
    // The MP4-only ad on DASH: transcoded like the content MPD (the demo
    // channels have no transcode_profile_url), then played in every break.
    id: 'dash-vod-mp4-creative', stream: 'dash-vod', format: 'dash', query: '?pod=mp4', live: false,
    rate: 4, timeoutSec: 100, warmupSec: 120,
    expect: { breaks: 3, adAssets: 1, breakSec: 6 },
    periods: ['vod-vod-0-ad0', 'vod', 'vod-vod-1-ad0', 'vod-vod-1-resume', 'vod-vod-2-ad0'],
  },
  // ---- end issue #12, DASH shapes ----
];

// Deliberate faults: each entry re-runs a scenario with a corrupting
// page.route() and expects the suite's checks to FAIL on it.
export const FAULT_RUNS = [
  { scenario: 'hls-vod-pre-mid-post', fault: 'strip-ad-discontinuity' },
  { scenario: 'dash-vod-pre-mid-post', fault: 'shift-resume-pto' },
];
