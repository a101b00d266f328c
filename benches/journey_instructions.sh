#!/usr/bin/env bash
# Instructions the server executes per small-file journey, counted by
# valgrind's callgrind: unlike CPU time, the count repeats run to run
# whatever else the machine is doing, so a change of a few percent shows.
# It counts user-space instructions only (not the kernel's fsyncs and
# sockets) on a server slowed ~50x, so it ranks changes; served_path.py
# --only small gives the figures a user gets.
#
# Runs served_path.py --only small (16 clients) twice under callgrind, with
# 3 and 13 journeys per client, and divides the difference by the 160
# journeys between them, so start-up and shut-down cancel out.
#
#     bash benches/journey_instructions.sh [path/to/loupe] [--postgres]   # default target/release/loupe
#
# Arguments after the binary go to served_path.py (--postgres: the journey
# on PostgreSQL, whose own work is not counted).
#
# Needs valgrind and what served_path.py needs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-$here/../target/release/loupe}")
shift || true
extra=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/loupe" <<WRAP
#!/usr/bin/env bash
exec valgrind --tool=callgrind --callgrind-out-file="$work/run.\$\$.out" --dump-instr=no -q "$bin" "\$@"
WRAP
chmod +x "$work/loupe"
total() {
    rm -f "$work"/run.*.out
    LOUPE_BIN="$work/loupe" python3 "$here/served_path.py" --only small --journeys "$1" "${extra[@]}" >/dev/null
    # The server's file is the one with journeys in it (the CLI is not run here).
    grep -h '^summary:' "$work"/run.*.out | awk '{ if ($2 > max) max = $2 } END { print max }'
}
few=$(total 3)
many=$(total 13)
echo "$bin ${extra[*]}: $(( (many - few) / 160 )) instructions per journey (callgrind; 16 clients, 3 vs 13 journeys each)"
