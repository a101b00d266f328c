import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { JobWatchHandlers } from "../api/live";
import type { JobSummaryFragment } from "../gql/graphql";
import { checkFile, type QueueDeps, type Ticket, UploadQueue } from "./queue";
import { classify, TransferError, type TransferOptions } from "./transfer";

function job(
  status: JobSummaryFragment["status"],
  progress = 0,
  error?: { code: string; message: string },
): JobSummaryFragment {
  return {
    id: "job-1",
    status,
    progress,
    attempts: 1,
    createdAt: "2026-11-25T00:00:00Z",
    startedAt: null,
    finishedAt: null,
    error: error ?? null,
    upload: { id: "up-1", filename: "a.csv", size: 10, contentType: "text/csv" },
  };
}

/** Dependencies whose every step the test releases by hand. */
function harness() {
  let clock = 0;
  const transfers: { options: TransferOptions; resolve(): void; reject(e: unknown): void; ticket: Ticket }[] = [];
  const watchers: { jobId: string; handlers: JobWatchHandlers; stopped: boolean }[] = [];
  const requested: string[] = [];
  const confirmed: string[] = [];
  const cancelled: string[] = [];
  let confirmFailure: ApiError | null = null;
  let tickets = 0;
  const deps: QueueDeps = {
    now: () => clock,
    requestUpload: async (file) => {
      requested.push(file.name);
      tickets += 1;
      return {
        uploadId: `up-${tickets}`,
        url: `http://store/${tickets}`,
        method: "PUT",
        headers: [],
        expiresAt: new Date(clock + 900_000).toISOString(),
      };
    },
    putFile: (ticket, _file, options) =>
      new Promise<void>((resolve, reject) => {
        transfers.push({ options, resolve, reject, ticket: ticket as Ticket });
        options.signal?.addEventListener("abort", () => reject(new TransferError("aborted", "cancelled")));
      }),
    confirmUpload: async (uploadId) => {
      if (confirmFailure) throw confirmFailure;
      confirmed.push(uploadId);
      return job("PENDING");
    },
    cancelJob: async (jobId) => {
      cancelled.push(jobId);
      return job("CANCELLED");
    },
    watchJob: (jobId, handlers) => {
      const watcher = { jobId, handlers, stopped: false };
      watchers.push(watcher);
      return () => (watcher.stopped = true);
    },
  };
  return {
    deps,
    transfers,
    watchers,
    requested,
    confirmed,
    cancelled,
    tick: (ms: number) => (clock += ms),
    failConfirm: (error: ApiError | null) => (confirmFailure = error),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const file = (name: string, size: number, type = "text/csv") => new File([new Uint8Array(size)], name, { type });

describe("checks before an upload starts", () => {
  it("refuses files over the server's limit and names the limit", () => {
    const error = checkFile(file("big.csv", 2048), { maxUploadBytes: 1024 });
    expect(error?.code).toBe("PAYLOAD_TOO_LARGE");
    expect(error?.message).toBe("The file is 2 KiB; this server accepts files up to 1 KiB.");
  });

  it("refuses empty files and folders", () => {
    expect(checkFile(file("empty.csv", 0), null)?.code).toBe("EMPTY_FILE");
    expect(checkFile(file("photos", 0, ""), null)?.code).toBe("NOT_A_FILE");
    expect(checkFile(file("ok.csv", 10), { maxUploadBytes: 10 })).toBeNull();
  });
});

describe("the upload queue", () => {
  it("walks a file through upload, confirm and job with progress, speed and time left", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 1000)]);
    await settle();
    expect(item.phase).toBe("uploading");
    const transfer = h.transfers[0];

    h.tick(500);
    transfer.options.onProgress(250, 1000);
    expect(item.sent).toBe(250);
    expect(item.bytesPerSecond).toBe(500);
    expect(item.secondsLeft).toBe(1.5);
    h.tick(500);
    transfer.options.onProgress(500, 1000);
    expect(item.bytesPerSecond).toBe(500);
    transfer.resolve();
    await settle();
    expect(h.confirmed).toEqual(["up-1"]);
    expect(item.phase).toBe("queued");
    expect(item.jobId).toBe("job-1");

    const watcher = h.watchers[0];
    watcher.handlers.next(job("RUNNING", 0.4));
    expect(item.phase).toBe("processing");
    expect(item.jobProgress).toBe(0.4);
    watcher.handlers.next(job("SUCCEEDED", 1));
    expect(item.phase).toBe("done");
    expect(watcher.stopped).toBe(true);
  });

  it("keeps a refused file out of the network", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    queue.setLimits({ maxUploadBytes: 100 });
    const [item] = queue.add([file("big.csv", 101)]);
    await settle();
    expect(item.phase).toBe("refused");
    expect(h.requested).toEqual([]);
  });

  it("runs at most three transfers at once and starts the next when one ends", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const items = queue.add([1, 2, 3, 4].map((n) => file(`${n}.csv`, 10)));
    await settle();
    expect(h.transfers).toHaveLength(3);
    expect(items.filter((i) => i.phase === "waiting")).toHaveLength(1);
    h.transfers[0].resolve();
    await settle();
    await settle();
    expect(h.transfers).toHaveLength(4);
  });

  it("cancels a transfer in flight", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 10)]);
    await settle();
    queue.cancel(item.key);
    await settle();
    expect(item.phase).toBe("cancelled");
    expect(h.confirmed).toEqual([]);
  });

  it("cancels a running job through the API", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 10)]);
    await settle();
    h.transfers[0].resolve();
    await settle();
    h.watchers[0].handlers.next(job("RUNNING", 0.2));
    queue.cancel(item.key);
    await settle();
    expect(h.cancelled).toEqual(["job-1"]);
    expect(item.phase).toBe("cancelled");
  });

  it("retries an expired URL with a new ticket", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 10)]);
    await settle();
    h.transfers[0].reject(
      classify(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"),
    );
    await settle();
    expect(item.phase).toBe("failed");
    expect(item.error).toMatchObject({ code: "URL_EXPIRED", retryable: true });
    queue.retry(item.key);
    await settle();
    expect(h.requested).toEqual(["a.csv", "a.csv"]);
    expect(h.transfers[1].ticket.uploadId).toBe("up-2");
  });

  it("reuses a valid ticket when a transfer failed on the network, and retries when online", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 10)]);
    await settle();
    h.transfers[0].reject(new TransferError("network", "lost"));
    await settle();
    expect(item.error?.code).toBe("NETWORK");
    queue.retryNetworkFailures();
    await settle();
    expect(h.requested).toEqual(["a.csv"]);
    expect(h.transfers).toHaveLength(2);
    h.transfers[1].resolve();
    await settle();
    expect(item.phase).toBe("queued");
  });

  it("confirms when a retried transfer finds its bytes already stored", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 10)]);
    await settle();
    // The first PUT got through but its answer was lost on the way back.
    h.transfers[0].reject(new TransferError("network", "lost"));
    await settle();
    queue.retry(item.key);
    await settle();
    h.transfers[1].reject(classify(412, "<Error><Code>PreconditionFailed</Code></Error>"));
    await settle();
    expect(h.confirmed).toEqual(["up-1"]);
    expect(item.phase).toBe("queued");
  });

  it("only confirms again when the bytes are already stored", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 10)]);
    await settle();
    h.failConfirm(new ApiError("NETWORK", "Cannot reach the server."));
    h.transfers[0].resolve();
    await settle();
    expect(item.phase).toBe("failed");
    h.failConfirm(null);
    queue.retry(item.key);
    await settle();
    expect(h.transfers).toHaveLength(1);
    expect(h.confirmed).toEqual(["up-1"]);
    expect(item.phase).toBe("queued");
  });

  it("shows a failed job's reason and lets the user upload again", async () => {
    const h = harness();
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("bad.csv", 10)]);
    await settle();
    h.transfers[0].resolve();
    await settle();
    h.watchers[0].handlers.next(job("FAILED", 0.5, { code: "UNREADABLE_FILE", message: "line 3: unclosed quote" }));
    expect(item.phase).toBe("failed");
    expect(item.error).toEqual({ code: "UNREADABLE_FILE", message: "line 3: unclosed quote", retryable: true });
  });

  it("explains a server refusal without retrying it", async () => {
    const h = harness();
    h.deps.requestUpload = async () => {
      throw new ApiError("PAYLOAD_TOO_LARGE", "10 bytes is more than the 5-byte upload limit");
    };
    const queue = new UploadQueue(h.deps);
    const [item] = queue.add([file("a.csv", 10)]);
    await settle();
    expect(item.error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", retryable: false });
  });
});

describe("storage answers", () => {
  it("are classified so the UI can say what to do", () => {
    expect(classify(413, "").kind).toBe("too-large");
    expect(classify(403, "<Code>SignatureDoesNotMatch</Code><Message>bad sig</Message>").kind).toBe("refused");
    expect(classify(500, "<Code>InternalError</Code>").kind).toBe("server");
  });
});
