#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target, at run time, from what the repository
and the shared corpus hold: tests/fixtures, ad-templates, demo/media, the hand-written
seeds beside this script, and $SPLICEPOINT_CORPUS (skipped when unset). Nothing it
writes is committed.

usage: seed.py OUT_DIR [CORPUS_DIR]
"""
import base64
import glob
import hashlib
import json
import os
import re
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# libFuzzer's -max_len for the manifest targets (see run.sh): longer seeds are cut.
MAX_SEED = 64 * 1024


def files(*patterns):
    out = []
    for p in patterns:
        out.extend(sorted(glob.glob(p, recursive=True)))
    return [f for f in out if os.path.isfile(f)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Seeds:
    def __init__(self, out):
        self.out = out
        self.counts = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode()
        if not data or len(data) > MAX_SEED:
            return
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        path = os.path.join(d, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def cue_bytes(text):
    """The bytes of a base64 or hex cue, or None."""
    t = text.strip().strip('"').strip()
    try:
        if t[:2].lower() == "0x":
            return bytes.fromhex(t[2:])
        return base64.b64decode(t, validate=True)
    except ValueError:
        return None


def main():
    out = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    s = Seeds(out)
    c = (lambda *p: os.path.join(corpus, *p)) if corpus else None

    # --- HLS: whole playlists, and their tag lines for the cue reader.
    playlists = files(f"{REPO}/tests/fixtures/hls/*.m3u8", f"{REPO}/demo/media/**/*.m3u8")
    if c:
        playlists += files(c("hls", "*.m3u8"))
    cue_texts = []
    for p in playlists:
        data = read(p)
        s.add("hls_playlist", data)
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith("#EXT"):
                s.add("hls_cue", line)
            for m in re.finditer(r'(?:SCTE35[-A-Z]*|CUE)=("?)(0[xX][0-9A-Fa-f]+|[A-Za-z0-9+/=]{16,})\1', line):
                cue_texts.append(m.group(2))
            if line.startswith("#EXT-OATCLS-SCTE35:"):
                cue_texts.append(line.split(":", 1)[1])

    # --- SCTE-35: the collected vectors (text and bytes), and the cues found above.
    if c and os.path.exists(c("scte35", "vectors.json")):
        for v in json.load(open(c("scte35", "vectors.json")))["vectors"]:
            if isinstance(v.get("input"), str):
                cue_texts.append(v["input"])
    for t in cue_texts:
        s.add("scte35_text", t)
        b = cue_bytes(t)
        if b:
            s.add("scte35_binary", b)

    # --- DASH: MPDs, and the SCTE-35 events in them for the XML carriage.
    mpds = files(f"{REPO}/demo/media/**/*.mpd")
    if c:
        mpds += files(c("dash", "*"))
    schemes = {"urn:scte:scte35:2013:xml": 0, "urn:scte:scte35:2014:xml+bin": 1, "urn:scte:scte35:2013:bin": 2}
    for p in mpds:
        data = read(p)
        s.add("dash_mpd", data)
        text = data.decode("utf-8", "replace")
        for es in re.finditer(r'<(?:\w+:)?EventStream\b[^>]*schemeIdUri="([^"]+)"[^>]*>(.*?)</(?:\w+:)?EventStream>', text, re.S):
            pick = schemes.get(es.group(1).strip().lower())
            if pick is None:
                continue
            for ev in re.finditer(r'<(?:\w+:)?Event\b.*?(?:/>|</(?:\w+:)?Event>)', es.group(2), re.S):
                s.add("scte35_xml", bytes([pick]) + ev.group(0).encode())

    # --- VAST (and VMAP, which the VAST parser must refuse cleanly).
    vasts = files(f"{REPO}/tests/fixtures/vast/*.xml", f"{REPO}/ad-templates/vast/*.xml")
    if c:
        vasts += files(c("vast", "*.xml"), c("vmap", "*.xml"))
    docs = [read(p) for p in vasts]
    for d in docs:
        s.add("vast", d)
        s.add("vast_resolve", d)
    # Wrapper chains: each wrapper with the documents its fetches may land on.
    wrappers = [d for d in docs if b"<Wrapper" in d]
    inlines = [d for d in docs if b"<InLine" in d]
    for i, w in enumerate(wrappers):
        for j in range(2):
            if inlines:
                s.add("vast_resolve", b"\0".join([w, inlines[(i + j) % len(inlines)], w]))

    # --- Playback configurations: TOML files, the same as admin API JSON, ADS templates.
    configs = files(f"{REPO}/ad-templates/*.toml", f"{HERE}/seeds/*.toml")
    for p in configs:
        data = read(p)
        s.add("config_toml", data)
        try:
            raw = tomllib.loads(data.decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        s.add("admin_json", json.dumps(raw, indent=1))
        for key in ("ads_url", "live_preroll_ads_url"):
            if isinstance(raw.get(key), str):
                s.add("ads_template", raw[key] + "\nsession.id=abc-123\nsession.user_agent=Mozilla/5.0 (X11)\n"
                      "player_params.region=eu west&x=[y]\n!player_params.host=ads.example.com:8080\nscte.segmentation_type_id=52")

    for t in sorted(s.counts):
        print(f"seed: {t}: {s.counts[t]} new files")


if __name__ == "__main__":
    main()
