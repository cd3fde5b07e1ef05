#!/usr/bin/env bash
# Regenerates the splicepoint demo media under demo/media/ (content, ads, slate).
#
#   scripts/make-demo-media.sh
#
# Everything is synthesised from ffmpeg lavfi sources (no input files, no fonts),
# so the output only depends on the ffmpeg/x264 build. The script wipes
# demo/media/ first, so it is safe to re-run. It installs ffmpeg with apt-get
# if it is missing.
#
# All assets (content, ads, slate) share identical encoding parameters per
# rendition so ads can be spliced in without re-encoding:
#   H.264 Main@3.0 (avc1.4d401e), 25 fps, no B-frames, closed GOP of 50 frames
#   (IDR at every 2 s segment start), AAC-LC 48 kHz mono 16 kbit/s, MPEG-TS
#   segments of exactly 2.000 s; v0 320x180 (video <= 55 kbit/s), v1 160x90
#   (video <= 22 kbit/s). x264 runs single-threaded so re-runs are byte-identical.
#
# Bit rates are low because demo/media must stay under 1.8 MB: at these rates
# MPEG-TS packetisation (one PES per video frame, 188-byte packets) costs more
# than the video itself, so every kbit/s counts.
#
# DASH: demo/media/dash/ holds the same assets (same sources, same x264/AAC
# settings) as fragmented MP4 (CMAF-style: one moof+mdat per segment, tfdt,
# no edit lists) with a static MPD per asset: separate video (v0, v1) and audio
# (a0) AdaptationSets, SegmentTemplate with $Number$ and @duration (2 s). The
# MPDs are written by this script from values measured in the MP4 boxes (with
# python3), not by ffmpeg (whose Representation ids are stream indexes).
# Budget for dash/: 1.3 MB (the 1.8 MB above is everything else).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/demo/media"

# ---------------------------------------------------------------- parameters
FPS=25
SEG=2                      # segment duration in seconds
GOP=$((FPS * SEG))         # 50 frames: one closed GOP per segment
PROFILE=main
LEVEL=3.0
PRESET=veryslow
AUDIO_RATE=48000
AUDIO_BITRATE=16k          # mono AAC-LC (fast coder: ~55 dB SNR on the test tones)
MAX_TOTAL_BYTES=1800000    # hard budget for demo/media without dash/
MAX_DASH_BYTES=1300000     # hard budget for demo/media/dash
AAC_FRAME=1024             # samples per AAC-LC frame (and the encoder's priming delay)
DASH_AUDIO_ID=a0           # Representation id of the DASH audio track

# name  width height crf maxrate bufsize
RENDITIONS=(
  "v0 320 180 23 55k 110k"
  "v1 160 90 23 22k 44k"
)

# ---------------------------------------------------------------- helpers
log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_ffmpeg() {
  if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
    return
  fi
  apt_install ffmpeg ffmpeg
}

ensure_python3() {
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-minimal
}

# apt_install COMMAND PACKAGE
apt_install() {
  log "$1 not found, installing $2 with apt-get"
  command -v apt-get >/dev/null 2>&1 || die "$1 is missing and apt-get is not available; install $2 manually"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$2"
  command -v "$1" >/dev/null 2>&1 || die "$2 installation failed"
}

# encode_rendition DIR DURATION VIDEO_GRAPH AUDIO_GRAPH NAME W H CRF MAXRATE BUFSIZE
# VIDEO_GRAPH is a lavfi graph producing one 320x180@25 video output (unlabelled),
# AUDIO_GRAPH a lavfi graph producing one audio output (unlabelled).
encode_rendition() {
  local dir=$1 dur=$2 vgraph=$3 agraph=$4 w=$6 h=$7 crf=$8 maxrate=$9 bufsize=${10}
  mkdir -p "$dir"
  local graph="${vgraph}[src];[src]scale=${w}:${h}:flags=bicubic,setsar=1,format=yuv420p[v];"
  graph+="${agraph},aformat=sample_rates=${AUDIO_RATE}:channel_layouts=mono[a]"
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -filter_complex "$graph" -map '[v]' -map '[a]' -t "$dur" \
    -c:v libx264 -threads 1 -preset "$PRESET" -profile:v "$PROFILE" -level:v "$LEVEL" -pix_fmt yuv420p \
    -r "$FPS" -crf "$crf" -maxrate "$maxrate" -bufsize "$bufsize" \
    -bf 0 -g "$GOP" -keyint_min "$GOP" -sc_threshold 0 -flags +cgop \
    -force_key_frames "expr:gte(t,n_forced*${SEG})" \
    -c:a aac -aac_coder fast -profile:a aac_low -b:a "$AUDIO_BITRATE" -ar "$AUDIO_RATE" -ac 1 \
    -map_metadata -1 -muxpreload 0 -muxdelay 0.7 \
    -hls_segment_options mpegts_flags=+initial_discontinuity \
    -f hls -hls_time "$SEG" -hls_playlist_type vod \
    -hls_segment_type mpegts -hls_segment_filename "$dir/seg%02d.ts" "$dir/index.m3u8"
}

# codec_string TS_FILE -> avc1.PPCCLL read from the SPS in the bitstream
codec_string() {
  local hex
  hex=$(ffmpeg -nostdin -loglevel error -i "$1" -map 0:v:0 -c copy -bsf:v h264_mp4toannexb -frames:v 1 -f h264 - \
        | od -An -v -tx1 | tr -d ' \n' \
        | grep -oE '000001(07|27|47|67)[0-9a-f]{6}' | sed -n 1p || true)
  [ -n "$hex" ] || die "no SPS found in $1"
  printf 'avc1.%s' "${hex:8:6}"
}

# playlist_stats DIR -> "PEAK_BPS AVERAGE_BPS" from segment sizes and EXTINF durations
playlist_stats() {
  local dir=$1
  awk -v dir="$dir" '
    /^#EXTINF:/ { sub(/^#EXTINF:/, ""); sub(/,.*/, ""); dur = $0 + 0; next }
    /^[^#]/ && NF {
      cmd = "stat -c %s \"" dir "/" $0 "\""; cmd | getline size; close(cmd)
      bps = size * 8 / dur
      if (bps > peak) peak = bps
      total_bits += size * 8; total_dur += dur
    }
    function ceil(x) { return (x == int(x)) ? x : int(x) + 1 }
    END { printf "%d %d\n", ceil(peak), ceil(total_bits / total_dur) }
  ' "$dir/index.m3u8"
}

# write_master ASSET_DIR
write_master() {
  local asset=$1 r name w h peak avg codecs
  {
    echo '#EXTM3U'
    echo '#EXT-X-VERSION:3'
    echo '#EXT-X-INDEPENDENT-SEGMENTS'
    for r in "${RENDITIONS[@]}"; do
      read -r name w h _ <<<"$r"
      read -r peak avg < <(playlist_stats "$asset/$name")
      codecs=$(codec_string "$asset/$name/seg00.ts")
      echo "#EXT-X-STREAM-INF:BANDWIDTH=${peak},AVERAGE-BANDWIDTH=${avg},RESOLUTION=${w}x${h},CODECS=\"${codecs},mp4a.40.2\",FRAME-RATE=${FPS}.000"
      echo "${name}/index.m3u8"
    done
  } >"$asset/master.m3u8"
}

# encode_dash DIR DURATION VIDEO_GRAPH AUDIO_GRAPH
# One ffmpeg run per asset: the picture is split and scaled to every rendition
# (same x264 settings as encode_rendition) and muxed by ffmpeg's dash muxer
# together with one AAC track; the files are then renamed to <id>/init.mp4 and
# <id>/seg-N.m4s (ffmpeg names them after the stream index).
# Audio: the AAC encoder prepends AAC_FRAME priming samples and gives its first
# packet the timestamp -AAC_FRAME. The source is trimmed so the encoder emits
# exactly ceil(DURATION * rate / AAC_FRAME) frames (priming included), i.e. the
# audio track outlasts the asset by less than one frame, and it is moved
# AAC_FRAME samples later so the first packet is at 0. Then the mp4 muxer needs
# no edit list and every track starts at tfdt 0 (with a negative audio start,
# use_editlist=0 stretches the first video frame instead, and the default
# writes an audio edit list, which many DASH players ignore).
encode_dash() {
  local dir=$1 dur=$2 vgraph=$3 agraph=$4 n=${#RENDITIONS[@]}
  local i name w h crf maxrate bufsize f num tmp
  local frames=$(( (dur * AUDIO_RATE + AAC_FRAME - 1) / AAC_FRAME ))
  local graph="${vgraph}[src];[src]split=${n}" maps=() vopts=() ids=()
  for ((i = 0; i < n; i++)); do graph+="[s$i]"; done
  graph+=";"
  for ((i = 0; i < n; i++)); do
    read -r name w h crf maxrate bufsize <<<"${RENDITIONS[$i]}"
    graph+="[s$i]scale=${w}:${h}:flags=bicubic,setsar=1,format=yuv420p[v$i];"
    maps+=(-map "[v$i]")
    vopts+=("-crf:v:$i" "$crf" "-maxrate:v:$i" "$maxrate" "-bufsize:v:$i" "$bufsize")
    ids+=("$name")
  done
  ids+=("$DASH_AUDIO_ID")
  graph+="${agraph},aformat=sample_rates=${AUDIO_RATE}:channel_layouts=mono,"
  graph+="atrim=end_sample=$(( (frames - 1) * AAC_FRAME )),asetpts=PTS+${AAC_FRAME}/(SR*TB)[a]"
  tmp=$(mktemp -d "$TMP_ROOT/dash.XXXXXX")
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -filter_complex "$graph" "${maps[@]}" -map '[a]' -t "$dur" \
    -c:v libx264 -threads 1 -preset "$PRESET" -profile:v "$PROFILE" -level:v "$LEVEL" -pix_fmt yuv420p \
    -r "$FPS" "${vopts[@]}" \
    -bf 0 -g "$GOP" -keyint_min "$GOP" -sc_threshold 0 -flags +cgop \
    -force_key_frames "expr:gte(t,n_forced*${SEG})" \
    -c:a aac -aac_coder fast -profile:a aac_low -b:a "$AUDIO_BITRATE" -ar "$AUDIO_RATE" -ac 1 \
    -map_metadata -1 \
    -f dash -dash_segment_type mp4 -seg_duration "$SEG" -use_template 1 -use_timeline 0 \
    -single_file 0 -streaming 0 -ldash 0 -write_prft 0 -hls_playlist 0 \
    -adaptation_sets "id=0,streams=v id=1,streams=a" -format_options use_editlist=0 \
    "$tmp/manifest.mpd"
  rm -rf "$dir"
  for ((i = 0; i < ${#ids[@]}; i++)); do
    mkdir -p "$dir/${ids[$i]}"
    mv "$tmp/init-stream$i.m4s" "$dir/${ids[$i]}/init.mp4"
    for f in "$tmp/chunk-stream$i-"*.m4s; do
      num=${f##*-}; num=${num%.m4s}
      mv "$f" "$dir/${ids[$i]}/seg-$((10#$num)).m4s"
    done
  done
  rm -rf "$tmp"   # including ffmpeg's own MPD, which is not used
}

# mp4_stats REP_DIR
#   -> "TIMESCALE EDIT_LISTS SEGMENTS EPT SEG_MIN SEG_MAX TOTAL GAPS NON_SYNC PEAK_BPS AVG_BPS BYTES"
# read from the boxes of REP_DIR/init.mp4 and REP_DIR/seg-N.m4s (N = 1, 2, ...):
# mdhd timescale, number of edts boxes, earliest presentation time of segment 1
# (its tfdt plus the smallest composition offset; the check requires no edit list),
# min/max/total segment duration (sum of the trun sample durations) in timescale
# units, number of segments whose tfdt is not the previous tfdt + duration,
# number of segments whose first sample is not a sync sample, peak and mean
# segment bit rate (.m4s bytes over the measured duration, init excluded,
# rounded up) and the bytes of all files including init.mp4.
mp4_stats() {
  python3 - "$1" <<'PY'
import math, os, re, struct, sys

def boxes(data):
    off = 0
    while off < len(data):
        if off + 8 > len(data):
            sys.exit(f"truncated box header at byte {off}")
        size, kind = struct.unpack(">I4s", data[off:off + 8])
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack(">Q", data[off + 8:off + 16])[0], 16
        elif size == 0:
            size = len(data) - off
        if size < hdr or off + size > len(data):
            sys.exit(f"bad box size at byte {off}")
        yield kind.decode("latin1"), data[off + hdr:off + size]
        off += size

def child(data, kind):
    found = [b for k, b in boxes(data) if k == kind]
    if len(found) != 1:
        sys.exit(f"expected one {kind} box, found {len(found)}")
    return found[0]

def u32(b, o):
    return struct.unpack(">I", b[o:o + 4])[0]

rep = sys.argv[1]
init = open(os.path.join(rep, "init.mp4"), "rb").read()
moov = child(init, "moov")
trak = child(moov, "trak")
edit_lists = sum(1 for k, _ in boxes(trak) if k == "edts")
mdhd = child(child(trak, "mdia"), "mdhd")
timescale = u32(mdhd, 20 if mdhd[0] == 1 else 12)
trex = child(child(moov, "mvex"), "trex")
trex_duration, trex_flags = u32(trex, 12), u32(trex, 20)

segs = sorted((int(m.group(1)), f) for f in os.listdir(rep) if (m := re.fullmatch(r"seg-(\d+)\.m4s", f)))
if not segs or [n for n, _ in segs] != list(range(1, len(segs) + 1)):
    sys.exit(f"{rep}: segment numbers are not 1..{len(segs)}")
rows = []
for _, name in segs:
    data = open(os.path.join(rep, name), "rb").read()
    tfdt, duration, samples, first_flags, earliest = None, 0, 0, None, None
    for kind, moof in boxes(data):
        if kind != "moof":
            continue
        for k, traf in boxes(moof):
            if k != "traf":
                continue
            tfhd = child(traf, "tfhd")
            fl = u32(tfhd, 0) & 0xFFFFFF
            o = 8 + (8 if fl & 0x1 else 0) + (4 if fl & 0x2 else 0)
            default_duration, default_flags = trex_duration, trex_flags
            if fl & 0x8:
                default_duration = u32(tfhd, o); o += 4
            if fl & 0x10:
                o += 4
            if fl & 0x20:
                default_flags = u32(tfhd, o); o += 4
            if tfdt is None:
                b = child(traf, "tfdt")
                tfdt = struct.unpack(">Q", b[4:12])[0] if b[0] == 1 else u32(b, 4)
            for kk, trun in boxes(traf):
                if kk != "trun":
                    continue
                tf, count, version = u32(trun, 0) & 0xFFFFFF, u32(trun, 4), trun[0]
                o = 8 + (4 if tf & 0x1 else 0)
                first_sample_flags = None
                if tf & 0x4:
                    first_sample_flags = u32(trun, o); o += 4
                for i in range(count):
                    d, f = default_duration, default_flags
                    if tf & 0x100:
                        d = u32(trun, o); o += 4
                    if tf & 0x200:
                        o += 4
                    if tf & 0x400:
                        f = u32(trun, o); o += 4
                    cto = 0
                    if tf & 0x800:
                        cto = struct.unpack(">i" if version else ">I", trun[o:o + 4])[0]; o += 4
                    pt = duration + cto  # presentation time relative to tfdt
                    earliest = pt if earliest is None else min(earliest, pt)
                    if i == 0 and first_sample_flags is not None:
                        f = first_sample_flags
                    if first_flags is None:
                        first_flags = f
                    duration += d
                samples += count
    if tfdt is None or samples == 0 or duration == 0:
        sys.exit(f"{rep}/{name}: no tfdt or no samples")
    rows.append((tfdt, duration, first_flags, len(data), tfdt + earliest))

gaps = sum(1 for a, b in zip(rows, rows[1:]) if a[0] + a[1] != b[0])
non_sync = sum(1 for r in rows if r[2] & 0x10000)  # sample_is_non_sync_sample
total = sum(r[1] for r in rows)
seg_bytes = sum(r[3] for r in rows)
peak = max(r[3] * 8 * timescale / r[1] for r in rows)
print(timescale, edit_lists, len(rows), rows[0][4], min(r[1] for r in rows), max(r[1] for r in rows), total,
      gaps, non_sync, math.ceil(peak), math.ceil(seg_bytes * 8 * timescale / total), len(init) + seg_bytes)
PY
}

# concat_segment REP_DIR N OUT: init.mp4 + seg-N.m4s, a playable fragmented MP4
concat_segment() { cat "$1/init.mp4" "$1/seg-$2.m4s" >"$3"; }

# write_mpd REL_DIR DURATION: measure the representations (into DASH_STATS and
# DASH_CODECS) and print the asset's static MPD
write_mpd() {
  local rel=$1 dur=$2 dir="$DASH_OUT/$1" tmp="$TMP_ROOT/concat.mp4"
  local r name w h id stats ts seg_max bw codecs vts="" max_w=0 max_h=0 max_seg=0 reps=""
  for r in "${RENDITIONS[@]}"; do
    read -r name w h _ <<<"$r"
    stats=$(mp4_stats "$dir/$name") || die "could not read $dir/$name"
    DASH_STATS[$rel/$name]=$stats
    read -r ts _ _ _ _ seg_max _ _ _ bw _ <<<"$stats"
    [ -z "$vts" ] || [ "$vts" = "$ts" ] || die "$rel: video timescales differ ($vts, $ts)"
    vts=$ts
    max_seg=$(awk -v a="$max_seg" -v b="$seg_max" -v t="$ts" 'BEGIN { print (b / t > a) ? b / t : a }')
    concat_segment "$dir/$name" 1 "$tmp"
    codecs=$(codec_string "$tmp")
    DASH_CODECS[$rel/$name]=$codecs
    if [ "$w" -gt "$max_w" ]; then max_w=$w; fi
    if [ "$h" -gt "$max_h" ]; then max_h=$h; fi
    reps+="      <Representation id=\"${name}\" codecs=\"${codecs}\" bandwidth=\"${bw}\" width=\"${w}\" height=\"${h}\" sar=\"1:1\"/>"$'\n'
  done
  id=$DASH_AUDIO_ID
  stats=$(mp4_stats "$dir/$id") || die "could not read $dir/$id"
  DASH_STATS[$rel/$id]=$stats
  read -r ts _ _ _ _ seg_max _ _ _ bw _ <<<"$stats"
  max_seg=$(awk -v a="$max_seg" -v b="$seg_max" -v t="$ts" 'BEGIN { print (b / t > a) ? b / t : a }')
  concat_segment "$dir/$id" 1 "$tmp"
  [ "$(ffprobe -v error -select_streams a:0 -show_entries stream=profile -of default=nw=1:nk=1 "$tmp")" = LC ] \
    || die "$dir/$id is not AAC-LC"
  DASH_CODECS[$rel/$id]=mp4a.40.2
  rm -f "$tmp"
  # maxSegmentDuration: the longest measured segment, rounded up to the millisecond
  max_seg=$(awk -v d="$max_seg" 'BEGIN { m = d * 1000; printf "%.3f", ((m == int(m)) ? m : int(m) + 1) / 1000 }')
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- splicepoint demo media, written by scripts/make-demo-media.sh from measured values: do not edit. -->
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static"
     mediaPresentationDuration="PT${dur}S" maxSegmentDuration="PT${max_seg}S" minBufferTime="PT$((2 * SEG))S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1"
                   maxWidth="${max_w}" maxHeight="${max_h}" frameRate="${FPS}" par="16:9">
      <SegmentTemplate timescale="${vts}" duration="$((SEG * vts))" startNumber="1"
                       initialization="\$RepresentationID\$/init.mp4" media="\$RepresentationID\$/seg-\$Number\$.m4s"/>
${reps}    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1">
      <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1"/>
      <SegmentTemplate timescale="${ts}" duration="$((SEG * ts))" startNumber="1"
                       initialization="\$RepresentationID\$/init.mp4" media="\$RepresentationID\$/seg-\$Number\$.m4s"/>
      <Representation id="${id}" codecs="mp4a.40.2" bandwidth="${bw}" audioSamplingRate="${AUDIO_RATE}"/>
    </AdaptationSet>
  </Period>
</MPD>
EOF
}

# make_dash_asset REL_DIR DURATION VIDEO_GRAPH AUDIO_GRAPH
make_dash_asset() {
  local rel=$1 dur=$2
  log "encoding dash/$rel (${dur}s)"
  encode_dash "$DASH_OUT/$rel" "$dur" "$3" "$4"
  write_mpd "$rel" "$dur" >"$DASH_OUT/$rel/manifest.mpd"
}

# make_asset REL_DIR DURATION VIDEO_GRAPH AUDIO_GRAPH: HLS/TS and DASH versions
make_asset() {
  local rel=$1 dur=$2 vgraph=$3 agraph=$4 r
  log "encoding $rel (${dur}s)"
  EXPECTED_SEGS[$rel]=$((dur / SEG))
  for r in "${RENDITIONS[@]}"; do
    # shellcheck disable=SC2086
    encode_rendition "$OUT/$rel/${r%% *}" "$dur" "$vgraph" "$agraph" $r
  done
  write_master "$OUT/$rel"
  make_dash_asset "$rel" "$dur" "$vgraph" "$agraph"
}

# ---------------------------------------------------------------- main
declare -A EXPECTED_SEGS=() DASH_STATS=() DASH_CODECS=()
DASH_OUT="$OUT/dash"
ensure_ffmpeg
ensure_python3
TMP_ROOT=$(mktemp -d)
trap 'rm -rf "$TMP_ROOT"' EXIT
log "using $(ffmpeg -hide_banner -version | sed -n 1p)"

rm -rf "$OUT"
mkdir -p "$OUT"

SIZE="size=320x180:rate=${FPS}"

# Content: testsrc2 (colour bars, moving gradient band, running clock showing
# the content position) with a 440 Hz tone.
make_asset content 60 \
  "testsrc2=${SIZE}" \
  "sine=frequency=440:sample_rate=${AUDIO_RATE}"

# Ad 1: classic testsrc (rainbow circle + big seconds counter), 880 Hz.
make_asset ads/ad1 10 \
  "testsrc=${SIZE}" \
  "sine=frequency=880:sample_rate=${AUDIO_RATE}"

# Ad 2: RGB gradient bands with a bouncing white square, 660 Hz.
make_asset ads/ad2 6 \
  "rgbtestsrc=${SIZE}[bg];color=c=white:size=40x40:rate=${FPS}[box];[bg][box]overlay=x='abs(mod(t*160,2*(W-w))-(W-w))':y='(H-h)/2':shortest=1" \
  "sine=frequency=660:sample_rate=${AUDIO_RATE}"

# Slate: still SMPTE bars, silent audio.
make_asset slate 2 \
  "smptebars=${SIZE}" \
  "anullsrc=channel_layout=mono:sample_rate=${AUDIO_RATE}"

# MP4 creative for the transcoder (ad-templates/vast/mp4.xml, ?pod=mp4): one
# progressive file, deliberately NOT like the content (640x360, 30 fps, H.264
# High, 44.1 kHz stereo AAC, louder than -24 LKFS) so the full transcode path runs.
MP4_CREATIVE="$OUT/ads/mp4/ad3.mp4"
MAX_MP4_BYTES=150000
# make_mp4_creative FILE: 6 s of testsrc2 with a rotating hue and a 550 Hz tone
make_mp4_creative() {
  mkdir -p "$(dirname "$1")"
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=640x360:rate=30,hue=h=t*60" \
    -f lavfi -i "sine=frequency=550:sample_rate=44100,volume=6dB" \
    -t 6 -map 0:v -map 1:a \
    -c:v libx264 -threads 1 -preset veryslow -profile:v high -pix_fmt yuv420p \
    -crf 30 -maxrate 60k -bufsize 120k -g 60 -keyint_min 60 -sc_threshold 0 \
    -c:a aac -aac_coder fast -b:a 32k -ar 44100 -ac 2 \
    -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
    -movflags +faststart "$1"
}
log "encoding ads/mp4/ad3.mp4 (6s progressive MP4 creative)"
make_mp4_creative "$MP4_CREATIVE"

# ---------------------------------------------------------------- checks
log "verifying"
fail=0
rows=()
for asset in content ads/ad1 ads/ad2 slate; do
  for r in "${RENDITIONS[@]}"; do
    name=${r%% *}
    dir="$OUT/$asset/$name"
    n=0; dmin=999; dmax=0; bytes=0
    for seg in "$dir"/seg*.ts; do
      n=$((n + 1))
      bytes=$((bytes + $(stat -c %s "$seg")))
      d=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$seg")
      if ! awk -v d="$d" -v s="$SEG" 'BEGIN { exit !(d >= s - 0.05 && d <= s + 0.05) }'; then
        echo "FAIL: $seg duration $d" >&2; fail=1
      fi
      dmin=$(awk -v a="$dmin" -v b="$d" 'BEGIN { print (b < a) ? b : a }')
      dmax=$(awk -v a="$dmax" -v b="$d" 'BEGIN { print (b > a) ? b : a }')
      vd=$(ffprobe -v error -select_streams v:0 -show_entries stream=duration -of default=nw=1:nk=1 "$seg" | sed -n 1p)
      if [ "$vd" != "${SEG}.000000" ]; then
        echo "FAIL: $seg video duration $vd" >&2; fail=1
      fi
      flags=$(ffprobe -v error -select_streams v:0 -read_intervals '%+#1' \
                -show_entries packet=flags -of default=nw=1:nk=1 "$seg" | sed -n 1p)
      case $flags in K*) ;; *) echo "FAIL: $seg does not start with a keyframe ($flags)" >&2; fail=1 ;; esac
    done
    if [ "$n" -ne "${EXPECTED_SEGS[$asset]}" ]; then
      echo "FAIL: $dir has $n segments, expected ${EXPECTED_SEGS[$asset]}" >&2; fail=1
    fi
    if [ "$(grep -c "^#EXTINF:${SEG}\.000000,\$" "$dir/index.m3u8")" -ne "$n" ]; then
      echo "FAIL: $dir/index.m3u8 has EXTINF values other than ${SEG}.000000" >&2; fail=1
    fi
    warnings=$(ffmpeg -nostdin -hide_banner -v warning -i "$dir/index.m3u8" -f null - 2>&1 || true)
    if [ -n "$warnings" ]; then
      printf 'FAIL: decoding %s printed warnings:\n%s\n' "$dir/index.m3u8" "$warnings" >&2; fail=1
    fi
    stream_inf=$(grep -A1 '^#EXT-X-STREAM-INF' "$OUT/$asset/master.m3u8" | grep -B1 "^$name/" | sed -n 1p)
    bw=$(sed -E 's/.*[:,]BANDWIDTH=([0-9]+).*/\1/' <<<"$stream_inf")
    abw=$(sed -E 's/.*AVERAGE-BANDWIDTH=([0-9]+).*/\1/' <<<"$stream_inf")
    codecs=$(sed -E 's/.*CODECS="([^"]+)".*/\1/' <<<"$stream_inf")
    rows+=("$(printf '%-12s %-4s %4d %9s %9s %9d %10d %10d  %s' \
      "$asset" "$name" "$n" "$dmin" "$dmax" "$bytes" "$bw" "$abw" "$codecs")")
  done
done

# The MP4 creative: its own picture and sound, within its size budget
mp4_streams=$(ffprobe -v error -show_entries stream=codec_name,width,height,r_frame_rate,sample_rate,channels \
                -of csv=p=0 "$MP4_CREATIVE" | tr '\n' ' ')
if [ "$mp4_streams" != "h264,640,360,30/1 aac,44100,2,0/0 " ]; then
  echo "FAIL: $MP4_CREATIVE streams are '$mp4_streams'" >&2; fail=1
fi
if [ "$(stat -c %s "$MP4_CREATIVE")" -ge "$MAX_MP4_BYTES" ]; then
  echo "FAIL: $MP4_CREATIVE is over $MAX_MP4_BYTES bytes" >&2; fail=1
fi

# DASH: the box-level measurements taken by write_mpd, ffprobe on every
# init.mp4 + seg-N.m4s, ffmpeg decoding every MPD, XML well-formedness
dash_rows=()
secs() { awk -v v="$1" -v t="$2" 'BEGIN { printf "%.6f", v / t }'; }
for asset in content ads/ad1 ads/ad2 slate; do
  mpd="$DASH_OUT/$asset/manifest.mpd"
  expected=${EXPECTED_SEGS[$asset]}
  for r in "${RENDITIONS[@]}" "$DASH_AUDIO_ID"; do
    id=${r%% *}
    rep="$DASH_OUT/$asset/$id"
    kind=video; if [ "$id" = "$DASH_AUDIO_ID" ]; then kind=audio; fi
    read -r ts elst n ept smin smax total gaps nonsync bw abw bytes <<<"${DASH_STATS[$asset/$id]}"
    nominal=$((SEG * ts))
    problems=()
    [ "$n" -eq "$expected" ] || problems+=("$n segments, expected $expected")
    [ "$ept" -eq 0 ] || problems+=("earliest presentation time is $ept, expected 0")
    [ "$elst" -eq 0 ] || problems+=("init.mp4 has an edit list")
    [ "$gaps" -eq 0 ] || problems+=("$gaps segments do not start where the previous one ends")
    [ "$nonsync" -eq 0 ] || problems+=("$nonsync segments do not start with a sync sample")
    if [ "$kind" = video ]; then
      [ "$smin" -eq "$nominal" ] && [ "$smax" -eq "$nominal" ] \
        || problems+=("video segment durations $smin..$smax, expected $nominal")
    else
      # AAC frames: every segment within one frame of 2 s, and the track covers
      # the asset by less than one frame more
      [ "$smin" -gt $((nominal - AAC_FRAME)) ] && [ "$smax" -lt $((nominal + AAC_FRAME)) ] \
        || problems+=("audio segment durations $smin..$smax, expected $nominal +- $AAC_FRAME")
      [ "$total" -ge $((expected * nominal)) ] && [ "$total" -lt $((expected * nominal + AAC_FRAME)) ] \
        || problems+=("audio duration $total, expected $((expected * nominal)) + less than $AAC_FRAME")
    fi
    grep -q "<Representation id=\"$id\" codecs=\"${DASH_CODECS[$asset/$id]}\" bandwidth=\"$bw\"" "$mpd" \
      || problems+=("$mpd does not list $id with codecs ${DASH_CODECS[$asset/$id]} and bandwidth $bw")
    for ((i = 1; i <= n; i++)); do
      concat_segment "$rep" "$i" "$TMP_ROOT/seg.mp4"
      first=$(ffprobe -v error -read_intervals '%+#1' -show_entries packet=pts,flags -of csv=p=0 \
                "$TMP_ROOT/seg.mp4" 2>"$TMP_ROOT/err" | sed -n 1p)
      if [ -s "$TMP_ROOT/err" ]; then
        problems+=("ffprobe on init.mp4 + seg-$i.m4s: $(tr '\n' ' ' <"$TMP_ROOT/err")")
      fi
      pts=${first%%,*}; flags=${first#*,}
      want=$(( (i - 1) * nominal ))
      if [ "$kind" = video ]; then
        [ "$pts" = "$want" ] || problems+=("seg-$i.m4s starts at $pts, expected $want")
      elif ! [ "$pts" -gt $((want - AAC_FRAME)) ] 2>/dev/null || ! [ "$pts" -lt $((want + AAC_FRAME)) ]; then
        problems+=("seg-$i.m4s starts at $pts, expected $want +- $AAC_FRAME")
      fi
      case $flags in K*) ;; *) problems+=("seg-$i.m4s does not start with a keyframe ($flags)") ;; esac
    done
    rm -f "$TMP_ROOT/seg.mp4" "$TMP_ROOT/err"
    for p in "${problems[@]}"; do echo "FAIL: $rep: $p" >&2; fail=1; done
    dash_rows+=("$(printf '%-12s %-3s %6d %4d %4d %9s %9s %10s %8d %9d %9d  %s' \
      "$asset" "$id" "$ts" "$n" "$ept" "$(secs "$smin" "$ts")" "$(secs "$smax" "$ts")" "$(secs "$total" "$ts")" \
      "$bytes" "$bw" "$abw" "${DASH_CODECS[$asset/$id]}")")
  done
  # Decode every Representation through the MPD. ffmpeg's dash demuxer (5.1,
  # and still upstream) has two bugs: with a relative MPD path it doubles the
  # directory (hence the absolute file: URL), and for SegmentTemplate@duration
  # it asks for one segment past the end (calc_max_seg_no rounds up and is then
  # used as an inclusive bound; ffmpeg's own dash muxer output does the same),
  # logging "Failed to open fragment" and "Invalid data found" at the end. Those
  # lines are filtered out; the frame counts prove that every segment was read.
  counts=$(ffmpeg -nostdin -hide_banner -v warning -i "file:$mpd" -map 0 -f framecrc - 2>"$TMP_ROOT/err" \
             | awk -F, '!/^#/ { c[$1 + 0]++ } END { for (i = 0; i in c; i++) printf "%d ", c[i] }')
  warnings=$(grep -v -e '\] Failed to open fragment of playlist$' -e '\] Error when loading first fragment of playlist$' \
               -e '^    Last message repeated [0-9]* times$' -e ': Invalid data found when processing input$' \
               "$TMP_ROOT/err" || true)
  if [ -n "$warnings" ]; then
    printf 'FAIL: decoding %s printed warnings:\n%s\n' "$mpd" "$warnings" >&2; fail=1
  fi
  want=""
  for r in "${RENDITIONS[@]}"; do want+="$((FPS * expected * SEG)) "; done
  read -r _ _ _ _ _ _ total _ <<<"${DASH_STATS[$asset/$DASH_AUDIO_ID]}"
  want+="$((total / AAC_FRAME)) "
  if [ "$counts" != "$want" ]; then
    echo "FAIL: decoding $mpd gave frames per stream '$counts', expected '$want'" >&2; fail=1
  fi
  rm -f "$TMP_ROOT/err"
  if ! python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$mpd"; then
    echo "FAIL: $mpd is not well-formed XML" >&2; fail=1
  fi
done
dash_total=$(du -sb "$DASH_OUT" | cut -f1)

# README (written last so it can quote the measured numbers)
write_readme() {
  local r name w h crf maxrate bufsize codecs_v0
  codecs_v0=$(sed -n 's/.*CODECS="\([^,"]*\).*/\1/p' "$OUT/content/master.m3u8" | sed -n 1p)
  cat <<EOF
# splicepoint demo media

Synthetic HLS test media for the splicepoint demo: content, two ads and a slate.
Everything here is generated by \`scripts/make-demo-media.sh\` from ffmpeg lavfi
test sources (no input files, no fonts); do not edit by hand. To regenerate
(this wipes \`demo/media/\` and installs ffmpeg with apt-get if it is missing):

\`\`\`sh
scripts/make-demo-media.sh
\`\`\`

## Layout

| Path | Duration | Picture | Audio |
|------|----------|---------|-------|
| \`content/\` | 60 s (30 segments) | \`testsrc2\`: colour bars, moving gradient band, clock showing the content position | 440 Hz tone |
| \`ads/ad1/\` | 10 s (5 segments) | \`testsrc\`: rainbow circle with a big seconds counter | 880 Hz tone |
| \`ads/ad2/\` | 6 s (3 segments) | \`rgbtestsrc\` gradient bands with a bouncing white square | 660 Hz tone |
| \`slate/\` | 2 s (1 segment) | still SMPTE colour bars | silence |

Each asset directory has a \`master.m3u8\` (written by the script) and two VOD
media playlists written by ffmpeg, \`v0/index.m3u8\` and \`v1/index.m3u8\`, with
segments \`v0/segNN.ts\` and \`v1/segNN.ts\`.

## Encoding (identical for content, ads and slate)

- MPEG-TS segments of exactly ${SEG}.000 s (\`-hls_time ${SEG}\`); every segment starts with an IDR frame.
- H.264 Main profile (\`-profile:v ${PROFILE}\`), level ${LEVEL} (\`${codecs_v0}\`), ${FPS} fps, yuv420p, no B-frames,
  closed GOP of ${GOP} frames (\`-g ${GOP} -keyint_min ${GOP} -sc_threshold 0 -flags +cgop\`,
  \`-force_key_frames expr:gte(t,n_forced*${SEG})\`), x264 preset \`${PRESET}\`.
EOF
  for r in "${RENDITIONS[@]}"; do
    read -r name w h crf maxrate bufsize <<<"$r"
    echo "  - \`${name}\`: ${w}x${h}, CRF ${crf}, video capped at ${maxrate%k} kbit/s (\`-maxrate ${maxrate} -bufsize ${bufsize}\`)"
  done
  cat <<EOF
- AAC-LC (\`mp4a.40.2\`), ${AUDIO_RATE} Hz, mono, ${AUDIO_BITRATE%k} kbit/s with \`-aac_coder fast\`
  (the default coder is audibly noisy on pure tones at low bit rates).
- The MPEG-TS muxer keeps ffmpeg's default 0.7 s mux delay, so timestamps start at
  about 1.4 s (PCR 0.7 s ahead of PTS). \`-muxdelay 0\` would put every AAC frame
  in its own PES packet, costing about 40 kbit/s of TS overhead per rendition.
- The first TS packet of every PID in each asset's \`seg00.ts\` has the MPEG-TS
  discontinuity_indicator set (\`mpegts_flags=+initial_discontinuity\`), so
  splicing into the start of an asset does not look like continuity-counter loss.
- \`BANDWIDTH\` in the master playlists is the peak segment bit rate and
  \`AVERAGE-BANDWIDTH\` the mean bit rate over all segments (bit/s, rounded up),
  measured on the .ts files, so both include the MPEG-TS overhead.

## Measured

Durations are ffprobe container durations per segment: video is exactly
${SEG}.000 s per segment, and AAC frame granularity (21.3 ms) can make the
container span slightly longer.

\`\`\`
EOF
  printf '%-12s %-4s %4s %9s %9s %9s %10s %10s  %s\n' asset rend segs dur_min dur_max bytes BANDWIDTH AVG-BW CODECS
  printf '%s\n' "${rows[@]}"
  echo
  ffmpeg -hide_banner -version | sed -n '1s/ Copyright.*//p'
  echo '```'
  write_readme_dash
}

# write_readme_dash: the README section for dash/
write_readme_dash() {
  local r name w h vts ats folders=""
  read -r vts _ <<<"${DASH_STATS[content/${RENDITIONS[0]%% *}]}"
  read -r ats _ <<<"${DASH_STATS[content/$DASH_AUDIO_ID]}"
  for r in "${RENDITIONS[@]}"; do
    read -r name w h _ <<<"$r"
    folders+="\`${name}/\` (video ${w}x${h}), "
  done
  cat <<EOF

## DASH (\`dash/\`)

The same four assets as fragmented MP4 for the DASH demo streams:
\`dash/content/\`, \`dash/ads/ad1/\`, \`dash/ads/ad2/\` and \`dash/slate/\`, each with a
static (VOD) \`manifest.mpd\` and one folder per Representation,
${folders}\`${DASH_AUDIO_ID}/\` (audio), each holding \`init.mp4\` and
\`seg-1.m4s\`, \`seg-2.m4s\`, ...

- Same sources, pictures and tones as the TS versions and the same x264/AAC
  settings (above); one ffmpeg run per asset (the picture is split and scaled to
  every size) into ffmpeg's dash muxer (\`-seg_duration ${SEG} -use_template 1
  -use_timeline 0 -format_options use_editlist=0\`), files renamed to the layout
  above. CMAF-style segments: \`styp\`, \`sidx\`, one \`moof\` (with \`tfdt\`) and one
  \`mdat\`; no edit lists, no B-frames so no composition offsets. ffmpeg 5.1 does
  not write the \`cmfc\` brands.
- The MPDs are written by the script from values measured in the MP4 boxes
  (ffmpeg's own MPD, whose Representation ids are stream indexes, is discarded):
  separate video and audio AdaptationSets, one \`SegmentTemplate\` per
  AdaptationSet with \`timescale\`, \`duration\` (${SEG} s), \`startNumber="1"\`,
  \`initialization="\$RepresentationID\$/init.mp4"\` and
  \`media="\$RepresentationID\$/seg-\$Number\$.m4s"\` (no SegmentTimeline).
  \`mediaPresentationDuration\` is the asset's duration, which is the exact video
  duration, so every Representation has ceil(duration / ${SEG} s) segments.
  \`bandwidth\` is the peak segment bit rate (.m4s bytes * 8 / measured segment
  duration, init.mp4 excluded, rounded up), \`maxSegmentDuration\` the longest
  measured segment rounded up to the millisecond.
- Video timescale ${vts}: every video segment is exactly ${GOP} frames = ${SEG}.000 s
  and starts with an IDR frame.
- Audio timescale ${ats}: AAC frames are ${AAC_FRAME} samples, so audio segments
  cannot all be ${SEG} s. The dash muxer cuts the audio track together with the
  video, giving segments of whole frames within one frame of the ${SEG} s grid
  (with ffmpeg 5.1 each audio segment starts with the first frame at or after
  its grid point, so up to 21.3 ms late: 94, 94, 94, 93 frames, repeating); the
  track is continuous (each \`tfdt\` is the previous \`tfdt\` + duration). The audio
  source is trimmed so that the encoder emits ceil(duration * ${AUDIO_RATE} / ${AAC_FRAME})
  frames, its ${AAC_FRAME} priming samples included: the audio ends less than one frame
  after the video and there is no extra audio segment.
- The earliest presentation time (\`tfdt\` of \`seg-1.m4s\` plus its smallest
  composition offset, which is 0 without B-frames) of every track of every asset is 0 (column \`ept\` below), so \`presentationTimeOffset="0"\` is
  right when an ad or the slate becomes a Period. The AAC encoder's priming
  frame (near silence) is played as the first audio frame, at 0: the audio
  timestamps are moved by ${AAC_FRAME} samples instead of writing an edit list, which
  many DASH players ignore.
- Checking with ffmpeg: its dash demuxer (5.1, and still upstream) resolves
  segment URLs wrongly for a relative MPD path with directories (use an absolute
  path or a \`file:\` URL), and for \`SegmentTemplate@duration\` it asks for one
  segment past the end (also with MPDs from ffmpeg's own dash muxer), so
  \`ffmpeg -v warning -i file:\$PWD/dash/content/manifest.mpd -f null -\` ends
  with "Failed to open fragment of playlist" and "Invalid data found when
  processing input" after decoding everything. The script filters exactly those
  lines and checks the decoded frame count of every Representation instead.

Measured from the boxes (durations in seconds, from the \`trun\` sample
durations; \`bytes\` includes init.mp4; \`BANDWIDTH\` / \`AVG-BW\` are the peak and
mean segment bit rates in bit/s). Total size of \`dash/\`: ${dash_total} bytes.

\`\`\`
EOF
  printf '%-12s %-3s %6s %4s %4s %9s %9s %10s %8s %9s %9s  %s\n' \
    asset rep tscale segs ept seg_min seg_max total bytes BANDWIDTH AVG-BW CODECS
  printf '%s\n' "${dash_rows[@]}"
  echo '```'
}
write_readme >"$OUT/README.md"

total=$(( $(du -sb "$OUT" | cut -f1) - dash_total ))

echo
printf '%-12s %-4s %4s %9s %9s %9s %10s %10s  %s\n' asset rend segs dur_min dur_max bytes BANDWIDTH AVG-BW CODECS
printf '%s\n' "${rows[@]}"
echo
printf '%-12s %-3s %6s %4s %4s %9s %9s %10s %8s %9s %9s  %s\n' \
  asset rep tscale segs ept seg_min seg_max total bytes BANDWIDTH AVG-BW CODECS
printf '%s\n' "${dash_rows[@]}"
echo
echo "total size of demo/media without dash/: $total bytes (budget $MAX_TOTAL_BYTES)"
echo "total size of demo/media/dash: $dash_total bytes (budget $MAX_DASH_BYTES)"
if [ "$total" -ge "$MAX_TOTAL_BYTES" ]; then
  echo "FAIL: demo/media is over budget" >&2; fail=1
fi
if [ "$dash_total" -ge "$MAX_DASH_BYTES" ]; then
  echo "FAIL: demo/media/dash is over budget" >&2; fail=1
fi
if [ "$fail" -ne 0 ]; then
  die "verification failed"
fi
log "done"
