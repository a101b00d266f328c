#!/usr/bin/env python3
"""Times Loupe's profiler against DuckDB's SUMMARIZE on the same seeded
mixed-type CSV, on the same machine, in the same run.

Each tool runs as its own child process (DuckDB in-process inside a fresh
Python); wall time is measured around the child, peak RSS with GNU time's %M.
Reports medians of --runs runs. DuckDB's time includes starting Python and
importing duckdb; that fixed cost is measured separately and printed so it
can be subtracted when comparing small files.

    python3 benches/profile_vs_duckdb.py --size-mb 1000 --runs 3
    python3 benches/profile_vs_duckdb.py --loupe-cmd "other-build/loupe profile {file}"
"""

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_data  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
DEFAULT_LOUPE = os.path.join(CRATE, "target/release/loupe") + " profile {file} --compact"

DUCKDB_SCRIPT = """
import sys, duckdb
con = duckdb.connect()
if len(sys.argv) > 2 and sys.argv[2] != "default":
    con.execute(f"SET threads = {int(sys.argv[2])}")
rows = con.execute("SUMMARIZE SELECT * FROM read_csv(?)", [sys.argv[1]]).fetchall()
print(len(rows))
"""


TIME = "/usr/bin/time"


def measure(argv):
    """Runs argv; returns (wall seconds, peak RSS MiB, stdout bytes).

    A child forked from this Python process starts out with Python's RSS
    (~30 MiB), and ru_maxrss keeps that pre-exec peak. So the command runs
    under GNU time, whose own small process is what gets forked, and its
    %M (max RSS of the measured program) is used when available."""
    rss_file = None
    if os.path.exists(TIME):
        rss_file = f"/tmp/loupe_bench_rss_{os.getpid()}"
        argv = [TIME, "-f", "%M", "-o", rss_file] + argv
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed: {err.decode(errors='replace')}")
    if rss_file:
        with open(rss_file) as f:
            rss_kb = int(f.read().split()[-1])
        os.unlink(rss_file)
    else:
        rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, rss_kb / 1024.0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--loupe-cmd", default=DEFAULT_LOUPE,
                    help="command with {file} placeholder")
    ap.add_argument("--duckdb-threads", default="default")
    ap.add_argument("--data-dir", default=gen_data.DATA_DIR)
    args = ap.parse_args()

    if args.loupe_cmd == DEFAULT_LOUPE:
        # The default command is this checkout's binary; make sure it is current.
        subprocess.run(["cargo", "build", "--release", "--bin", "loupe"], cwd=CRATE, check=True)
    path = gen_data.cached(args.size_mb, args.seed, args.data_dir)
    size_mb = os.path.getsize(path) / 1e6
    loupe = [a.replace("{file}", path) for a in shlex.split(args.loupe_cmd)]
    duck = [sys.executable, "-c", DUCKDB_SCRIPT, path, args.duckdb_threads]
    # Warm the page cache so both read from memory.
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass

    results = {"loupe": [], "duckdb": []}
    startup = statistics.median(
        measure([sys.executable, "-c", "import duckdb"])[0] for _ in range(3))
    for i in range(args.runs):
        # Alternate the order so neither tool always runs on a warmer machine.
        order = [("loupe", loupe), ("duckdb", duck)]
        if i % 2:
            order.reverse()
        for name, argv in order:
            wall, rss, _ = measure(argv)
            results[name].append((wall, rss))
            print(f"run {i + 1} {name:6s} {wall:7.3f} s  {rss:8.1f} MiB", file=sys.stderr)

    print(f"\nfile: {path} ({size_mb:.0f} MB), {os.cpu_count()} cores, median of {args.runs} runs")
    print(f"{'tool':8s} {'wall s':>8s} {'MB/s':>8s} {'peak RSS MiB':>13s}")
    med = {}
    for name, rs in results.items():
        wall = statistics.median(r[0] for r in rs)
        rss = statistics.median(r[1] for r in rs)
        med[name] = (wall, rss)
        print(f"{name:8s} {wall:8.3f} {size_mb / wall:8.1f} {rss:13.1f}")
    print(f"(python + import duckdb alone: {startup:.3f} s; duckdb MB/s without it: "
          f"{size_mb / max(med['duckdb'][0] - startup, 1e-9):.1f})")
    speed = med["duckdb"][0] / med["loupe"][0]
    mem = med["loupe"][1] / med["duckdb"][1]
    print(f"\nthroughput ratio loupe/duckdb: {speed:.2f}x (target >= 1.5x)")
    print(f"peak memory ratio loupe/duckdb: {mem:.3f} (target < 0.25)")


if __name__ == "__main__":
    main()
