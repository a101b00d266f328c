#!/usr/bin/env python3
"""The served path against the CLI: starts a release `loupe` (embedded
defaults, or PostgreSQL with --postgres) and measures through the real API.

- big files (100 MB CSV, its JSON Lines version, 1 GB with --big): the
  presigned PUT (curl; MB/s), `confirmUpload` -> terminal `jobUpdates`
  message, and `loupe profile` on the same file in the same run, alternating,
  then DuckDB's SUMMARIZE (pip install duckdb; --no-duckdb skips it);
  medians of --runs; the server's RSS idle and its peak during the job
- small files: --clients concurrent clients each walking --journeys journeys
  of a 1 KB CSV (requestUpload, PUT, confirmUpload, jobUpdates on the
  client's one websocket): journeys/s, p50/p99 confirm -> terminal, server CPU
  per journey (utime + stime from /proc/<pid>/stat over the run)
- idle subscriptions: --subscriptions websockets each following a job that
  stays PENDING (a second server with --worker-concurrency 0); RSS per one

    python3 benches/served_path.py                    # embedded defaults
    python3 benches/served_path.py --postgres         # PostgreSQL + embedded store
    python3 benches/served_path.py --big --subscriptions 10000
    python3 benches/served_path.py --only small       # big, small, subs
    python3 benches/served_path.py --only big --files 1gb
    python3 benches/served_path.py --only big --external-s3

LOUPE_BIN=<path> measures another build. Needs `pip install websockets`, curl, and (for --postgres) PostgreSQL on
127.0.0.1:5432 with createdb/dropdb.
"""

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import warnings

import websockets
from websockets.sync.client import connect as ws_connect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_data  # noqa: E402

# websockets 17 nudges towards `with connect(...)`; a Client closes its socket itself.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=__name__)

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
LOUPE = os.environ.get("LOUPE_BIN", os.path.join(CRATE, "target/release/loupe"))
PG = "postgres://postgres@127.0.0.1:5432"
TICKS = os.sysconf("SC_CLK_TCK")

REQUEST_UPLOAD = """mutation($input: RequestUploadInput!) {
  requestUpload(input: $input) { upload { id } url headers { name value } } }"""
CONFIRM = "mutation($id: ID!) { confirmUpload(uploadId: $id) { id status } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status } }"
UPDATES = "subscription($id: ID!) { jobUpdates(jobId: $id) { status progress error { message } } }"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


class Server:
    """A release `loupe` on a free port with its own data dir (and database)."""

    def __init__(self, postgres, worker_concurrency=2, store=None, max_websockets=None,
                 cpu=None, database=None):
        """`cpu`: pin the server to that core (`taskset -c`); `database`: an
        existing PostgreSQL database to share, neither created nor dropped here."""
        self.dir = tempfile.mkdtemp(prefix="loupe-bench-")
        # With another server as its external S3 service, objects live there.
        self.objects = os.path.join((store or self).dir, "objects", "loupe")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, RUST_LOG="warn")
        if max_websockets:
            env["LOUPE_MAX_WEBSOCKETS"] = str(max_websockets)
        self.db = None
        if postgres:
            self.db = f"loupe_bench_{uuid.uuid4().hex[:12]}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", self.db], check=True)
            env["DATABASE_URL"] = f"{PG}/{self.db}"
        elif database:
            env["DATABASE_URL"] = f"{PG}/{database}"
        argv = [LOUPE, "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.dir,
                "--worker-concurrency", str(worker_concurrency)]
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        if store:
            with open(os.path.join(store.dir, "embedded-s3.credentials")) as f:
                key_id, secret = f.read().strip().split(":", 1)
            argv += ["--s3-endpoint", store.base, "--s3-path-style",
                     "--s3-access-key-id", key_id, "--s3-secret-access-key", secret]
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                if urllib.request.urlopen(self.base + "/readyz").status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise SystemExit("loupe did not become ready")
            time.sleep(0.05)

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def reset_peak(self):
        # Writing 5 resets VmHWM to the current RSS (Linux >= 4.0).
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
            f.write("5")

    def cpu_seconds(self):
        return sum(self.cpu_split())

    def cpu_split(self):
        """(user, system) CPU seconds the server has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / TICKS, int(fields[12]) / TICKS

    def drop_objects(self):
        # No API deletes an upload yet; keep the disk from filling with copies.
        shutil.rmtree(self.objects, ignore_errors=True)
        os.makedirs(self.objects, exist_ok=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.db:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", self.db], check=False)


class Client:
    """One HTTP keep-alive connection and one graphql-transport-ws socket."""

    def __init__(self, server):
        import http.client
        self.server = server
        self.http = http.client.HTTPConnection("127.0.0.1", server.port)
        self.ws = ws_connect(f"ws://127.0.0.1:{server.port}/graphql/ws",
                             subprotocols=["graphql-transport-ws"], max_size=None)
        self.ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(self.ws.recv())["type"] == "connection_ack"
        self.next_id = 0

    def gql(self, query, variables):
        body = json.dumps({"query": query, "variables": variables})
        self.http.request("POST", "/graphql", body, {"content-type": "application/json"})
        response = json.loads(self.http.getresponse().read())
        if response.get("errors"):
            raise SystemExit(f"GraphQL error: {response['errors']}")
        return response["data"]

    def request_upload(self, filename, content_type, size):
        ticket = self.gql(REQUEST_UPLOAD, {"input": {
            "filename": filename, "contentType": content_type, "size": size}})["requestUpload"]
        return ticket["upload"]["id"], ticket["url"], {h["name"]: h["value"] for h in ticket["headers"]}

    def put_small(self, url, headers, body):
        path = url.split(str(self.server.port), 1)[1]
        headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        self.http.request("PUT", path, body, headers)
        response = self.http.getresponse()
        response.read()
        assert response.status == 200, response.status

    def follow(self, job_id):
        """Subscribes and waits for the terminal message; returns it."""
        self.next_id += 1
        sub = str(self.next_id)
        self.ws.send(json.dumps({"id": sub, "type": "subscribe",
                                 "payload": {"query": UPDATES, "variables": {"id": job_id}}}))
        last = None
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") != sub:
                continue
            if message["type"] == "next":
                last = message["payload"]["data"]["jobUpdates"]
            elif message["type"] == "complete":
                return last
            else:
                raise SystemExit(f"subscription failed: {message}")

    def close(self):
        self.ws.close()
        self.http.close()


def put_file(url, headers, path):
    """PUTs the file with curl; returns seconds."""
    argv = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-T", path]
    for name, value in headers.items():
        if name.lower() not in ("host", "content-length"):
            argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(argv + [url], check=True, capture_output=True, text=True).stdout.split()
    assert out[0] == "200", f"PUT answered {out[0]}"
    return float(out[1])


def jsonl_of(csv_path):
    """The JSON Lines version of a benchmark CSV (same rows; numbers as numbers)."""
    import csv
    path = csv_path[:-4] + ".jsonl"
    if os.path.exists(path):
        return path

    def value(text):
        if text == "":
            return None
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    with open(csv_path, newline="") as src, open(path + ".tmp", "w") as out:
        rows = csv.reader(src)
        header = next(rows)
        for row in rows:
            out.write(json.dumps(dict(zip(header, map(value, row)))) + "\n")
    os.replace(path + ".tmp", path)
    return path


DUCKDB = """
import sys, duckdb
reader = "read_json(?, format='newline_delimited')" if sys.argv[1].endswith(".jsonl") else "read_csv(?)"
print(len(duckdb.connect().execute(f"SUMMARIZE SELECT * FROM {reader}", [sys.argv[1]]).fetchall()))
"""


def timed_duckdb(path):
    """DuckDB's SUMMARIZE in a fresh Python, as benches/profile_vs_duckdb.py runs it."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", DUCKDB, path], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_cli(path):
    start = time.perf_counter()
    subprocess.run([LOUPE, "profile", path, "--compact"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def big_file(server, path, content_type, runs, duckdb):
    size = os.path.getsize(path)
    with open(path, "rb") as f:  # page cache, for both paths alike
        while f.read(1 << 24):
            pass
    client = Client(server)
    served, cli, puts, peaks, duck = [], [], [], [], []
    idle = server.rss_kib()
    for run in range(runs + 1):  # run 0 warms up and is not counted
        if run % 2:
            cli_time = timed_cli(path)
        upload, url, headers = client.request_upload(os.path.basename(path), content_type, size)
        put = put_file(url, headers, path)
        server.reset_peak()
        start = time.perf_counter()
        job = client.gql(CONFIRM, {"id": upload})["confirmUpload"]["id"]
        last = client.follow(job)
        elapsed = time.perf_counter() - start
        peak = server.rss_kib("VmHWM")
        if last["status"] != "SUCCEEDED":
            raise SystemExit(f"job ended {last}")
        if run % 2 == 0:
            cli_time = timed_cli(path)
        server.drop_objects()
        if run == 0:
            continue
        if duckdb:
            duck.append(timed_duckdb(path))
        served.append(elapsed)
        cli.append(cli_time)
        puts.append(put)
        peaks.append(peak)
        print(f"  run {run}: PUT {put:.3f} s, served {elapsed:.3f} s, CLI {cli_time:.3f} s, "
              f"peak RSS {peak / 1024:.1f} MiB", file=sys.stderr)
    client.close()
    med = statistics.median
    mb = size / 1e6
    s, c, p = med(served), med(cli), med(puts)
    print(f"{os.path.basename(path)} ({mb:.0f} MB), median of {runs}:")
    print(f"  loupe profile (CLI)                    {c:7.3f} s  {mb / c:7.0f} MB/s")
    print(f"  confirmUpload -> terminal jobUpdates   {s:7.3f} s  {mb / s:7.0f} MB/s  "
          f"ratio served/CLI {s / c:.2f}x (target <= 1.2x)")
    if duck:
        d = med(duck)
        print(f"  DuckDB SUMMARIZE (python + import)     {d:7.3f} s  {mb / d:7.0f} MB/s  "
              f"served is {d / s:.2f}x DuckDB's speed")
    print(f"  presigned PUT (curl)                   {p:7.3f} s  {mb / p:7.0f} MB/s")
    print(f"  PUT start -> terminal                  {p + s:7.3f} s  "
          f"ratio /CLI {(p + s) / c:.2f}x (target <= 2x)")
    print(f"  server RSS idle {idle / 1024:.1f} MiB, peak during job {med(peaks) / 1024:.1f} MiB "
          f"(+{(med(peaks) - idle) / 1024:.1f} MiB)")


def one_kilobyte_csv():
    cities = ["Lisbon", "Oslo", "Nairobi", "Lima", "Osaka"]
    lines, i = ["id,city,temperature,observed_at"], 0
    while sum(len(x) + 1 for x in lines) < 1000:
        lines.append(f"{i},{cities[i % 5]},{i * 37 % 400 / 10:.1f},2026-11-{i % 28 + 1:02}T12:00:00Z")
        i += 1
    return ("\n".join(lines) + "\n").encode()


def small_files(server, clients, journeys):
    body = one_kilobyte_csv()
    latencies, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def walk():
        try:
            client = Client(server)
            mine = []
            barrier.wait()
            for _ in range(journeys):
                upload, url, headers = client.request_upload("small.csv", "text/csv", len(body))
                client.put_small(url, headers, body)
                start = time.perf_counter()
                job = client.gql(CONFIRM, {"id": upload})["confirmUpload"]["id"]
                last = client.follow(job)
                mine.append(time.perf_counter() - start)
                assert last["status"] == "SUCCEEDED", last
            client.close()
            with lock:
                latencies.extend(mine)
        except BaseException as err:  # noqa: BLE001 (reported below)
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=walk) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    (user0, sys0), own0, start = server.cpu_split(), time.process_time(), time.perf_counter()
    for t in threads:
        t.join()
    wall, (user1, sys1) = time.perf_counter() - start, server.cpu_split()
    user, system = user1 - user0, sys1 - sys0
    cpu = user + system
    own = time.process_time() - own0
    if errors:
        raise SystemExit(f"a client failed: {errors[0]!r}")
    n = len(latencies)
    latencies.sort()
    ms = lambda q: latencies[min(n - 1, int(q * n))] * 1000  # noqa: E731
    print(f"small files: {clients} clients x {journeys} journeys of a {len(body)} B CSV")
    print(f"  {n / wall:7.1f} journeys/s (target >= 400 SQLite, >= 250 PostgreSQL)")
    print(f"  confirm -> terminal p50 {ms(0.5):.1f} ms, p99 {ms(0.99):.1f} ms (target p99 <= 50 ms)")
    print(f"  server CPU {cpu * 1000 / n:.2f} ms per journey (target <= 1.5 ms: user {user * 1000 / n:.2f}, "
          f"system {system * 1000 / n:.2f}); this client's own CPU {own * 1000 / n:.2f} ms per journey")


async def idle_subscriptions(postgres, n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 1024)), hard))
    # Room for the setup's own sockets, which may still be closing.
    server = Server(postgres, worker_concurrency=0, max_websockets=n + 100)
    try:
        client = Client(server)
        body = one_kilobyte_csv()
        upload, url, headers = client.request_upload("pending.csv", "text/csv", len(body))
        client.put_small(url, headers, body)
        job = client.gql(CONFIRM, {"id": upload})["confirmUpload"]["id"]
        client.close()

        async def subscribe():
            ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/graphql/ws",
                                          subprotocols=["graphql-transport-ws"])
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await ws.recv()
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": UPDATES, "variables": {"id": job}}}))
            first = json.loads(await ws.recv())
            assert first["type"] == "next", first
            return ws

        sockets = [await subscribe()]
        await asyncio.sleep(0.5)
        before = server.rss_kib()
        for start in range(1, n, 200):
            sockets += await asyncio.gather(*(subscribe() for _ in range(start, min(n, start + 200))))
        await asyncio.sleep(1.0)
        after = server.rss_kib()
        print(f"idle subscriptions: {n} open, server RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB, "
              f"{(after - before) / (n - 1):.1f} KiB per subscription (target <= 16 KiB)")
        cpu0 = server.cpu_seconds()
        await asyncio.sleep(5)
        print(f"  idle, the server uses {(server.cpu_seconds() - cpu0) / 5 * 100:.1f}% of a core")
        # Events of other jobs: cancelling a pending job publishes one.
        client = Client(server)
        others = []
        for _ in range(200):
            upload, url, headers = client.request_upload("other.csv", "text/csv", len(body))
            client.put_small(url, headers, body)
            others.append(client.gql(CONFIRM, {"id": upload})["confirmUpload"]["id"])
        cpu0, start = server.cpu_seconds(), time.perf_counter()
        for other in others:
            client.gql(CANCEL, {"id": other})
        await asyncio.sleep(0.5)  # wake-ups the events caused, if any, land here
        cpu = server.cpu_seconds() - cpu0
        client.close()
        print(f"  an event of another job (cancelJob) costs the server {cpu * 1000 / len(others):.2f} ms of CPU "
              f"with these subscriptions open")
        await asyncio.gather(*(ws.close() for ws in sockets))
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", action="store_true", help="PostgreSQL (fresh database) instead of SQLite")
    ap.add_argument("--external-s3", action="store_true",
                    help="big files through an external S3 service on loopback (another loupe's embedded store)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-duckdb", action="store_true", help="skip DuckDB's SUMMARIZE on the big files")
    ap.add_argument("--big", action="store_true", help="also the 1 GB CSV")
    ap.add_argument("--files", default="csv,jsonl", help="big files to run: csv,jsonl,1gb")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--journeys", type=int, default=25, help="per client")
    ap.add_argument("--subscriptions", type=int, default=1000)
    ap.add_argument("--only", choices=["big", "small", "subs"], action="append")
    args = ap.parse_args()
    parts = set(args.only or ["big", "small", "subs"])
    if not os.path.exists(LOUPE):
        raise SystemExit(f"build it first: cargo build --release ({LOUPE})")

    print(f"loupe: {LOUPE}, {'PostgreSQL' if args.postgres else 'SQLite'} + "
          f"{'external S3 on loopback' if args.external_s3 else 'embedded store'}, "
          f"{os.cpu_count()} cores")
    if "big" in parts:
        chosen = args.files.split(",") + (["1gb"] if args.big else [])
        files = []
        if "csv" in chosen:
            files.append((gen_data.cached(100), "text/csv"))
        if "jsonl" in chosen:
            files.append((jsonl_of(gen_data.cached(100)), "application/x-ndjson"))
        if "1gb" in chosen:
            files.append((gen_data.cached(1000), "text/csv"))
        for path, content_type in files:
            store = Server(False, worker_concurrency=0) if args.external_s3 else None
            try:
                server = Server(args.postgres, store=store)
                try:
                    big_file(server, path, content_type, args.runs, not args.no_duckdb)
                finally:
                    server.stop()
            finally:
                if store:
                    store.stop()
    if "small" in parts:
        server = Server(args.postgres)
        try:
            small_files(server, args.clients, args.journeys)
        finally:
            server.stop()
    if "subs" in parts:
        asyncio.run(idle_subscriptions(args.postgres, args.subscriptions))


if __name__ == "__main__":
    main()
