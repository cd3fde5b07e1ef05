// In-page recorder + player adapters. The harness (run.mjs) loads the player
// library, then calls window.__sp.start({player, url, rate, label}) and polls
// window.__sp.poll() / window.__sp.dump().
//
// Every adapter reports the same normalised records, so the checks in
// run.mjs do not depend on the player:
//   frag:  {ev: 'loaded'|'changed', t, url, sn, cc, start, duration, type}
//          cc is the player's discontinuity / period counter for that segment
//   error: {t, fatal, type, details, reason, url}
//   event: {t, name, data}
// and a sample of the <video> element every SAMPLE_MS.
(function () {
  'use strict';
  const SAMPLE_MS = 200;
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) * 10) / 10;
  const video = document.getElementById('video');
  const label = document.getElementById('label');
  const status = document.getElementById('status');

  const log = { frags: [], errors: [], events: [], samples: [], cfg: null, startedAt: null };

  function category(url) {
    if (!url) return 'unknown';
    if (url.includes('/demo/media/ads/')) return 'ad';
    if (url.includes('/demo/media/slate/')) return 'slate';
    if (url.includes('/demo/origin/')) return 'content';
    return 'other';
  }

  const rec = {
    frag(ev, f) {
      const r = { ev, t: now(), url: f.url, sn: f.sn, cc: f.cc, start: f.start, duration: f.duration, type: f.type || 'main' };
      log.frags.push(r);
      if (ev === 'changed') {
        label.textContent = `${log.cfg.label}  ${category(f.url).toUpperCase()}  sn=${f.sn} cc=${f.cc}  ${String(f.url).replace(/^https?:\/\/[^/]+/, '')}`;
      }
    },
    error(e) { log.errors.push(Object.assign({ t: now() }, e)); },
    event(name, data) { log.events.push({ t: now(), name, data: data === undefined ? null : data }); },
  };

  // ------------------------------------------------------------ adapters
  // Adding a player = one entry here + one entry in players.mjs.
  const adapters = {
    'hls.js': {
      start(video, url, cfg) {
        const Hls = window.Hls;
        if (!Hls || !Hls.isSupported()) throw new Error('hls.js not supported in this browser');
        const hls = new Hls(Object.assign({ debug: false, enableWorker: true }, cfg.playerConfig || {}));
        const E = Hls.Events;
        hls.on(E.MANIFEST_PARSED, (_, d) => rec.event('manifest-parsed', { levels: d.levels.length }));
        hls.on(E.LEVEL_LOADED, (_, d) => {
          const x = d.details;
          rec.event('level-loaded', {
            live: x.live, startSN: x.startSN, endSN: x.endSN, startCC: x.startCC, endCC: x.endCC,
            totalduration: x.totalduration, fragments: x.fragments.length, targetduration: x.targetduration,
          });
        });
        hls.on(E.FRAG_LOADED, (_, d) => rec.frag('loaded', d.frag));
        hls.on(E.FRAG_BUFFERED, (_, d) => rec.frag('buffered', d.frag));
        hls.on(E.FRAG_CHANGED, (_, d) => rec.frag('changed', d.frag));
        hls.on(E.ERROR, (_, d) => rec.error({
          fatal: !!d.fatal, type: d.type, details: d.details,
          reason: d.reason || (d.error && d.error.message) || (d.response && `HTTP ${d.response.code}`) || null,
          url: (d.frag && d.frag.url) || d.url || (d.context && d.context.url) || null,
        }));
        hls.loadSource(url);
        hls.attachMedia(video);
        window.__hls = hls;
      },
    },
  };

  // ------------------------------------------------------------ sampling
  function ranges(tr) {
    const out = [];
    for (let i = 0; i < tr.length; i++) out.push([tr.start(i), tr.end(i)]);
    return out;
  }
  function sample() {
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    const s = {
      t: now(), ct: video.currentTime, rate: video.playbackRate, paused: video.paused, ended: video.ended,
      seeking: video.seeking, rs: video.readyState,
      frames: q ? q.totalVideoFrames : null, dropped: q ? q.droppedVideoFrames : null,
      buffered: ranges(video.buffered),
    };
    log.samples.push(s);
    status.textContent = `t=${(s.t / 1000).toFixed(1)}s ct=${s.ct.toFixed(2)} rate=${s.rate} frames=${s.frames} ` +
      `buffered=${JSON.stringify(s.buffered.map((r) => r.map((v) => +v.toFixed(2))))}`;
    return s;
  }

  for (const name of ['loadedmetadata', 'playing', 'waiting', 'stalled', 'seeking', 'seeked', 'ended', 'pause', 'ratechange', 'error']) {
    video.addEventListener(name, () => {
      rec.event(name, name === 'error' && video.error ? { code: video.error.code, message: video.error.message } : { ct: video.currentTime });
      if (name === 'error') rec.error({ fatal: true, type: 'media', details: 'HTMLMediaElement error', reason: video.error && video.error.message });
    });
  }

  window.__sp = {
    start(cfg) {
      log.cfg = cfg;
      log.startedAt = now();
      label.textContent = cfg.label;
      const adapter = adapters[cfg.player];
      if (!adapter) throw new Error(`no adapter for player ${cfg.player}`);
      video.muted = true;
      video.defaultPlaybackRate = cfg.rate || 1;
      video.playbackRate = cfg.rate || 1;
      video.addEventListener('loadedmetadata', () => {
        video.playbackRate = cfg.rate || 1;
        const p = video.play();
        if (p && p.catch) p.catch((e) => rec.error({ fatal: true, type: 'media', details: 'play() rejected', reason: String(e) }));
      }, { once: true });
      try {
        adapter.start(video, cfg.url, cfg);
      } catch (e) {
        rec.error({ fatal: true, type: 'setup', details: 'adapter start failed', reason: String(e) });
      }
      setInterval(sample, SAMPLE_MS);
      return true;
    },
    // small state for the harness's polling loop
    poll() {
      const changed = log.frags.filter((f) => f.ev === 'changed' && f.type === 'main');
      return {
        ct: video.currentTime, ended: video.ended, paused: video.paused,
        fatal: log.errors.filter((e) => e.fatal).length,
        changed: changed.map((f) => ({ sn: f.sn, cc: f.cc, url: f.url, start: f.start, duration: f.duration })),
      };
    },
    dump() { return log; },
  };
})();
