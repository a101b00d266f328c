#!/usr/bin/env python3
"""Scaling across instances (a load script, not a test): N concurrent small-file
journeys plus M idle subscribers against

  (a) one release `loupe` pinned to core 0 (`taskset -c 0`), and
  (b) two, pinned to core 0 and core 1, on the same PostgreSQL database,

each configuration on a fresh database (createdb). Reports journeys/s, p50/p99
confirmUpload -> terminal jobUpdates message, errors, the delay from a job's
`finishedAt` to its subscriber receiving the terminal message, and the ratio
of journeys/s (b)/(a) next to the goal (>= 1.7x for CPU-bound work; printed,
never asserted).

The journey is served_path.py's small-file one (its Server and Client, the
1 KB CSV): requestUpload, presigned PUT, confirmUpload, jobUpdates until the
end. In (b), instance B uses A's embedded store as its external S3 service
(served_path's `store=`, `--external-s3`): B's workers must read the objects
of the jobs they claim, and with one store shared that is the only place
they can be. So client i asks for its upload and confirms it on instance
i % 2, and PUTs it to A (where B's presigned URLs point anyway). Confirms, the
API's work and the queue's wake-ups are split evenly; A also serves every PUT
and B's workers' object reads, a cost that is part of that two-machine setup
and counts against (b). Per-instance CPU is printed so the imbalance shows.

Cross-instance events: clients 2 and 3 of every 4 subscribe on the instance
they did not confirm on, the others on the one they did; the report splits
confirm -> terminal and the event delay by that. Which instance ran a job is
not recorded (the queue gives it to whichever worker claims it first), so
"cross" means "subscribed on the other instance than the confirm"; a job may
have run on either. The event delay is the client's wall clock on receipt
minus the job's `finishedAt` (the running instance's clock in the statement
that ends the job; same machine, same clock); it includes that commit and
this client's own thread wake-up under load.

The M idle subscribers are websockets each following one job that stays
PENDING (confirmed on a worker-less instance before the run, then staged in
SQL as waiting for a retry a day from now), spread evenly over the instances.

Fairness on a 2-core machine: the Python client and PostgreSQL run on the
same two cores (unpinned). In (a) they have core 1 to themselves; in (b) they
share both cores with the instances. The client's own CPU per journey and
PostgreSQL's CPU over each run (utime + stime of its processes, plus what the
postmaster reaped from backends that exited) are printed for that reason.

With the 1 KB CSV a journey is mostly queue and database work (commits); the
instances' CPU is then not what limits. --kb repeats its rows to a larger file,
so that profiling it is most of an instance's CPU per journey (the goal's
CPU-bound case). Uploading and reading such a file are work too, and all of
the uploads and B's reads land on A (its store); --gzip uploads the file
gzipped (Loupe profiles what it decompresses), which leaves profiling as
nearly all of the work, split evenly between the instances.

    python3 benches/scale.py                         # 16 clients x 25 journeys, 1000 idle
    python3 benches/scale.py --kb 5000 --journeys 10 # 5 MB CSVs: CPU-bound jobs
    python3 benches/scale.py --kb 20000 --gzip --journeys 5 # 20 MB CSVs as ~100 KB of gzip
    python3 benches/scale.py --clients 16 --journeys 50 --subscribers 2000
    python3 benches/scale.py --only b                # just the two instances

LOUPE_BIN=<path> measures another build. Needs `pip install websockets`,
taskset, and PostgreSQL on 127.0.0.1:5432 with createdb/dropdb/psql.
"""

import argparse
import asyncio
import collections
import datetime
import gzip
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import served_path  # noqa: E402
from served_path import CONFIRM, PG, TICKS, UPDATES, Client, Server  # noqa: E402

PSQL = ["-h", "127.0.0.1", "-U", "postgres"]
GOAL = 1.7


# What each journey uploads: its name, content type and bytes, and the size
# of the CSV they hold.
Payload = collections.namedtuple("Payload", "filename content_type data csv_bytes")


def payload_of(kb, gzipped):
    csv = csv_of(kb)
    if gzipped:
        return Payload("small.csv.gz", "application/gzip", gzip.compress(csv, 6), len(csv))
    return Payload("small.csv", "text/csv", csv, len(csv))


def csv_of(kb):
    """served_path's 1 KB CSV, its rows repeated to about `kb` KB."""
    header, rows = served_path.one_kilobyte_csv().split(b"\n", 1)
    return header + b"\n" + rows * max(1, kb * 1000 // len(rows))


def postgres_cpu_seconds():
    """CPU of every `postgres` process; the postmaster's cutime/cstime hold exited backends'."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name, fields = stat.split("(", 1)[1].rsplit(")", 1)
        if name == "postgres":
            total += sum(int(x) for x in fields.split()[11:15])
    return total / TICKS


def pending_job(database, body):
    """A job on `database` that stays PENDING for the whole run."""
    setup = Server(False, worker_concurrency=0, database=database)
    try:
        client = Client(setup)
        upload, url, headers = client.request_upload("pending.csv", "text/csv", len(body.data))
        client.put_small(url, headers, body.data)
        job = client.gql(CONFIRM, {"id": upload})["confirmUpload"]["id"]
        client.close()
    finally:
        setup.stop()
    # A PENDING job keeps its retry time in lease_expires_at: nobody claims it until then.
    subprocess.run(["psql", *PSQL, "-d", database, "-qc",
                    f"UPDATE jobs SET lease_expires_at = now() + interval '1 day' WHERE id = '{job}'"],
                   check=True)
    return job


class IdleSubscribers:
    """`n` websockets spread over `servers`, each subscribed to `job`, held open by
    an asyncio loop on a thread of its own until close()."""

    def __init__(self, servers, job, n):
        self.servers, self.job, self.n = servers, job, n
        self.opened = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=asyncio.run, args=(self._hold(),))
        self.thread.start()
        self.opened.wait()
        if self.error:
            raise SystemExit(f"idle subscribers: {self.error!r}")

    async def _subscribe(self, server):
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/graphql/ws",
                                      subprotocols=["graphql-transport-ws"])
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": UPDATES, "variables": {"id": self.job}}}))
        first = json.loads(await ws.recv())
        assert first["type"] == "next" and first["payload"]["data"]["jobUpdates"]["status"] == "PENDING", first
        return ws

    async def _hold(self):
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        self.sockets = []
        try:
            for start in range(0, self.n, 200):
                self.sockets += await asyncio.gather(*(
                    self._subscribe(self.servers[i % len(self.servers)])
                    for i in range(start, min(self.n, start + 200))))
        except Exception as err:  # noqa: BLE001 (raised on the caller's thread)
            self.error = err
        self.opened.set()
        await self.stop.wait()
        await asyncio.gather(*(ws.close() for ws in self.sockets))

    def still_open(self):
        return sum(ws.state is websockets.State.OPEN for ws in self.sockets)

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join()


def finished_at(client, jobs):
    """Each job's finishedAt as a Unix time, 50 aliases to a request."""
    out = {}
    for start in range(0, len(jobs), 50):
        chunk = jobs[start:start + 50]
        query = "{ " + " ".join(f'j{i}: job(id: "{job}") {{ finishedAt }}' for i, job in enumerate(chunk)) + " }"
        data = client.gql(query, {})
        for i, job in enumerate(chunk):
            out[job] = datetime.datetime.fromisoformat(data[f"j{i}"]["finishedAt"]).timestamp()
    return out


def run(label, servers, clients, journeys, subscribers, body):
    """N clients walking journeys against `servers` (which share one database)."""
    idle = IdleSubscribers(servers, servers[0].idle_job, subscribers)
    records, errors = [], []  # (job, cross, seconds confirm -> terminal, wall clock on receipt)
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    store = servers[0]

    def walk(i):
        home = servers[i % len(servers)]
        follow_on = servers[(i % 2 + 1) % 2] if len(servers) == 2 and i % 4 >= 2 else home
        mine = []
        try:
            on = {server: Client(server) for server in {home, follow_on, store}}
            barrier.wait()
            for _ in range(journeys):
                upload, url, headers = on[home].request_upload(body.filename, body.content_type, len(body.data))
                on[store].put_small(url, headers, body.data)
                start = time.perf_counter()
                job = on[home].gql(CONFIRM, {"id": upload})["confirmUpload"]["id"]
                last = on[follow_on].follow(job)
                received = time.time()
                if last["status"] != "SUCCEEDED":
                    raise RuntimeError(f"job {job} ended {last}")
                mine.append((job, follow_on is not home, time.perf_counter() - start, received))
            for conn in on.values():
                conn.close()
        except BaseException as err:  # noqa: BLE001 (counted and reported below)
            errors.append(err)
            barrier.abort()
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=walk, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    cpu0 = [s.cpu_seconds() for s in servers]
    pg0, own0, start = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu = [s.cpu_seconds() - c for s, c in zip(servers, cpu0)]
    pg, own = postgres_cpu_seconds() - pg0, time.process_time() - own0
    still_open = idle.still_open()
    idle.close()

    n = len(records)
    packed = f" ({len(body.data) / 1000:.0f} KB gzipped)" if body.filename.endswith(".gz") else ""
    print(f"{label}: {clients} clients x {journeys} journeys of a {body.csv_bytes / 1000:.0f} KB CSV{packed}, "
          f"{subscribers} idle subscribers ({still_open} still open at the end)")
    print(f"  {n} journeys in {wall:.2f} s: {n / wall:.1f} journeys/s; errors {len(errors)}"
          + (f" (first: {errors[0]!r})" if errors else ""))
    if not n:
        return 0.0
    checker = Client(servers[0])
    ended = finished_at(checker, [r[0] for r in records])
    checker.close()

    def quantiles(values):
        values = sorted(values)
        q = lambda p: values[min(len(values) - 1, int(p * len(values)))] * 1000  # noqa: E731
        return f"p50 {q(0.5):6.1f} ms, p99 {q(0.99):6.1f} ms (n={len(values)})"

    groups = [("all", records)]
    if len(servers) == 2:
        groups = [("subscribed where confirmed", [r for r in records if not r[1]]),
                  ("subscribed on the other instance", [r for r in records if r[1]])]
    for name, group in groups:
        if group:
            print(f"  {name}:")
            print(f"    confirm -> terminal        {quantiles([r[2] for r in group])}")
            print(f"    finishedAt -> received     {quantiles([r[3] - ended[r[0]] for r in group])}")
    for s, c in zip(servers, cpu):
        print(f"  instance on core {s.core}: {c / wall * 100:5.1f}% of its core, {c * 1000 / n:.2f} ms CPU per journey")
    print(f"  PostgreSQL: {pg / wall * 100:5.1f}% of a core, {pg * 1000 / n:.2f} ms per journey; "
          f"this client: {own / wall * 100:5.1f}% of a core, {own * 1000 / n:.2f} ms per journey "
          f"(machine: {os.cpu_count()} cores, {(sum(cpu) + pg + own) / wall * 100:.0f}% used by these)")
    return n / wall


def configuration(label, cores, args, body):
    database = f"loupe_scale_{uuid.uuid4().hex[:12]}"
    subprocess.run(["createdb", *PSQL, database], check=True)
    servers = []
    try:
        job = pending_job(database, body)
        for core in cores:
            server = Server(False, store=servers[0] if servers else None, cpu=core, database=database,
                            max_websockets=args.subscribers + args.clients * 3 + 100)
            server.core, server.idle_job = core, job
            servers.append(server)
        return run(label, servers, args.clients, args.journeys, args.subscribers, body)
    finally:
        for server in reversed(servers):
            server.stop()
        subprocess.run(["dropdb", *PSQL, "--force", database], check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients (threads)")
    ap.add_argument("--journeys", type=int, default=25, help="per client")
    ap.add_argument("--kb", type=int, default=1,
                    help="CSV size; larger files make the jobs, not the queue, the work (e.g. 5000)")
    ap.add_argument("--gzip", action="store_true", help="upload the CSV gzipped")
    ap.add_argument("--subscribers", type=int, default=1000, help="idle subscribers")
    ap.add_argument("--only", choices=["a", "b"], help="run one configuration")
    args = ap.parse_args()
    if not os.path.exists(served_path.LOUPE):
        raise SystemExit(f"build it first: cargo build --release ({served_path.LOUPE})")
    if os.cpu_count() < 2:
        raise SystemExit("two cores are needed")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.subscribers + 1024)), hard))

    body = payload_of(args.kb, args.gzip)
    print(f"loupe: {served_path.LOUPE}, PostgreSQL, {os.cpu_count()} cores")
    rate = {}
    if args.only in (None, "a"):
        rate["a"] = configuration("(a) one instance, core 0", [0], args, body)
    if args.only in (None, "b"):
        rate["b"] = configuration("(b) two instances, cores 0 and 1, one database, B on A's store", [0, 1], args, body)
    if len(rate) == 2 and rate["a"]:
        print(f"journeys/s (b)/(a): {rate['b'] / rate['a']:.2f}x (goal >= {GOAL}x for CPU-bound work)")


if __name__ == "__main__":
    main()
