// Player table. Adding a player = one entry here + one adapter in
// page/player.js (which maps the player's events onto the normalised
// frag/error records the checks use).
//   name     printed in result lines, and the adapter key in page/player.js
//   formats  which scenario formats it plays ('hls', 'dash')
//   vendor   URL prefix -> folder (relative to tests/players) served by the page server
//   scripts  scripts loaded into the page before start()
//   config   player configuration passed to the adapter
export const PLAYERS = [
  {
    name: 'hls.js',
    formats: ['hls'],
    vendor: { '/vendor/hls.js/': 'node_modules/hls.js/dist/' },
    scripts: ['/vendor/hls.js/hls.min.js'],
    config: {},
  },
  // Example for later:
  // { name: 'dash.js', formats: ['dash'], vendor: { '/vendor/dashjs/': 'node_modules/dashjs/dist/' },
  //   scripts: ['/vendor/dashjs/dash.all.min.js'], config: {} },
];
