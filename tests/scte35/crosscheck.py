#!/usr/bin/env python3
"""Cross-check splicepoint's SCTE-35 decoder with threefive, vector by vector.

For every vector of $SPLICEPOINT_CORPUS/scte35/vectors.json this decodes the input
with `splicepoint inspect scte35 --lenient` (JSON) and with threefive (run here, in
this interpreter), and compares the fields both report. Disagreements that are
understood are listed in KNOWN with their reason (and in README.md); anything else
fails the run. It also reports where the live threefive differs from the
reference decode stored in the corpus (a different threefive version).

Usage: crosscheck.py --corpus DIR --bin target/debug/splicepoint [--verbose]
(run.sh makes the venv, builds the binary and calls this).
"""

import argparse
import base64
import binascii
import json
import subprocess
import sys

import threefive

# (vector id, field prefix) -> why we disagree with threefive.
KNOWN = {
    ("scte35-025", "info_section.crc"):
        "alignment_stuffing: threefive reads the 3 stuffing bytes and the first CRC byte "
        "as CRC_32; ours (the last 4 bytes) verifies",
    ("scte35-073", "descriptors.0"):
        "component-mode segmentation descriptor (program_segmentation_flag = 0): "
        "threefive misplaces the component loop and reads type 0x00 and a deprecated "
        "UPID; Comcast/gots asserts 0x36 with an ADI UPID",
    ("scte35-112", "info_section.splice_command_type"):
        "encrypted_packet = 1: splice_command_type is inside the encrypted part; we "
        "report none, threefive decodes the byte",
}

DESCRIPTOR_TAGS = {"avail": 0, "dtmf": 1, "segmentation": 2, "time": 3, "audio": 4}


def text_to_bytes(text):
    """The corpus input as bytes (what splicepoint's text decoder accepts)."""
    t = text.strip().strip("\"'").strip()
    if t[:2].lower() == "0x":
        return bytes.fromhex(t[2:])
    compact = "".join(t.split())
    if compact and len(compact) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in compact):
        return bytes.fromhex(compact)
    return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)


def theirs(text):
    try:
        data = text_to_bytes(text)
    except (ValueError, binascii.Error) as e:
        return None, f"input: {e}"
    if data[:2] == b"\x00\xfc":
        data = data[1:]  # MPEG-TS pointer_field
    try:
        cue = threefive.Cue(data)
        if cue.decode() is False:  # threefive's "nothing decoded" (empty input)
            return None, "decode() returned False"
        return cue.get(), None
    except Exception as e:  # threefive raises many kinds
        return None, repr(e)


def ours(binary, text):
    p = subprocess.run(
        [binary, "inspect", "scte35", "--lenient", text], capture_output=True, text=True
    )
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[0] if p.stderr.strip() else "failed"
    return json.loads(p.stdout), None


def secs(ticks):
    return None if ticks is None else round(ticks / 90000.0, 6)


def hexint(v):
    if isinstance(v, str):
        return int(v, 16)
    return v


def flatten_ours(o):
    """Our JSON as threefive's field names and units."""
    f = {
        "info_section.section_length": o["section_length"],
        "info_section.protocol_version": o["protocol_version"],
        "info_section.encrypted_packet": o["encrypted_packet"],
        "info_section.encryption_algorithm": o["encryption_algorithm"],
        "info_section.pts_adjustment": secs(o["pts_adjustment"]),
        "info_section.cw_index": o["cw_index"],
        "info_section.tier": o["tier"],
        "info_section.splice_command_length": o["splice_command_length"],
        "info_section.splice_command_type": o["splice_command_type"],
        "info_section.descriptor_loop_length": o["descriptor_loop_length"],
        "info_section.crc": o["crc_32"],
    }
    cmd = o.get("splice_command") or {}
    name = cmd.get("name")
    if name == "time_signal":
        f["command.pts_time"] = secs(cmd["splice_time"]["pts_time"])
    if name == "splice_insert":
        for k in ("splice_event_id", "splice_event_cancel_indicator", "event_id_compliance_flag",
                  "out_of_network_indicator", "program_splice_flag", "splice_immediate_flag",
                  "unique_program_id", "avail_num", "avails_expected"):
            f["command." + k] = cmd[k]
        if not cmd["splice_event_cancel_indicator"]:
            f["command.duration_flag"] = cmd["break_duration"] is not None
            if cmd["splice_time"] and cmd["splice_time"]["pts_time"] is not None:
                f["command.pts_time"] = secs(cmd["splice_time"]["pts_time"])
            if cmd["break_duration"]:
                f["command.break_auto_return"] = cmd["break_duration"]["auto_return"]
                f["command.break_duration"] = secs(cmd["break_duration"]["duration"])
    ds = o.get("splice_descriptors") or []
    f["descriptors.count"] = len(ds)
    for n, d in enumerate(ds):
        p = f"descriptors.{n}."
        f[p + "tag"] = DESCRIPTOR_TAGS.get(d["name"], d.get("splice_descriptor_tag"))
        if d["name"] == "avail":
            f[p + "provider_avail_id"] = d["provider_avail_id"]
        elif d["name"] == "dtmf":
            f[p + "preroll"] = d["preroll"]
            f[p + "dtmf_chars"] = list(d["dtmf_chars"])
        elif d["name"] == "segmentation":
            f[p + "segmentation_event_id"] = d["segmentation_event_id"]
            f[p + "segmentation_event_cancel_indicator"] = d["segmentation_event_cancel_indicator"]
            if d["segmentation_event_cancel_indicator"]:
                continue
            for k in ("segmentation_event_id_compliance_indicator", "program_segmentation_flag",
                      "segmentation_type_id", "segmentation_upid_type", "segment_num",
                      "segments_expected"):
                f[p + k] = d[k]
            f[p + "segmentation_duration_flag"] = d["segmentation_duration"] is not None
            f[p + "delivery_not_restricted_flag"] = "archive_allowed_flag" not in d
            for k in ("web_delivery_allowed_flag", "no_regional_blackout_flag", "archive_allowed_flag"):
                if k in d:
                    f[p + k] = d[k]
            if d["segmentation_duration"] is not None:
                f[p + "segmentation_duration"] = secs(d["segmentation_duration"])
            if d["sub_segment_num"] is not None:
                f[p + "sub_segment_num"] = d["sub_segment_num"]
                f[p + "sub_segments_expected"] = d["sub_segments_expected"]
            upid = d["segmentation_upid"]
            if upid["format"] == "text":
                f[p + "segmentation_upid"] = upid["value"]
            elif upid["format"] == "bytes" and d["segmentation_upid_type"] == 8:
                f[p + "segmentation_upid"] = int(upid["value"], 16)
            elif upid["format"] == "mpu":
                f[p + "segmentation_upid.format_identifier"] = upid["value"]["format_identifier"].to_bytes(4, "big").decode("latin-1")
                f[p + "segmentation_upid.private_data"] = int(upid["value"]["private_data"] or "0x0", 16)
            elif upid["format"] == "mid":
                f[p + "segmentation_upid.count"] = len(upid["value"])
    return f


def flatten_theirs(t, keys):
    """threefive's dict, only the keys we also have, in our units."""
    f = {}
    for key in keys:
        section, _, rest = key.partition(".")
        if section == "descriptors":
            if rest == "count":
                f[key] = len(t.get("descriptors") or [])
                continue
            n, _, field = rest.partition(".")
            ds = t.get("descriptors") or []
            if int(n) >= len(ds):
                continue
            v = ds[int(n)]
            for part in field.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            if field.endswith("segmentation_event_id"):
                v = hexint(v)
            if field == "segmentation_upid" and isinstance(v, str) and v.startswith("0x"):
                v = int(v, 16)
            if field == "segmentation_upid.private_data" and isinstance(v, str):
                v = int(v or "0x0", 16)
            if field == "segmentation_upid.count" or (field.startswith("segmentation_upid") and field.endswith("count")):
                v = len(ds[int(n)].get("segmentation_upid") or [])
            f[key] = v
        else:
            block = t.get(section) or {}
            v = block.get(rest)
            if rest in ("cw_index", "tier", "crc"):
                v = hexint(v)
            f[key] = v
    return f


def known(vid, key):
    return next((why for (v, prefix), why in KNOWN.items()
                 if v == vid and (key == prefix or key.startswith(prefix + "."))), None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    with open(f"{args.corpus}/scte35/vectors.json") as fh:
        vectors = json.load(fh)["vectors"]

    unexplained, explained, drift = [], [], []
    both_decode = both_fail = 0
    for v in vectors:
        vid, text = v["id"], v["input"]
        o, oerr = ours(args.bin, text)
        t, terr = theirs(text)
        ref = v.get("reference_decode_threefive_3_1_5")
        if ref is not None and t is not None and t != ref:
            drift.append(vid)
        if o is None and t is None:
            both_fail += 1
            if args.verbose:
                print(f"{vid}: both fail (ours: {oerr}; threefive: {terr})")
            continue
        if o is None or t is None:
            unexplained.append(f"{vid}: ours {'fails: ' + oerr if o is None else 'decodes'}, "
                               f"threefive {'fails: ' + terr if t is None else 'decodes'}")
            continue
        both_decode += 1
        mine = flatten_ours(o)
        other = flatten_theirs(t, mine.keys())
        for key, a in mine.items():
            b = other.get(key)
            if b is None:
                continue
            same = abs(a - b) < 1e-5 if isinstance(a, float) or isinstance(b, float) else a == b
            if same:
                continue
            line = f"{vid} {key}: ours {a!r}, threefive {b!r}"
            why = known(vid, key)
            (explained if why else unexplained).append(line + (f"  [{why}]" if why else ""))

    print(f"threefive {threefive.version if hasattr(threefive, 'version') else ''}".strip())
    print(f"{len(vectors)} vectors: {both_decode} decoded by both, {both_fail} rejected by both")
    print(f"{len(explained)} explained field disagreements:")
    for line in explained:
        print("  " + line)
    if drift:
        print(f"live threefive differs from the stored 3.1.5 reference on: {', '.join(drift)}")
    if unexplained:
        print(f"{len(unexplained)} UNEXPLAINED disagreements:")
        for line in unexplained:
            print("  " + line)
        return 1
    print("no unexplained disagreements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
