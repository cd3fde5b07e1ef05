// In-page recorder + player adapters. The harness (run.mjs) loads the player
// library, then calls window.__sp.start({player, url, rate, label}) and polls
// window.__sp.poll() / window.__sp.dump().
//
// Every adapter reports the same normalised records, so the checks in
// run.mjs do not depend on the player:
//   frag:  {ev: 'loaded'|'changed', t, url, sn, cc, start, duration, type}
//          cc is the player's discontinuity / period counter for that segment
//          (HLS: the discontinuity number; DASH: the start, in seconds, of the
//          Period the player put the segment in, and `period` its id when the
//          player says). type is 'main' for video (or muxed) segments.
//   error: {t, fatal, type, details, reason, url}
//   event: {t, name, data}
// and a sample of the <video> element every SAMPLE_MS.
//
// DASH players have no "fragment changed" event: for them (adapter flag
// `timeline: true`) the recorder derives 'changed' records itself, at every
// sample, from the loaded video segment whose [start, start+duration) holds
// currentTime (both dash.js and Shaka put Period start + segment time on the
// media element's timeline, the MPD's presentation time).
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
    if (url.includes('/v1/segment/')) return 'ad'; // splicepoint's ad reporting redirect
    if (url.includes('/demo/media/ads/') || url.includes('/demo/media/dash/ads/')) return 'ad';
    if (url.includes('/demo/media/slate/') || url.includes('/demo/media/dash/slate/')) return 'slate';
    if (url.includes('/demo/origin/')) return 'content';
    return 'other';
  }

  const rec = {
    frag(ev, f) {
      const r = { ev, t: now(), url: f.url, sn: f.sn, cc: f.cc, start: f.start, duration: f.duration, type: f.type || 'main' };
      if (f.period !== undefined) r.period = f.period;
      if (f.rep !== undefined) r.rep = f.rep;
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
        // hls.js's own lines about interstitials (at most 300) go to the event log
        let logged = 0;
        const keep = (level) => (...a) => {
          const line = a.map(String).join(' ');
          if (logged < 300 && /nterstitial|asset/i.test(line)) { logged++; rec.event('hls-log', `${level}: ${line.slice(0, 300)}`); }
        };
        const logger = { debug: () => {}, log: keep('log'), info: keep('info'), warn: keep('warn'), error: keep('error') };
        const hls = new Hls(Object.assign({ debug: logger, enableWorker: true }, cfg.playerConfig || {}));
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
        // HLS interstitials (guided sessions): every interstitial event, with the
        // event's start and resume times and the primary's position then.
        for (const name of ['ASSET_LIST_LOADED', 'INTERSTITIAL_STARTED', 'INTERSTITIAL_ASSET_STARTED',
          'INTERSTITIAL_ASSET_ENDED', 'INTERSTITIAL_ASSET_ERROR', 'INTERSTITIAL_ENDED', 'INTERSTITIALS_PRIMARY_RESUMED']) {
          if (!E[name]) continue;
          hls.on(E[name], (_, d) => {
            const ev = d && d.event;
            const im = hls.interstitialsManager;
            rec.event(name, {
              id: ev ? ev.identifier : null,
              start: ev ? ev.startTime : null,
              resume: ev ? ev.resumeTime : null,
              inPlace: ev ? !!ev.appendInPlace : null,
              asset: d && d.assetListIndex !== undefined ? d.assetListIndex : null,
              assets: d && d.assetListResponse && Array.isArray(d.assetListResponse.ASSETS) ? d.assetListResponse.ASSETS.length : null,
              primary: im && im.primary ? im.primary.currentTime : null,
              ct: video.currentTime,
              error: d && d.error ? String(d.error.message || d.error) : null,
            });
          });
        }
        // A post-roll starts after the content ended (the element paused): play on,
        // as a player's UI does for the next item.
        video.addEventListener('loadedmetadata', () => {
          const im = hls.interstitialsManager;
          if (video.paused && im && im.playingAsset) {
            const p = video.play();
            if (p && p.catch) p.catch(() => {});
          }
        });
        hls.loadSource(url);
        hls.attachMedia(video);
        window.__hls = hls;
      },
    },

    // dash.js: FRAGMENT_LOADING_COMPLETED gives the request (presentation
    // start time, duration, media type) and the Period (streamInfo) the
    // player scheduled it in. Every ERROR event counts as an error: dash.js
    // raises it only when it gave up on something (a manifest or segment after
    // its retries, a MediaSource/SourceBuffer failure, a Period it cannot play).
    'dash.js': {
      timeline: true,
      start(video, url, cfg) {
        const dashjs = window.dashjs;
        if (!dashjs) throw new Error('dash.js not loaded');
        const player = dashjs.MediaPlayer().create();
        const E = dashjs.MediaPlayer.events;
        player.updateSettings(Object.assign({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } }, cfg.playerConfig || {}));
        player.on(E.MANIFEST_LOADED, (e) => {
          const d = e.data || {};
          rec.event('manifest-loaded', { type: d.type, periods: (d.Period || []).map((p) => p.id) });
        });
        player.on(E.STREAM_INITIALIZED, (e) => rec.event('stream-initialized', e.streamInfo ? { id: e.streamInfo.id, start: e.streamInfo.start } : null));
        player.on(E.PERIOD_SWITCH_COMPLETED, (e) => {
          const si = e.toStreamInfo || {};
          rec.event('period-switch', { id: si.id, start: si.start, duration: si.duration, ct: video.currentTime });
        });
        player.on(E.FRAGMENT_LOADING_COMPLETED, (e) => {
          const r = e.request;
          if (!r || r.type !== 'MediaSegment' || e.error) return;
          const rep = r.representation || {};
          const si = (rep.mediaInfo && rep.mediaInfo.streamInfo) || null;
          const m = String(r.url || '').match(/(\d+)\.m4s(?:\?|$)/);
          rec.frag('loaded', {
            url: r.url, sn: m ? Number(m[1]) : r.index, cc: si ? si.start : null, period: si ? si.id : (e.streamId || null),
            start: r.startTime, duration: r.duration, type: r.mediaType === 'video' ? 'main' : r.mediaType, rep: rep.id,
          });
        });
        player.on(E.ERROR, (e) => {
          const er = e.error || {};
          rec.error({ fatal: true, type: 'dashjs', details: `error ${er.code ?? '?'}`, reason: er.message || (typeof er === 'string' ? er : null),
            url: (er.data && (er.data.url || (er.data.request && er.data.request.url))) || null });
        });
        player.on(E.PLAYBACK_ERROR, (e) => rec.error({ fatal: true, type: 'dashjs', details: 'playback error', reason: e.error ? String(e.error.message || e.error) : null }));
        player.on(E.PLAYBACK_ENDED, () => rec.event('dash-playback-ended', { ct: video.currentTime }));
        if (E.GAP_CAUSED_SEEK_TO_PERIOD_END) player.on(E.GAP_CAUSED_SEEK_TO_PERIOD_END, (e) => rec.event('gap-seek', { seekTime: e.seekTime, duration: e.duration, ct: video.currentTime }));
        player.initialize(video, url, false);
        window.__player = player;
      },
    },

    // Shaka Player (the uncompiled-names debug build, so a SegmentReference's
    // appendWindowStart, the start of its Period, is readable). A response
    // filter on the networking engine sees every media segment with its
    // SegmentReference (presentation times) and stream type. Errors of
    // severity CRITICAL are fatal; RECOVERABLE ones are listed as warnings.
    Shaka: {
      timeline: true,
      async start(video, url, cfg) {
        const shaka = window.shaka;
        if (!shaka) throw new Error('Shaka Player not loaded');
        shaka.polyfill.installAll();
        if (!shaka.Player.isBrowserSupported()) throw new Error('Shaka Player: browser not supported');
        if (shaka.log && shaka.log.setLevel) shaka.log.setLevel(shaka.log.Level.WARNING);
        const player = new shaka.Player();
        window.__player = player;
        await player.attach(video);
        player.configure(cfg.playerConfig || {});
        const RT = shaka.net.NetworkingEngine.RequestType;
        const ART = shaka.net.NetworkingEngine.AdvancedRequestType;
        player.getNetworkingEngine().registerResponseFilter((type, response, context) => {
          if (type !== RT.SEGMENT || !context || context.type !== ART.MEDIA_SEGMENT || !context.segment) return;
          const ref = context.segment;
          const kind = context.stream && context.stream.type;
          const m = String(response.uri || '').match(/(\d+)\.m4s(?:\?|$)/);
          rec.frag('loaded', {
            url: response.uri, sn: m ? Number(m[1]) : null, cc: ref.appendWindowStart === undefined ? null : ref.appendWindowStart,
            start: ref.getStartTime(), duration: ref.getEndTime() - ref.getStartTime(), type: kind === 'video' ? 'main' : kind,
            rep: context.stream ? (context.stream.originalId || context.stream.id) : undefined,
          });
        });
        player.addEventListener('error', (ev) => {
          const d = ev.detail || {};
          rec.error({ fatal: d.severity === 2, type: `shaka category ${d.category}`, details: `error ${d.code}`,
            reason: (d.message || '') + (d.data ? ` ${JSON.stringify(d.data).slice(0, 300)}` : ''), url: null });
        });
        for (const name of ['gapjumped', 'stalldetected', 'buffering', 'manifestupdated']) {
          player.addEventListener(name, (ev) => {
            const data = { ct: video.currentTime };
            if (name === 'buffering') data.buffering = ev.buffering;
            rec.event(name, data);
          });
        }
        player.addEventListener('manifestparsed', () => rec.event('manifest-parsed', { live: player.isLive() }));
        try {
          await player.load(url);
          rec.event('shaka-loaded', { live: player.isLive() });
        } catch (e) {
          rec.error({ fatal: true, type: 'shaka load', details: `error ${e && e.code}`, reason: e && (e.message || JSON.stringify(e.data || '').slice(0, 300)) });
        }
      },
    },
  };

  // DASH: the video segment on screen, from the loaded ones (see the header)
  let lastChanged = null;
  function deriveChanged(ct) {
    let best = null;
    for (let i = log.frags.length - 1; i >= 0; i--) {
      const f = log.frags[i];
      if (f.ev !== 'loaded' || f.type !== 'main' || typeof f.start !== 'number') continue;
      if (f.start - 0.01 <= ct && ct < f.start + f.duration - 0.001) { best = f; break; }
    }
    if (!best) return;
    if (lastChanged && Math.abs(lastChanged.start - best.start) < 0.001) return;
    lastChanged = best;
    rec.frag('changed', best);
  }

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
    if (timelineAdapter && !s.seeking) deriveChanged(s.ct);
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

  let timelineAdapter = false;
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
      timelineAdapter = !!adapter.timeline;
      cfg.playerConfig = JSON.parse(JSON.stringify(cfg.playerConfig || {}).split('{page}').join(location.origin));
      try {
        const p = adapter.start(video, cfg.url, cfg);
        if (p && p.catch) p.catch((e) => rec.error({ fatal: true, type: 'setup', details: 'adapter start failed', reason: String(e) }));
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
        changed: changed.map((f) => ({ sn: f.sn, cc: f.cc, url: f.url, start: f.start, duration: f.duration, period: f.period })),
        interstitials: log.events.filter((e) => e.name.startsWith('INTERSTITIAL')).map((e) => ({ name: e.name, id: e.data && e.data.id })),
        primary: window.__hls && window.__hls.interstitialsManager && window.__hls.interstitialsManager.primary
          ? window.__hls.interstitialsManager.primary.currentTime : null,
      };
    },
    dump() { return log; },
  };
})();
