#!/usr/bin/env python3
"""Cross-checks Loupe's counts, nulls, min, max, mean (and distinct counts,
within the HLL bound) against exact DuckDB queries on the generated file.

DuckDB reads every column as text and casts with TRY_CAST, which mirrors
Loupe's rule that numeric statistics cover the values that fit the type.

    python3 benches/crosscheck_duckdb.py --size-mb 100
"""

import argparse
import json
import math
import os
import shlex
import subprocess
import sys

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_data  # noqa: E402
from profile_vs_duckdb import DEFAULT_LOUPE  # noqa: E402


def close(a, b, rel=1e-9):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--file", help="check this CSV instead of a generated one")
    ap.add_argument("--loupe-cmd", default=DEFAULT_LOUPE)
    args = ap.parse_args()
    path = args.file or gen_data.cached(args.size_mb, args.seed)
    if args.loupe_cmd == DEFAULT_LOUPE:
        subprocess.run(["cargo", "build", "--release", "--bin", "loupe"],
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), check=True)

    argv = [a.replace("{file}", path) for a in shlex.split(args.loupe_cmd)]
    prof = json.loads(subprocess.run(argv, check=True, capture_output=True).stdout)
    con = duckdb.connect()
    lit = "'" + path.replace("'", "''") + "'"
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({lit}, all_varchar = true)")

    failures = 0

    def check(what, ok, mine, theirs):
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'ok ' if ok else 'BAD'} {what:28s} loupe={mine!r:<28} duckdb={theirs!r}")

    (rows,) = con.execute("SELECT count(*) FROM t").fetchone()
    check("row_count", prof["row_count"] == rows, prof["row_count"], rows)
    for c in prof["columns"]:
        q = '"' + c["name"].replace('"', '""') + '"'
        # DuckDB turns empty fields into NULL; Loupe's extra null tokens
        # (NULL, NA, ...) do not occur in the generated data.
        nulls, distinct = con.execute(
            f"SELECT count(*) - count({q}), count(DISTINCT trim({q})) FROM t").fetchone()
        n = c["name"]
        check(f"{n}.null_count", c["null_count"] == nulls, c["null_count"], nulls)
        if c["distinct_exact"]:
            check(f"{n}.distinct (exact)", c["distinct_count"] == distinct, c["distinct_count"], distinct)
        else:
            rel = abs(c["distinct_count"] - distinct) / max(distinct, 1)
            check(f"{n}.distinct (±2.4%)", rel <= 3 * prof["distinct_relative_error"],
                  c["distinct_count"], distinct)
        if c["numeric"]:
            num = c["numeric"]
            cnt, mn, mx, mean, sd = con.execute(
                f"SELECT count(x), min(x), max(x), avg(x), stddev_samp(x) FROM "
                f"(SELECT TRY_CAST(trim({q}) AS DOUBLE) AS x FROM t)").fetchone()
            fit = c["type_counts"]["integer"] + c["type_counts"]["float"]
            check(f"{n}.numeric count", fit == cnt, fit, cnt)
            check(f"{n}.min", close(float(num["min"]), mn), num["min"], mn)
            check(f"{n}.max", close(float(num["max"]), mx), num["max"], mx)
            check(f"{n}.mean", close(num["mean"], mean), num["mean"], mean)
            check(f"{n}.std_dev", close(num["std_dev"], sd or 0.0, 1e-7), num["std_dev"], sd)
            qs = con.execute(
                f"SELECT quantile_cont(x, [0.01, 0.5, 0.99]) FROM "
                f"(SELECT TRY_CAST(trim({q}) AS DOUBLE) AS x FROM t)").fetchone()[0]
            # Quantiles are compared by rank, the quantity KLL bounds.
            for p, mine in zip([0.01, 0.5, 0.99], [num["quantiles"]["p1"], num["quantiles"]["p50"], num["quantiles"]["p99"]]):
                below, rank = con.execute(
                    f"SELECT avg(CASE WHEN x < ? THEN 1.0 ELSE 0.0 END), avg(CASE WHEN x <= ? THEN 1.0 ELSE 0.0 END) "
                    f"FROM (SELECT TRY_CAST(trim({q}) AS DOUBLE) AS x FROM t) WHERE x IS NOT NULL",
                    [mine, mine]).fetchone()
                eps = prof["quantile_rank_error"] + 1e-12
                ok = not math.isnan(rank) and rank >= p - eps and below <= p + eps
                check(f"{n}.p{int(p * 100)} rank", ok, mine, f"rank {rank:.4f}, exact {qs[[0.01, 0.5, 0.99].index(p)]}")
        if c["temporal"]:
            t = c["temporal"]
            mn, mx = con.execute(
                f"SELECT strftime(min(x), '%Y-%m-%dT%H:%M:%SZ'), strftime(max(x), '%Y-%m-%dT%H:%M:%SZ') "
                f"FROM (SELECT TRY_CAST(trim({q}) AS TIMESTAMP) AS x FROM t)").fetchone()
            if c["inferred_type"] == "date":
                mn, mx = mn[:10], mx[:10]
            check(f"{n}.min", t["min"] == mn, t["min"], mn)
            check(f"{n}.max", t["max"] == mx, t["max"], mx)
    print(f"\n{failures} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
