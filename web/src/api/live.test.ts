import { afterEach, describe, expect, it } from "vitest";
import type { JobSummaryFragment } from "../gql/graphql";
import type { ApiError } from "./client";
import { createLive, type Live } from "./live";

/**
 * A server end of graphql-transport-ws, in memory: it acknowledges, records
 * subscriptions and lets the test push messages or drop the connection.
 */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static sockets: FakeSocket[] = [];
  static refuse = false;
  readonly protocol = "graphql-transport-ws";
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly subscriptions = new Map<string, string>();

  constructor(readonly url: string) {
    FakeSocket.sockets.push(this);
    setTimeout(() => {
      if (FakeSocket.refuse) {
        this.drop();
        return;
      }
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(raw: string) {
    const message = JSON.parse(raw) as { type: string; id?: string; payload?: { variables?: { jobId: string } } };
    if (message.type === "connection_init") this.push({ type: "connection_ack" });
    if (message.type === "subscribe" && message.id) {
      this.subscriptions.set(message.id, message.payload?.variables?.jobId ?? "");
    }
    if (message.type === "complete" && message.id) this.subscriptions.delete(message.id);
  }

  push(message: object) {
    setTimeout(() => this.onmessage?.({ data: JSON.stringify(message) }));
  }

  /** Sends `jobUpdates` to every subscription of `jobId`. */
  update(jobId: string, job: Partial<JobSummaryFragment>) {
    for (const [id, watched] of this.subscriptions) {
      if (watched === jobId) this.push({ type: "next", id, payload: { data: { jobUpdates: { id: jobId, ...job } } } });
    }
  }

  fail(jobId: string, code: string) {
    for (const [id, watched] of this.subscriptions) {
      if (watched === jobId)
        this.push({ type: "error", id, payload: [{ message: "no such job", extensions: { code } }] });
    }
  }

  /** The connection dies without a close frame, as when a server restarts. */
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: "", wasClean: false });
  }

  close(code = 1000, reason = "") {
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason, wasClean: true }));
  }
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const latestSocket = () => FakeSocket.sockets[FakeSocket.sockets.length - 1];

function record(live: Live, jobId: string) {
  const seen: { statuses: string[]; progress: number[]; completed: boolean; error?: ApiError } = {
    statuses: [],
    progress: [],
    completed: false,
  };
  const stop = live.watchJob(jobId, {
    next: (job) => {
      seen.statuses.push(job.status);
      seen.progress.push(job.progress);
    },
    error: (error) => (seen.error = error),
    complete: () => (seen.completed = true),
  });
  return { seen, stop };
}

describe("live job updates", () => {
  let live: Live | undefined;
  afterEach(() => {
    live?.dispose();
    FakeSocket.sockets = [];
    FakeSocket.refuse = false;
  });

  const start = () => {
    live = createLive({ url: "ws://test/graphql/ws", webSocketImpl: FakeSocket, retryDelay: () => 5 });
    return live;
  };

  it("passes updates through and completes on a terminal state", async () => {
    const { seen } = record(start(), "job-1");
    await until(() => latestSocket()?.subscriptions.size === 1, "the subscription");
    latestSocket().update("job-1", { status: "RUNNING", progress: 0.5 });
    latestSocket().update("job-1", { status: "SUCCEEDED", progress: 1 });
    await until(() => seen.completed, "completion");
    expect(seen.statuses).toEqual(["RUNNING", "SUCCEEDED"]);
    expect(seen.progress).toEqual([0.5, 1]);
    await until(() => latestSocket().subscriptions.size === 0, "the client to unsubscribe");
  });

  it("subscribes every open watch again after the connection drops, and sees the end", async () => {
    const client = start();
    const states: string[] = [];
    client.onConnectionChange((state) => states.push(state));
    const a = record(client, "job-a");
    const b = record(client, "job-b");
    await until(() => latestSocket()?.subscriptions.size === 2, "both subscriptions");
    latestSocket().update("job-a", { status: "RUNNING", progress: 0.2 });
    await until(() => a.seen.statuses.length === 1, "the first update");

    const first = latestSocket();
    first.drop();
    await until(() => latestSocket() !== first && latestSocket().subscriptions.size === 2, "re-subscription");
    expect([...latestSocket().subscriptions.values()].sort()).toEqual(["job-a", "job-b"]);
    expect(states).toContain("reconnecting");
    expect(states[states.length - 1]).toBe("connected");

    // The server's first message on a new subscription is the current
    // state: the job finished while the socket was down.
    latestSocket().update("job-a", { status: "SUCCEEDED", progress: 1 });
    latestSocket().update("job-b", { status: "FAILED", progress: 0.4 });
    await until(() => a.seen.completed && b.seen.completed, "both ends");
    expect(a.seen.statuses).toEqual(["RUNNING", "SUCCEEDED"]);
    expect(b.seen.statuses).toEqual(["FAILED"]);
  });

  it("keeps retrying while the server is down", async () => {
    const client = start();
    const { seen } = record(client, "job-1");
    await until(() => latestSocket()?.subscriptions.size === 1, "the subscription");
    FakeSocket.refuse = true;
    latestSocket().drop();
    await until(() => FakeSocket.sockets.length >= 5, "several reconnect attempts");
    FakeSocket.refuse = false;
    await until(() => latestSocket().readyState === 1 && latestSocket().subscriptions.size === 1, "recovery");
    latestSocket().update("job-1", { status: "CANCELLED", progress: 0.1 });
    await until(() => seen.completed, "completion");
    expect(seen.statuses).toEqual(["CANCELLED"]);
    expect(seen.error).toBeUndefined();
  });

  it("reports a refused watch with the server's code and stops", async () => {
    const { seen } = record(start(), "missing");
    await until(() => latestSocket()?.subscriptions.size === 1, "the subscription");
    latestSocket().fail("missing", "NOT_FOUND");
    await until(() => seen.error !== undefined, "the error");
    expect(seen.error?.code).toBe("NOT_FOUND");
    expect(seen.completed).toBe(false);
  });

  it("stops delivering after the caller unsubscribes", async () => {
    const { seen, stop } = record(start(), "job-1");
    await until(() => latestSocket()?.subscriptions.size === 1, "the subscription");
    stop();
    await until(() => latestSocket().subscriptions.size === 0, "the unsubscribe");
    latestSocket().update("job-1", { status: "RUNNING", progress: 0.3 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.statuses).toEqual([]);
  });
});
