#!/usr/bin/env python3
"""Independent check of the HLS playlists a player run received.

Usage: check_manifests.py DIR [--live|--vod]

DIR holds the playlists saved by run.mjs (NNNN.m3u8 files) and index.json,
a list of {"file", "url", "t", "status"} in the order they were received.
Parses every playlist with the `m3u8` package (not the player's parser) and
checks, per playlist URL across all its saved refreshes:

  * it parses; master playlists list variants with a URI and BANDWIDTH;
  * media playlists have a TARGETDURATION, at least one segment, every
    segment has a duration > 0 that rounds to <= TARGETDURATION;
  * EXT-X-MEDIA-SEQUENCE never goes backwards between refreshes;
  * the same media sequence number always names the same URI (and the same
    duration) in every refresh;
  * the same media sequence number always has the same discontinuity
    number (EXT-X-DISCONTINUITY-SEQUENCE + discontinuities up to it);
  * wherever two consecutive segments belong to different assets (content,
    one ad creative, slate: see asset_key) the later one is in a new
    discontinuity (a tag in the playlist or, at the window edge, an
    incremented DISCONTINUITY-SEQUENCE);
  * the variants of one master agree with each other: the same media
    sequence number is the same asset (content / creative / slate) with the
    same duration and discontinuity number in every variant;
  * --vod: the media playlists end with EXT-X-ENDLIST;
    --live: they do not, and the window advanced during the run.

Prints one JSON object on stdout: {"ok", "problems", "notes", "stats"}.
Exit status 0 when ok, 1 when problems were found, 2 on usage errors.
"""
import json
import os
import sys
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import m3u8

MAX_PROBLEMS = 40

# splicepoint's server-side ad reporting serves ad segments through
# /v1/segment/{session}/...; the target is in the URL, hex-encoded:
# HLS .../{ad}/{index}/{count}/{hex segment URL}/{file}, DASH
# .../{ad}/d/{count}/{hex BaseURL}/{path} (older HLS form: ?u={segment URL}).


def resolve_reporting_url(url):
    """The ad segment a /v1/segment/ reporting URL redirects to (else url)."""
    if "/v1/segment/" not in url:
        return url
    parts = urlsplit(url)
    segs = parts.path.split("/v1/segment/", 1)[1].split("/")
    for i in range(2, len(segs)):
        try:
            target = bytes.fromhex(segs[i]).decode() if segs[i] else ""
        except ValueError:
            continue
        if not re.match(r"^https?://", target):
            continue
        return target if not target.endswith("/") else urljoin(target, "/".join(segs[i + 1:]))
    found = parse_qs(parts.query).get("u")
    return found[0] if found else url


def category(url):
    url = resolve_reporting_url(url)
    if "/demo/media/ads/" in url or "/v1/ads/" in url:
        return "ad"
    if "/demo/media/slate/" in url:
        return "slate"
    if "/demo/origin/" in url:
        return "content"
    return "other"


def asset_key(url):
    """content / slate / ad:<creative> (first folder under /demo/media/ads/)."""
    url = resolve_reporting_url(url)
    path = urlsplit(url).path
    cat = category(url)
    if cat == "ad":
        marker = "/demo/media/ads/" if "/demo/media/ads/" in path else "/v1/ads/"
        rest = path.split(marker, 1)[1]
        return "ad:" + rest.split("/", 1)[0]
    if cat == "other":
        return "other:" + path[: path.rfind("/")]
    return cat


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

    stats = {"playlists": 0, "masters": 0, "media": 0, "refreshes_max": 0,
             "segments_seen": 0, "ad_segments": 0, "slate_segments": 0,
             "asset_switches": 0, "discontinuity_tags": 0}
    series = {}  # url -> list of (t, file, playlist)
    variant_groups = []  # [master file, [variant urls]]

    for entry in index:
        name, url = entry["file"], entry["url"]
        if entry.get("status", 200) >= 400:
            problem(f"{name}: HTTP {entry.get('status')} for {url}")
            continue
        with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        if not text.startswith("#EXTM3U"):
            if text.lstrip().startswith("<"):
                notes.append(f"{name}: not HLS (DASH?), skipped")
                continue
            problem(f"{name}: does not start with #EXTM3U ({url})")
            continue
        stats["playlists"] += 1
        try:
            pl = m3u8.loads(text, uri=url)
        except Exception as e:  # the parser is strict on malformed tags
            problem(f"{name}: m3u8 could not parse {url}: {e}")
            continue
        if pl.is_variant:
            stats["masters"] += 1
            if not pl.playlists:
                problem(f"{name}: master playlist without variants ({url})")
            variant_groups.append((name, [v.absolute_uri for v in pl.playlists if v.uri]))
            for v in pl.playlists:
                if not v.uri:
                    problem(f"{name}: variant without URI")
                if not v.stream_info or not v.stream_info.bandwidth:
                    problem(f"{name}: variant {v.uri} without BANDWIDTH")
            continue
        stats["media"] += 1
        series.setdefault(url, []).append((entry.get("t", 0), name, pl))

    series_msns = {}  # url -> {msn: (uri, duration, disc_number, file)}
    for url, refreshes in series.items():
        refreshes.sort(key=lambda r: r[0])
        stats["refreshes_max"] = max(stats["refreshes_max"], len(refreshes))
        by_msn = series_msns[url] = {}  # msn -> (uri, duration, disc_number, file)
        prev_msn = None
        msns = set()
        for _t, name, pl in refreshes:
            td = pl.target_duration
            if td is None:
                problem(f"{name}: no EXT-X-TARGETDURATION")
            if not pl.segments:
                problem(f"{name}: media playlist without segments")
            msn0 = pl.media_sequence or 0
            if prev_msn is not None and msn0 < prev_msn:
                problem(f"{name}: EXT-X-MEDIA-SEQUENCE went backwards {prev_msn} -> {msn0}")
            prev_msn = msn0
            disc = pl.discontinuity_sequence or 0
            prev_key = None
            for i, seg in enumerate(pl.segments):
                msn = msn0 + i
                msns.add(msn)
                uri = seg.absolute_uri if seg.uri else None
                stats["segments_seen"] += 1
                if seg.discontinuity:
                    disc += 1
                    stats["discontinuity_tags"] += 1
                if not uri:
                    problem(f"{name}: segment {msn} has no URI")
                    continue
                cat = category(uri)
                if cat == "ad":
                    stats["ad_segments"] += 1
                elif cat == "slate":
                    stats["slate_segments"] += 1
                if seg.duration is None or seg.duration <= 0:
                    problem(f"{name}: segment {msn} {uri} has no positive duration ({seg.duration})")
                elif td is not None and round(seg.duration) > td:
                    problem(f"{name}: segment {msn} duration {seg.duration} exceeds TARGETDURATION {td}")
                key = asset_key(uri)
                if prev_key is not None and key != prev_key:
                    stats["asset_switches"] += 1
                    if not seg.discontinuity:
                        problem(f"{name}: no #EXT-X-DISCONTINUITY before segment {msn} "
                                f"({prev_key} -> {key}: {uri})")
                prev_key = key
                seen = by_msn.get(msn)
                if seen is None:
                    by_msn[msn] = (uri, seg.duration, disc, name)
                    continue
                suri, sdur, sdisc, sname = seen
                if suri != uri:
                    problem(f"{name}: media sequence {msn} is {uri} but was {suri} in {sname}")
                elif sdur is not None and seg.duration is not None and abs(sdur - seg.duration) > 0.001:
                    problem(f"{name}: media sequence {msn} duration {seg.duration} but was {sdur} in {sname}")
                if sdisc != disc:
                    problem(f"{name}: media sequence {msn} has discontinuity number {disc} "
                            f"but had {sdisc} in {sname} (EXT-X-DISCONTINUITY-SEQUENCE inconsistent)")
        # asset switches across the union of refreshes (catches a switch at the window edge)
        ordered = sorted(by_msn.items())
        for (m1, (u1, _d1, k1, _n1)), (m2, (u2, _d2, k2, n2)) in zip(ordered, ordered[1:]):
            if m2 == m1 + 1 and asset_key(u1) != asset_key(u2) and k2 <= k1:
                problem(f"{n2}: segments {m1}->{m2} switch {asset_key(u1)} -> {asset_key(u2)} "
                        f"without a new discontinuity number ({k1} -> {k2})")
        last = refreshes[-1][2]
        if kind == "vod" and not last.is_endlist:
            problem(f"{refreshes[-1][1]}: VOD media playlist without EXT-X-ENDLIST ({url})")
        if kind == "live":
            if last.is_endlist:
                problem(f"{refreshes[-1][1]}: live media playlist has EXT-X-ENDLIST ({url})")
            span = refreshes[-1][0] - refreshes[0][0]
            first_msns = {(r[2].media_sequence or 0) for r in refreshes}
            if span > 10000 and len(first_msns) < 2:
                problem(f"live playlist {url} did not advance in {span / 1000:.0f}s "
                        f"({len(refreshes)} refreshes)")
            elif len(refreshes) < 2:
                notes.append(f"live playlist {url} fetched only once")

    # variants of one master must line up: a player switching variants at
    # sequence number N must land on the same asset at the same position
    compared = set()
    for master_file, urls in variant_groups:
        known = [u for u in dict.fromkeys(urls) if u in series_msns]
        for i, u1 in enumerate(known):
            for u2 in known[i + 1:]:
                if (u1, u2) in compared:
                    continue
                compared.add((u1, u2))
                stats["variant_pairs_compared"] = stats.get("variant_pairs_compared", 0) + 1
                a, b = series_msns[u1], series_msns[u2]
                for msn in sorted(set(a) & set(b)):
                    (ua, da, ka, fa), (ub, db, kb, fb) = a[msn], b[msn]
                    if asset_key(ua) != asset_key(ub):
                        problem(f"{fa}/{fb}: variants disagree at media sequence {msn}: {ua} vs {ub}")
                    elif da is not None and db is not None and abs(da - db) > 0.001:
                        problem(f"{fa}/{fb}: variants disagree on the duration of media sequence {msn}: {da} vs {db}")
                    if ka != kb:
                        problem(f"{fa}/{fb}: variants disagree on the discontinuity number of media sequence "
                                f"{msn}: {ka} vs {kb} ({ua} vs {ub})")

    if stats["media"] == 0 and stats["playlists"] > 0:
        problem("no media playlist was captured")
    if stats["playlists"] == 0:
        problem("no playlist was captured")
    out = {"ok": not problems, "problems": problems, "notes": notes, "stats": stats}
    print(json.dumps(out))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
