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
MAX_TOTAL_BYTES=1800000    # hard budget for demo/media

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
  log "ffmpeg not found, installing it with apt-get"
  command -v apt-get >/dev/null 2>&1 || die "ffmpeg is missing and apt-get is not available; install ffmpeg manually"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends ffmpeg
  command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg installation failed"
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

# make_asset REL_DIR DURATION VIDEO_GRAPH AUDIO_GRAPH
make_asset() {
  local rel=$1 dur=$2 vgraph=$3 agraph=$4 r
  log "encoding $rel (${dur}s)"
  EXPECTED_SEGS[$rel]=$((dur / SEG))
  for r in "${RENDITIONS[@]}"; do
    # shellcheck disable=SC2086
    encode_rendition "$OUT/$rel/${r%% *}" "$dur" "$vgraph" "$agraph" $r
  done
  write_master "$OUT/$rel"
}

# ---------------------------------------------------------------- main
declare -A EXPECTED_SEGS=()
ensure_ffmpeg
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
}
write_readme >"$OUT/README.md"

total=$(du -sb "$OUT" | cut -f1)

echo
printf '%-12s %-4s %4s %9s %9s %9s %10s %10s  %s\n' asset rend segs dur_min dur_max bytes BANDWIDTH AVG-BW CODECS
printf '%s\n' "${rows[@]}"
echo
echo "total size of demo/media: $total bytes (budget $MAX_TOTAL_BYTES)"
if [ "$total" -ge "$MAX_TOTAL_BYTES" ]; then
  echo "FAIL: demo/media is over budget" >&2; fail=1
fi
if [ "$fail" -ne 0 ]; then
  die "verification failed"
fi
log "done"
