"""Seeded generator of the mixed-type benchmark CSV (shared by the benchmark
and the DuckDB cross-check). Files are cached by (size, seed)."""

import datetime
import os
import random

COLUMNS = ["id", "qty", "price", "ts", "category", "comment", "sparse", "reading"]
CATEGORIES = [f"cat_{c}" for c in "abcdefghijklmnopqrst"]
WORDS = ("alpha beta gamma delta lorem ipsum dolor sit amet quick brown fox jumps "
         "over lazy dog, data profile loupe column value stream").split()


def _comments(rng, n=4096):
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
        text = " ".join(words)
        r = rng.random()
        if r < 0.10:
            text += "\nsecond line, with comma"
        elif r < 0.15:
            text += ' said "hello"'
        out.append('"' + text.replace('"', '""') + '"')
    return out


def generate(path, target_bytes, seed=42):
    rng = random.Random(seed)
    comments = _comments(rng)
    start = datetime.datetime(2023, 1, 1)
    tmp = path + ".tmp"
    written = 0
    with open(tmp, "w", newline="") as f:
        header = ",".join(COLUMNS) + "\n"
        f.write(header)
        written += len(header)
        i = 0
        while written < target_bytes:
            rows = []
            for _ in range(10_000):
                i += 1
                price = "" if rng.random() < 0.05 else f"{rng.lognormvariate(3, 1):.2f}"
                ts = (start + datetime.timedelta(seconds=i * 3 + rng.randint(0, 2))).strftime("%Y-%m-%d %H:%M:%S")
                sparse = str(rng.randint(0, 1000)) if rng.random() < 0.02 else ""
                reading = "ERR" if rng.random() < 0.001 else f"{rng.gauss(20, 5):.3f}"
                rows.append(f"{i},{rng.randint(-50, 5000)},{price},{ts},{rng.choice(CATEGORIES)},"
                            f"{rng.choice(comments)},{sparse},{reading}\n")
            chunk = "".join(rows)
            f.write(chunk)
            written += len(chunk)
    os.replace(tmp, path)


# Generated files are cached under target/, which git ignores.
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target", "bench-data")


def cached(size_mb, seed=42, data_dir=DATA_DIR):
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, f"mixed_{size_mb}mb_seed{seed}.csv")
    if not os.path.exists(path):
        generate(path, size_mb * 1_000_000, seed)
    return path


if __name__ == "__main__":
    import sys
    print(cached(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
