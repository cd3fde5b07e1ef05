#!/usr/bin/env python3
"""Independent check of the DASH MPDs a player run received.

Usage: check_mpds.py DIR [--live|--vod] [--media]

DIR holds the MPDs saved by run.mjs (NNNN.mpd files) and index.json, a list
of {"file", "url", "t", "status"} in the order they were received. Parses
every MPD with the `mpegdash` package (not the player's parser) and checks:

  each MPD
  * it parses; type is dynamic (--live) or static (--vod); a dynamic MPD
    has a Location (its session URL) and a minimumUpdatePeriod;
  * Period ids are present and unique; Period starts (explicit, or the
    previous start + duration) never decrease; an explicit duration ends
    exactly where the next Period starts (no gap, no overlap); a static
    MPD's mediaPresentationDuration is where its last Period ends;
  * ad Periods (`...-ad<n>`) have a BaseURL under /demo/media/dash/ads/,
    slate Periods (`...-slate<n>`) one under /demo/media/dash/slate/, and
    the others resolve under /demo/origin/ (a Period with an ad or slate
    BaseURL must be named as one);
  * every Period has a video and an audio AdaptationSet, each with a
    SegmentTemplate (timescale, duration, media, initialization);
  * the content pieces of one origin Period (`X`, `X-X-<event>-resume` and
    the live pre-roll's `X-live-preroll-resume`)
    number their segments the same way: per AdaptationSet,
    presentationTimeOffset - startNumber x duration is the same in every
    piece (a segment number always means the same media time);
  * they are anchored: Period start - presentationTimeOffset (the
    presentation time of media time 0) is the same in every piece of a live
    origin Period (the ads replace content), and grows by exactly the
    inserted ad/slate time in a VOD (the ads are inserted);

  with --media, the media of every Period seen
  * the first segment of its video and audio (first Representation) starts
    at the media time its presentationTimeOffset names: tfdt / track
    timescale within 50 ms (ad segments fetched from the creative, not
    through splicepoint's reporting redirect, so no beacon fires);

  across the refreshes of one session (same URL; dynamic MPDs)
  * a published Period keeps its start, BaseURL, startNumber and
    presentationTimeOffset, and its duration once it has one;
  * a new Period is published in time: no earlier MPD, still valid (its
    fetch time + minimumUpdatePeriod) when the first segment the new Period
    replaces becomes available, ended with an open-ended Period that promised
    that segment (see check_announced; needs the "wall" fetch times);
  * Periods leave only from the front (the time-shift window), new ones
    appear only after the Periods already published;
  * publishTime never goes back, the Location does not change, and the MPD
    advanced during the run.

Prints one JSON object on stdout: {"ok", "problems", "notes", "stats",
"timeline"}; timeline is every Period seen (union over refreshes, in
presentation order): {"id", "start", "end", "kind", "base"}, and for a
static MPD "duration" is its mediaPresentationDuration.
Exit status 0 when ok, 1 when problems were found, 2 on usage errors.
"""
import datetime
import json
import os
import re
import struct
import sys
import urllib.request
from urllib.parse import urljoin, urlsplit

from mpegdash.parser import MPEGDASHParser

MAX_PROBLEMS = 40
EPS = 0.002  # seconds
AD_DIR = "/demo/media/dash/ads/"
# Transcoded creatives (MP4-only ads, issue #12) are served by splicepoint.
TRANSCODED_AD_DIR = "/v1/ads/"
SLATE_DIR = "/demo/media/dash/slate/"
CONTENT_DIR = "/demo/origin/"

DUR_RE = re.compile(r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
                    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text):
    if text is None:
        return None
    m = DUR_RE.match(text.strip())
    if not m:
        raise ValueError(f"bad xs:duration {text!r}")
    return (float(m["d"] or 0) * 86400 + float(m["h"] or 0) * 3600
            + float(m["m"] or 0) * 60 + float(m["s"] or 0))


def period_kind(pid):
    if re.search(r"-ad\d+$", pid or ""):
        return "ad"
    if re.search(r"-slate\d+$", pid or ""):
        return "slate"
    return "content"


def period_base(pid):
    """Origin Period a piece belongs to: X for X, X-X-<event>-{adN,slateN,resume},
    and X-live-preroll-{adN,slateN,resume} (the live pre-roll)."""
    m = re.match(r"^(?P<x>.+?)-(?P=x)-(?P<ev>[^-]+)-(?:ad\d+|slate\d+|resume)$", pid or "") \
        or re.match(r"^(?P<x>.+?)-(?P<ev>live-preroll)-(?:ad\d+|slate\d+|resume)$", pid or "")
    return (m["x"], m["ev"]) if m else (pid, None)


def first(xs):
    return xs[0] if xs else None


# splicepoint's server-side ad reporting: an ad Period's BaseURL may be
# /v1/segment/{session}/{hex break}/{ad}/d/{count}/{hex BaseURL}/ (it fires
# the beacons, then redirects to the creative's segment under that base).


def resolve_reporting_url(url):
    """(target URL, session id) of a reporting URL, else (url, None)."""
    path = urlsplit(url).path
    if not path.startswith("/v1/segment/"):
        return url, None
    segs = path[len("/v1/segment/"):].split("/")
    for i in range(2, len(segs)):
        try:
            target = bytes.fromhex(segs[i]).decode() if segs[i] else ""
        except ValueError:
            continue
        if re.match(r"^https?://", target):
            return (target if not target.endswith("/") else urljoin(target, "/".join(segs[i + 1:]))), segs[0]
    return url, segs[0]


def session_of(mpd_url):
    """Session id in /v1/dash/{config}/{session}/... (None before the redirect)."""
    m = re.match(r"^/v1/dash/[^/]+/([0-9a-f]{16,})/", urlsplit(mpd_url).path)
    return m[1] if m else None


def url_kind(url):
    path = urlsplit(resolve_reporting_url(url)[0]).path
    if AD_DIR in path or TRANSCODED_AD_DIR in path:
        return "ad"
    if SLATE_DIR in path:
        return "slate"
    if CONTENT_DIR in path:
        return "content"
    return "other"


def templates(period):
    """{contentType: (SegmentTemplate, AdaptationSet)} of one Period."""
    out = {}
    for aset in period.adaptation_sets or []:
        ctype = aset.content_type or (aset.mime_type or "").split("/")[0]
        reps = aset.representations or []
        st = first(aset.segment_templates) or (first(reps[0].segment_templates) if reps else None) \
            or first(period.segment_templates)
        out.setdefault(ctype, (st, aset))
    return out


def summarize_mpd(mpd, url, problem, name, kind_expected, note=lambda msg: None):
    """Per-MPD checks; returns (periods, info) with periods =
    [{id, start, end, duration, kind, base, event, baseurl, tmpl}]."""
    if kind_expected == "live" and mpd.type != "dynamic":
        problem(f"{name}: MPD type {mpd.type!r}, expected dynamic")
    if kind_expected == "vod" and (mpd.type or "static") != "static":
        problem(f"{name}: MPD type {mpd.type!r}, expected static")
    dynamic = mpd.type == "dynamic"
    loc = first(mpd.locations)
    location = loc.text.strip() if loc is not None and loc.text else None
    if dynamic and not location:
        problem(f"{name}: dynamic MPD without Location")
    if dynamic and mpd.minimum_update_period is None:
        problem(f"{name}: dynamic MPD without minimumUpdatePeriod")
    mpd_base = urljoin(url, first(mpd.base_urls).base_url_value.strip()) if mpd.base_urls else url
    periods = []
    ids = set()
    prev = None
    for i, p in enumerate(mpd.periods or []):
        pid = p.id
        if not pid:
            problem(f"{name}: Period #{i} has no id")
            pid = f"#{i}"
        elif pid in ids:
            problem(f"{name}: Period id {pid} is not unique")
        ids.add(pid)
        try:
            start = parse_duration(p.start)
            dur = parse_duration(p.duration)
        except ValueError as e:
            problem(f"{name}: Period {pid}: {e}")
            continue
        if start is None:
            if prev is None:
                start = 0.0 if not dynamic else None
            elif prev["duration"] is not None:
                start = prev["start"] + prev["duration"]
        if start is None:
            problem(f"{name}: Period {pid} has no start and none can be derived")
            continue
        if prev is not None:
            if start < prev["start"] - EPS:
                problem(f"{name}: Period {pid} starts at {start}s, before {prev['id']} ({prev['start']}s)")
            if prev["duration"] is not None and abs(prev["start"] + prev["duration"] - start) > EPS:
                problem(f"{name}: Period {prev['id']} ends at {prev['start'] + prev['duration']:.3f}s "
                        f"but {pid} starts at {start:.3f}s (gap or overlap)")
            prev["end"] = start
        baseurl_node = first(p.base_urls)
        baseurl = urljoin(mpd_base, baseurl_node.base_url_value.strip()) if baseurl_node is not None \
            and baseurl_node.base_url_value else None
        kind = period_kind(pid)
        where = url_kind(baseurl or mpd_base)
        target, sid = resolve_reporting_url(baseurl) if baseurl else (None, None)
        own = session_of(urljoin(url, location) if location else url)
        if sid is not None and own is not None and sid != own:
            problem(f"{name}: Period {pid} BaseURL reports to session {sid}, the MPD is of session {own}")
        if kind in ("ad", "slate"):
            if baseurl is None:
                problem(f"{name}: {kind} Period {pid} has no BaseURL")
            elif where != kind:
                problem(f"{name}: {kind} Period {pid} BaseURL {target} is not under "
                        f"{AD_DIR if kind == 'ad' else SLATE_DIR}")
        elif where != "content":
            problem(f"{name}: Period {pid} resolves its media to {baseurl or mpd_base} ({where}), "
                    f"but is not named as an ad or slate Period")
        tmpl = {}
        sets = templates(p)
        for ctype in ("video", "audio"):
            if ctype not in sets:
                problem(f"{name}: Period {pid} has no {ctype} AdaptationSet")
                continue
            st, _aset = sets[ctype]
            if st is None:
                problem(f"{name}: Period {pid} {ctype} AdaptationSet has no SegmentTemplate")
                continue
            if not st.timescale or not st.duration or not st.media or not st.initialization:
                problem(f"{name}: Period {pid} {ctype} SegmentTemplate lacks timescale/duration/media/initialization")
                continue
            reps = _aset.representations or []
            tmpl[ctype] = {"timescale": st.timescale, "duration": st.duration,
                           "start_number": st.start_number if st.start_number is not None else 1,
                           "pto": st.presentation_time_offset or 0, "media": st.media, "init": st.initialization,
                           "rep": reps[0].id if reps else None,
                           "bandwidth": reps[0].bandwidth if reps else None}
        for es in p.event_streams or []:
            ts = es.timescale or 1
            outside = [ev.presentation_time / ts for ev in es.events or []
                       if ev.presentation_time is not None and dur is not None
                       and not (0 <= ev.presentation_time / ts - (getattr(es, "presentation_time_offset", None) or 0) / ts < dur)]
            if outside:
                note(f"{name}: Period {pid} ({dur:g}s) has {len(outside)} {es.scheme_id_uri} event(s) outside its "
                     f"span, at {', '.join(f'{x:g}s' for x in outside)} into it")
        base, event = period_base(pid)
        cur = {"id": pid, "start": start, "duration": dur, "end": start + dur if dur is not None else None,
               "kind": kind, "base": base, "event": event, "baseurl": baseurl, "tmpl": tmpl,
               "media_base": resolve_reporting_url(baseurl)[0] if baseurl else mpd_base}
        periods.append(cur)
        prev = cur
    if not periods:
        problem(f"{name}: MPD without Periods")
    mpd_dur = None
    if not dynamic:
        try:
            mpd_dur = parse_duration(mpd.media_presentation_duration)
        except ValueError as e:
            problem(f"{name}: {e}")
        if mpd_dur is None:
            problem(f"{name}: static MPD without mediaPresentationDuration")
        elif periods:
            last = periods[-1]
            if last["end"] is None:
                last["end"] = mpd_dur
            elif abs(last["end"] - mpd_dur) > EPS:
                problem(f"{name}: last Period {last['id']} ends at {last['end']:.3f}s but "
                        f"mediaPresentationDuration is {mpd_dur:.3f}s")
    ast = None
    if mpd.availability_start_time:
        try:
            ast = datetime.datetime.fromisoformat(mpd.availability_start_time.replace("Z", "+00:00")).timestamp()
        except ValueError as e:
            problem(f"{name}: bad availabilityStartTime: {e}")
    try:
        mup = parse_duration(mpd.minimum_update_period)
    except ValueError as e:
        problem(f"{name}: {e}")
        mup = None
    return periods, {"dynamic": dynamic, "location": location, "publish_time": mpd.publish_time,
                     "duration": mpd_dur, "ast": ast, "mup": mup}


def check_content_pieces(periods, live, problem, name):
    """Segment numbering and anchoring of the content pieces of each origin Period.
    problem(key, msg): key identifies the finding across MPDs."""
    by_base = {}
    for p in periods:
        if p["kind"] == "content":
            by_base.setdefault(p["base"], []).append(p)
    for base, pieces in by_base.items():
        if len(pieces) < 2:
            continue
        ref = pieces[0]
        for ctype in ("video", "audio"):
            t0 = ref["tmpl"].get(ctype)
            if not t0:
                continue
            for p in pieces[1:]:
                t = p["tmpl"].get(ctype)
                if not t:
                    continue
                if t["timescale"] != t0["timescale"] or t["duration"] != t0["duration"]:
                    problem((p["id"], ctype, "template"), f"{name}: {p['id']} {ctype} SegmentTemplate timescale/duration "
                            f"{t['timescale']}/{t['duration']} differ from {ref['id']} ({t0['timescale']}/{t0['duration']})")
                    continue
                ts = t["timescale"]
                k0 = (t0["pto"] - t0["start_number"] * t0["duration"]) / ts
                k = (t["pto"] - t["start_number"] * t["duration"]) / ts
                if abs(k - k0) > EPS:
                    problem((p["id"], ctype, "numbering"), f"{name}: {p['id']} {ctype}: startNumber {t['start_number']} and presentationTimeOffset "
                            f"{t['pto']} ({t['pto'] / ts:.3f}s) disagree with {ref['id']} (startNumber "
                            f"{t0['start_number']}, presentationTimeOffset {t0['pto']}): segment numbers would "
                            f"map to media times {k - k0:+.3f}s apart")
                # media time 0 on the presentation timeline
                anchor0 = ref["start"] - t0["pto"] / ts
                anchor = p["start"] - t["pto"] / ts
                inserted = sum((q["end"] or q["start"]) - q["start"] for q in periods
                               if q["kind"] != "content" and ref["start"] <= q["start"] < p["start"])
                want = anchor0 if live else anchor0 + inserted
                if abs(anchor - want) > EPS:
                    problem((p["id"], ctype, "anchor"), f"{name}: {p['id']} {ctype}: presentationTimeOffset {t['pto']} ({t['pto'] / ts:.3f}s) puts "
                            f"the content {anchor - want:+.3f}s off where it resumes: expected "
                            f"{(p['start'] - want) * ts:.0f} ({'same anchor as' if live else f'{inserted:.3f}s of ads after'} "
                            f"{ref['id']})")


# ---------------------------------------------------------------- media
def _boxes(b, off, end):
    while off + 8 <= end:
        size, typ = struct.unpack(">I4s", b[off:off + 8])
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack(">Q", b[off + 8:off + 16])[0], 16
        elif size == 0:
            size = end - off
        if size < hdr:
            return
        yield typ, off + hdr, off + size
        off += size


def _find(b, path, off=0, end=None):
    for typ, body, e in _boxes(b, off, len(b) if end is None else end):
        if typ == path[0]:
            return (body, e) if len(path) == 1 else _find(b, path[1:], body, e)
    return None


def track_timescale(init):
    """mdhd timescale of the (first) track of an init segment."""
    hit = _find(init, [b"moov", b"trak", b"mdia", b"mdhd"])
    if not hit:
        raise ValueError("no moov/trak/mdia/mdhd")
    body = hit[0]
    return struct.unpack(">I", init[body + 20:body + 24] if init[body] == 1 else init[body + 12:body + 16])[0]


def first_tfdt(seg):
    """baseMediaDecodeTime of the first moof/traf/tfdt of a media segment."""
    hit = _find(seg, [b"moof", b"traf", b"tfdt"])
    if not hit:
        raise ValueError("no moof/traf/tfdt")
    body = hit[0]
    return struct.unpack(">Q", seg[body + 4:body + 12])[0] if seg[body] == 1 else \
        struct.unpack(">I", seg[body + 4:body + 8])[0]


def fill_template(tmpl, rep, number=None, bandwidth=None):
    def sub(m):
        name, fmt = m[1], m[2]
        if name == "":
            return "$"
        val = {"RepresentationID": rep, "Number": number, "Bandwidth": bandwidth}.get(name)
        if val is None:
            raise ValueError(f"cannot fill ${name}$ in {tmpl}")
        return (fmt % val) if fmt else str(val)
    return re.sub(r"\$(RepresentationID|Number|Bandwidth|)(%0\d+d)?\$", sub, tmpl)


def check_media(periods, problem, stats, tolerance=0.05):
    """The first segment of every Period (first Representation of its video and
    audio AdaptationSet) starts where the MPD says: its tfdt (earliest decode
    time; the demo media have no B-frames and no edit lists) / the track
    timescale is the SegmentTemplate's presentationTimeOffset / timescale,
    within `tolerance` seconds (an audio segment starts on an AAC frame, up to
    21.3 ms after the 2 s grid). Ad segments are fetched from the creative's
    own URL, not through splicepoint's reporting redirect (no beacons)."""
    cache = {}

    def get(url):
        if url not in cache:
            with urllib.request.urlopen(url, timeout=5) as r:
                cache[url] = r.read()
        return cache[url]

    for p in periods:
        for ctype, t in p["tmpl"].items():
            if not t.get("rep") or not t.get("media") or not t.get("init"):
                continue
            try:
                init_url = urljoin(p["media_base"], fill_template(t["init"], t["rep"], bandwidth=t["bandwidth"]))
                seg_url = urljoin(p["media_base"], fill_template(t["media"], t["rep"], t["start_number"], t["bandwidth"]))
                ts = track_timescale(get(init_url))
                media_t = first_tfdt(get(seg_url)) / ts
            except (OSError, ValueError) as e:
                problem(f"Period {p['id']} {ctype}: could not read its first segment: {e}")
                continue
            stats["segments_probed"] = stats.get("segments_probed", 0) + 1
            want = t["pto"] / t["timescale"]
            if abs(media_t - want) > tolerance:
                problem(f"Period {p['id']} {ctype}: first segment {seg_url} starts at media time {media_t:.3f}s "
                        f"(tfdt), but presentationTimeOffset {t['pto']} says {want:.3f}s: the Period's media is "
                        f"shown {media_t - want:+.3f}s off")


def check_announced(before, binfo, bname, after, aname, problem, probe):
    """A new Period must be in every MPD a client may still be using when the
    first segment it replaces becomes available. The MPD fetched at F (before)
    is valid until F + minimumUpdatePeriod (the client refreshes no sooner);
    if its last Period L is open-ended, it promises L's segments up to then.
    When the next MPD (after) starts a new Period P at S inside that, L's
    segment [S, S + d) was promised (available at S + d <= F + MUP) but is
    not part of the presentation: a client that did not refresh in time asks
    for it. F is the wall-clock fetch time recorded by run.mjs, on the MPD's
    timeline (minus availabilityStartTime). With --media that segment is
    fetched from the origin to show what the client would get."""
    if not before or binfo.get("wall") is None or binfo.get("ast") is None or binfo.get("mup") is None:
        return
    last = before[-1]
    if last["duration"] is not None:
        return
    known = {p["id"] for p in before}
    fetched = binfo["wall"] / 1000 - binfo["ast"]
    for p in after:
        if p["id"] in known or p["start"] <= last["start"]:
            continue
        t = last["tmpl"].get("video") or next(iter(last["tmpl"].values()), None)
        if not t:
            return
        d = t["duration"] / t["timescale"]
        due = p["start"] + d  # availability of L's segment [S, S + d)
        valid_until = fetched + binfo["mup"]
        if valid_until <= due + 0.05:
            return
        number = t["start_number"] + round((p["start"] - last["start"]) / d)
        got = ""
        if probe and t.get("media") and t.get("rep"):
            url = urljoin(last["media_base"], fill_template(t["media"], t["rep"], number, t["bandwidth"]))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    got = f"; GET {url} -> HTTP {r.status}"
            except urllib.error.HTTPError as e:
                got = f"; GET {url} -> HTTP {e.code}"
            except OSError as e:
                got = f"; GET {url} -> {e}"
        problem(f"{aname}: Period {p['id']} (start {p['start']:g}s) was published too late: {bname}, fetched at "
                f"{fetched:.2f}s and valid until {valid_until:.2f}s (minimumUpdatePeriod), still ended with "
                f"open-ended {last['id']}, promising its segment {number} [{p['start']:g}s, {due:g}s), available "
                f"at {due:g}s{got}")
        return


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[1]
    kind = "live" if "--live" in argv else "vod" if "--vod" in argv else None
    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    problems, notes = [], []

    def problem(msg):
        if len(problems) < MAX_PROBLEMS:
            problems.append(msg)
        elif len(problems) == MAX_PROBLEMS:
            problems.append("... more problems omitted")

    reported = set()
    noted = set()

    def note(msg):
        """a finding that is not a failure, once per text (without the file name)"""
        key = msg.split(": ", 1)[-1]
        if key not in noted and len(notes) < MAX_PROBLEMS:
            noted.add(key)
            notes.append(msg)

    def problem_once(key, msg):
        """content-piece findings: once per Period, not once per refresh"""
        if key not in reported:
            reported.add(key)
            problem(msg)

    stats = {"mpds": 0, "sessions": 0, "periods_seen": 0, "ad_periods": 0, "slate_periods": 0,
             "refreshes_max": 0}
    series = {}  # url -> [(t, name, periods, info)]
    for entry in index:
        name, url = entry["file"], entry["url"]
        if entry.get("status", 200) >= 400:
            problem(f"{name}: HTTP {entry.get('status')} for {url}")
            continue
        with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        if "<MPD" not in text:
            notes.append(f"{name}: not an MPD, skipped ({url})")
            continue
        stats["mpds"] += 1
        try:
            mpd = MPEGDASHParser.parse(text)
        except Exception as e:  # noqa: BLE001 - any parse failure is a finding
            problem(f"{name}: mpegdash could not parse {url}: {e}")
            continue
        periods, info = summarize_mpd(mpd, url, problem, name, kind, note)
        check_content_pieces(periods, info["dynamic"], problem_once, name)
        info["wall"] = entry.get("wall")
        series.setdefault(url, []).append((entry.get("t", 0), name, periods, info))

    timeline = {}  # id -> period (latest seen)
    mpd_duration = None
    for url, refreshes in series.items():
        stats["sessions"] += 1
        refreshes.sort(key=lambda r: r[0])
        stats["refreshes_max"] = max(stats["refreshes_max"], len(refreshes))
        known = {}  # id -> (period, file)
        prev_ids, prev_info, prev_name, prev_periods = None, None, None, None
        for _t, name, periods, info in refreshes:
            ids = [p["id"] for p in periods]
            published_before = set(known)
            last_start = max((q["start"] for q, _ in known.values()), default=None)
            for p in periods:
                seen = known.get(p["id"])
                if seen is not None:
                    q, qname = seen
                    if abs(q["start"] - p["start"]) > EPS:
                        problem(f"{name}: Period {p['id']} moved from {q['start']:.3f}s ({qname}) to {p['start']:.3f}s")
                    if q["duration"] is not None and (p["duration"] is None or abs(q["duration"] - p["duration"]) > EPS):
                        problem(f"{name}: Period {p['id']} duration changed from {q['duration']}s ({qname}) to {p['duration']}s")
                    if q["baseurl"] != p["baseurl"]:
                        problem(f"{name}: Period {p['id']} BaseURL changed from {q['baseurl']} ({qname}) to {p['baseurl']}")
                    for ctype, t in p["tmpl"].items():
                        t0 = q["tmpl"].get(ctype)
                        if t0 and (t0["start_number"], t0["pto"]) != (t["start_number"], t["pto"]):
                            problem(f"{name}: Period {p['id']} {ctype} startNumber/presentationTimeOffset changed from "
                                    f"{t0['start_number']}/{t0['pto']} ({qname}) to {t['start_number']}/{t['pto']}")
                known[p["id"]] = (p, name)
                timeline[p["id"]] = p
            if prev_ids is not None:
                cur = set(ids)
                gone = [i for i in prev_ids if i not in cur]
                if gone and prev_ids[:len(gone)] != gone:
                    problem(f"{name}: Periods {gone} disappeared from the middle of the MPD (were in {prev_name})")
                for p in periods:
                    if p["id"] not in published_before and last_start is not None and p["start"] < last_start - EPS:
                        problem(f"{name}: new Period {p['id']} at {p['start']:.3f}s appeared before already published "
                                f"Periods (last started at {last_start:.3f}s in {prev_name})")
                if info["dynamic"]:
                    if prev_info["location"] != info["location"]:
                        problem(f"{name}: Location changed from {prev_info['location']} to {info['location']}")
                    if prev_info["publish_time"] and info["publish_time"] and info["publish_time"] < prev_info["publish_time"]:
                        problem(f"{name}: publishTime went back from {prev_info['publish_time']} to {info['publish_time']}")
            if prev_ids is not None and info["dynamic"]:
                check_announced(prev_periods, prev_info, prev_name, periods, name, problem, "--media" in argv)
            prev_ids, prev_info, prev_name, prev_periods = ids, info, name, periods
        last_info = refreshes[-1][3]
        if last_info["dynamic"]:
            pts = {r[3]["publish_time"] for r in refreshes}
            span = refreshes[-1][0] - refreshes[0][0]
            if span > 10000 and len(pts) < 2:
                problem(f"live MPD {url} did not advance in {span / 1000:.0f}s ({len(refreshes)} refreshes)")
            elif len(refreshes) < 2:
                notes.append(f"live MPD {url} fetched only once")
        else:
            mpd_duration = last_info["duration"]
        # Periods of the whole session (union) checked together as well
        union = sorted((p for p, _ in known.values()), key=lambda p: p["start"])
        check_content_pieces(union, last_info["dynamic"], problem_once, f"{refreshes[-1][1]} (all refreshes)")

    out_timeline = []
    for p in sorted(timeline.values(), key=lambda p: p["start"]):
        stats["periods_seen"] += 1
        if p["kind"] == "ad":
            stats["ad_periods"] += 1
        elif p["kind"] == "slate":
            stats["slate_periods"] += 1
        out_timeline.append({"id": p["id"], "start": p["start"], "end": p["end"], "kind": p["kind"],
                             "base": p["base"], "event": p["event"]})
    # the media of every Period starts where its presentationTimeOffset says
    if "--media" in argv:
        check_media(sorted(timeline.values(), key=lambda p: p["start"]), problem, stats)

    # an open-ended Period ends where the next one starts
    for a, b in zip(out_timeline, out_timeline[1:]):
        if a["end"] is None:
            a["end"] = b["start"]
    if stats["mpds"] == 0:
        problem("no MPD was captured")
    out = {"ok": not problems, "problems": problems, "notes": notes, "stats": stats,
           "timeline": out_timeline, "duration": mpd_duration}
    print(json.dumps(out))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
