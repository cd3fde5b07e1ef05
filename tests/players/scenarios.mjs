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
//   warmupSec   (HLS) before playing, throwaway sessions ask for the ads until one
//               gets them (new creatives are transcoded on first sighting)
//   ffmpegSeconds  bound for the ffmpeg decode (live, HLS); VOD decodes to the end
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
];

// Deliberate faults: each entry re-runs a scenario with a corrupting
// page.route() and expects the suite's checks to FAIL on it.
export const FAULT_RUNS = [
  { scenario: 'hls-vod-pre-mid-post', fault: 'strip-ad-discontinuity' },
  { scenario: 'dash-vod-pre-mid-post', fault: 'shift-resume-pto' },
];
