// Player table. Adding a player = one entry here + one adapter in
// page/player.js (which maps the player's events onto the normalised
// frag/error records the checks use).
//   name     printed in result lines, and the adapter key in page/player.js
//   formats  which scenario formats it plays ('hls', 'dash')
//   vendor   URL prefix -> folder (relative to tests/players) served by the page server
//   scripts  scripts loaded into the page before start()
//   config   player configuration passed to the adapter ('{page}' in a string
//            value is replaced by the page server's origin)
export const PLAYERS = [
  {
    name: 'hls.js',
    formats: ['hls'],
    vendor: { '/vendor/hls.js/': 'node_modules/hls.js/dist/' },
    scripts: ['/vendor/hls.js/hls.min.js'],
    config: {},
  },
  {
    name: 'dash.js',
    formats: ['dash'],
    vendor: { '/vendor/dashjs/': 'node_modules/dashjs/dist/modern/umd/' },
    scripts: ['/vendor/dashjs/dash.all.min.js'],
    // dash.js defaults (passed to player.updateSettings), except the clock it
    // uses when an MPD has no <UTCTiming>: by default a public time server,
    // here the page server's /time ({page} = its origin), the same clock
    config: {
      streaming: { utcSynchronization: { defaultTimingSource: { scheme: 'urn:mpeg:dash:utc:http-iso:2014', value: '{page}/time' } } },
    },
  },
  {
    // the debug build keeps property names (SegmentReference.appendWindowStart); same code otherwise
    name: 'Shaka',
    formats: ['dash'],
    vendor: { '/vendor/shaka-player/': 'node_modules/shaka-player/dist/' },
    scripts: ['/vendor/shaka-player/shaka-player.compiled.debug.js'],
    config: {}, // Shaka defaults (passed to player.configure)
  },
];
