// The upload queue: each file walks request → transfer → confirm → job, and
// the queue keeps what a person needs to see at every step (bytes, speed,
// time left, job status and progress, a reason and a way out when it
// fails). It knows nothing of the UI or the network: its dependencies come
// in, so tests drive it step by step.
import type { ApiError } from "../api/client";
import { formatBytes } from "../format";
import type { JobWatchHandlers } from "../api/live";
import type { JobSummaryFragment } from "../gql/graphql";
import type { PresignedPut, TransferError, TransferFailure, TransferOptions } from "./transfer";

export type Phase =
  | "refused" // failed a check before anything was sent
  | "waiting" // behind other transfers
  | "requesting"
  | "uploading"
  | "confirming"
  | "queued" // job PENDING
  | "processing" // job RUNNING
  | "done"
  | "failed"
  | "cancelled";

export interface ItemError {
  code: string;
  message: string;
  /** Whether "Retry" can help. */
  retryable: boolean;
}

export interface UploadItem {
  readonly key: string;
  readonly file: File;
  phase: Phase;
  /** Bytes sent so far and in all. */
  sent: number;
  total: number;
  /** Recent transfer speed; null until measurable. */
  bytesPerSecond: number | null;
  secondsLeft: number | null;
  /** The job's progress, 0..1. */
  jobProgress: number;
  uploadId?: string;
  jobId?: string;
  error?: ItemError;
}

export interface Ticket extends PresignedPut {
  uploadId: string;
  expiresAt: string;
}

export interface QueueDeps {
  requestUpload(file: File, signal: AbortSignal): Promise<Ticket>;
  putFile(ticket: PresignedPut, file: File, options: TransferOptions): Promise<void>;
  confirmUpload(uploadId: string, signal: AbortSignal): Promise<JobSummaryFragment>;
  cancelJob(jobId: string): Promise<JobSummaryFragment>;
  watchJob(jobId: string, handlers: JobWatchHandlers): () => void;
  now(): number;
}

export interface Limits {
  maxUploadBytes: number;
}

/** Transfers at once: more only splits the same bandwidth. */
const CONCURRENT_TRANSFERS = 3;
/** Speed is measured over this window so it follows changes quickly. */
const SPEED_WINDOW_MS = 3_000;

/** Why a file cannot be uploaded, before anything is sent; null if it can. */
export function checkFile(file: File, limits: Limits | null): ItemError | null {
  if (file.size === 0) {
    // Dropped folders also arrive as empty, typeless files.
    const folder = file.type === "" && !/\.[^./]+$/.test(file.name);
    return {
      code: folder ? "NOT_A_FILE" : "EMPTY_FILE",
      message: folder ? "Folders can't be uploaded; drop the files inside it." : "The file is empty.",
      retryable: false,
    };
  }
  if (limits && file.size > limits.maxUploadBytes) {
    return {
      code: "PAYLOAD_TOO_LARGE",
      message: `The file is ${formatBytes(file.size)}; this server accepts files up to ${formatBytes(limits.maxUploadBytes)}.`,
      retryable: false,
    };
  }
  return null;
}

/** The code an item shows for each way its transfer failed. */
const TRANSFER_CODES: Record<Exclude<TransferFailure, "aborted">, string> = {
  expired: "URL_EXPIRED",
  stored: "CONFLICT",
  refused: "REFUSED",
  "too-large": "PAYLOAD_TOO_LARGE",
  network: "NETWORK",
  server: "STORAGE",
};

interface Run {
  controller: AbortController;
  samples: { at: number; sent: number }[];
  stopWatching?: () => void;
  /** The ticket stays usable for a retry of the transfer until it expires. */
  ticket?: Ticket;
  /** Set once the bytes are stored: a retry only needs to confirm again. */
  transferred: boolean;
}

export class UploadQueue {
  private readonly list: UploadItem[] = [];
  private readonly runs = new Map<string, Run>();
  private readonly listeners = new Set<() => void>();
  private limits: Limits | null = null;
  private counter = 0;

  constructor(private readonly deps: QueueDeps) {}

  items(): readonly UploadItem[] {
    return this.list;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setLimits(limits: Limits): void {
    this.limits = limits;
  }

  add(files: Iterable<File>): UploadItem[] {
    const added: UploadItem[] = [];
    for (const file of files) {
      const error = checkFile(file, this.limits);
      const item: UploadItem = {
        key: `u${++this.counter}`,
        file,
        phase: error ? "refused" : "waiting",
        sent: 0,
        total: file.size,
        bytesPerSecond: null,
        secondsLeft: null,
        jobProgress: 0,
        error: error ?? undefined,
      };
      this.list.unshift(item);
      added.push(item);
    }
    this.changed();
    this.pump();
    return added;
  }

  /** Stops an item wherever it is: aborts its transfer or cancels its job. */
  cancel(key: string): void {
    const item = this.find(key);
    if (!item) return;
    const run = this.runs.get(key);
    switch (item.phase) {
      case "waiting":
      case "requesting":
      case "uploading":
      case "confirming":
        run?.controller.abort();
        this.finish(item, "cancelled");
        break;
      case "queued":
      case "processing":
        if (item.jobId) {
          this.deps.cancelJob(item.jobId).then(
            (job) => this.applyJob(item, job),
            (error: ApiError) => this.fail(item, error.code, `Could not cancel: ${error.message}`, false, false),
          );
        }
        break;
      default:
        break;
    }
  }

  /**
   * Starts a failed or cancelled item again. A job that ran gets a new
   * upload (confirming again would return the same job); otherwise the
   * item resumes where it stopped: a valid ticket is reused, stored bytes
   * are only confirmed again.
   */
  retry(key: string): void {
    const item = this.find(key);
    if (!item || !(item.phase === "failed" || item.phase === "cancelled")) return;
    if (item.jobId) {
      this.runs.delete(key);
      item.uploadId = undefined;
      item.jobId = undefined;
    }
    if (!this.runs.get(key)?.transferred) item.sent = 0;
    item.error = undefined;
    item.jobProgress = 0;
    item.bytesPerSecond = null;
    item.secondsLeft = null;
    item.phase = "waiting";
    this.changed();
    this.pump();
  }

  /** Retries every item that failed for want of a connection. */
  retryNetworkFailures(): void {
    for (const item of this.list) {
      if (item.phase === "failed" && item.error?.code === "NETWORK") this.retry(item.key);
    }
  }

  remove(key: string): void {
    const index = this.list.findIndex((item) => item.key === key);
    if (index < 0) return;
    this.cancel(key);
    this.runs.get(key)?.stopWatching?.();
    this.runs.delete(key);
    this.list.splice(index, 1);
    this.changed();
  }

  private find(key: string): UploadItem | undefined {
    return this.list.find((item) => item.key === key);
  }

  private changed(): void {
    this.listeners.forEach((listener) => listener());
  }

  private pump(): void {
    const busy = this.list.filter((item) => ["requesting", "uploading", "confirming"].includes(item.phase)).length;
    const waiting = this.list.filter((item) => item.phase === "waiting").reverse();
    for (const item of waiting.slice(0, Math.max(0, CONCURRENT_TRANSFERS - busy))) {
      void this.start(item);
    }
  }

  private async start(item: UploadItem): Promise<void> {
    const previous = this.runs.get(item.key);
    const run: Run = {
      controller: new AbortController(),
      samples: [],
      ticket: previous?.ticket,
      transferred: previous?.transferred ?? false,
    };
    this.runs.set(item.key, run);
    const { signal } = run.controller;
    const stillMine = () => this.runs.get(item.key) === run && !signal.aborted;
    try {
      if (!run.transferred) {
        if (!run.ticket || Date.parse(run.ticket.expiresAt) - this.deps.now() < 5_000) {
          this.set(item, { phase: "requesting" });
          run.ticket = await this.deps.requestUpload(item.file, signal);
          if (!stillMine()) return;
          item.uploadId = run.ticket.uploadId;
        }
        this.set(item, { phase: "uploading", sent: 0 });
        run.samples = [{ at: this.deps.now(), sent: 0 }];
        await this.deps
          .putFile(run.ticket, item.file, {
            signal,
            onProgress: (sent, total) => this.progress(item, run, sent, total),
          })
          .catch((error: unknown) => {
            if ((error as Partial<TransferError>).kind !== "stored") throw error;
          });
        if (!stillMine()) return;
        run.transferred = true;
      }
      this.set(item, { phase: "confirming", bytesPerSecond: null, secondsLeft: null });
      const job = await this.deps.confirmUpload(item.uploadId ?? "", signal);
      if (!stillMine()) return;
      item.jobId = job.id;
      this.applyJob(item, job);
      this.watch(item, run);
    } catch (error) {
      if (!stillMine()) return;
      this.failFrom(item, run, error);
    } finally {
      this.pump();
    }
  }

  private watch(item: UploadItem, run: Run): void {
    if (!item.jobId || isTerminal(item.phase)) return;
    run.stopWatching = this.deps.watchJob(item.jobId, {
      next: (job) => this.applyJob(item, job),
      error: (error) => this.fail(item, error.code, `Lost track of the job: ${error.message}`, false, false),
      complete: () => undefined,
    });
  }

  private applyJob(item: UploadItem, job: JobSummaryFragment): void {
    if (isTerminal(item.phase) && item.phase !== "failed") return;
    switch (job.status) {
      case "PENDING":
        this.set(item, { phase: "queued", jobProgress: 0 });
        break;
      case "RUNNING":
        this.set(item, { phase: "processing", jobProgress: Math.max(item.jobProgress, job.progress) });
        break;
      case "SUCCEEDED":
        this.finish(item, "done", 1);
        break;
      case "CANCELLED":
        this.finish(item, "cancelled");
        break;
      case "FAILED":
        this.fail(item, job.error?.code ?? "INTERNAL", job.error?.message ?? "The job failed.", true, false);
        break;
    }
  }

  private progress(item: UploadItem, run: Run, sent: number, total: number): void {
    if (this.runs.get(item.key) !== run) return;
    const now = this.deps.now();
    run.samples.push({ at: now, sent });
    while (run.samples.length > 2 && now - run.samples[0].at > SPEED_WINDOW_MS) run.samples.shift();
    const first = run.samples[0];
    const elapsed = (now - first.at) / 1000;
    const speed = elapsed > 0.2 ? (sent - first.sent) / elapsed : null;
    this.set(item, {
      sent,
      total,
      bytesPerSecond: speed,
      secondsLeft: speed && speed > 0 ? (total - sent) / speed : null,
    });
  }

  private failFrom(item: UploadItem, run: Run, error: unknown): void {
    const transfer = error as Partial<TransferError>;
    if (transfer.name === "TransferError") {
      if (transfer.kind === "aborted") return;
      if (transfer.kind === "expired") run.ticket = undefined;
      const code = TRANSFER_CODES[transfer.kind ?? "server"];
      this.fail(item, code, transfer.message ?? "The upload failed.", transfer.kind !== "too-large", true);
      return;
    }
    const api = error as Partial<ApiError>;
    if (api.code === "ABORTED") return;
    const retryable = !["PAYLOAD_TOO_LARGE", "BAD_USER_INPUT"].includes(api.code ?? "");
    if (api.code === "UPLOAD_MISSING") run.transferred = false;
    this.fail(item, api.code ?? "INTERNAL", api.message ?? String(error), retryable, true);
  }

  private fail(item: UploadItem, code: string, message: string, retryable: boolean, duringUpload: boolean): void {
    if (duringUpload && item.phase === "cancelled") return;
    this.finish(item, "failed");
    item.error = { code, message, retryable };
    this.changed();
  }

  private finish(item: UploadItem, phase: "done" | "failed" | "cancelled", jobProgress = item.jobProgress): void {
    this.runs.get(item.key)?.stopWatching?.();
    this.set(item, { phase, jobProgress, bytesPerSecond: null, secondsLeft: null });
  }

  private set(item: UploadItem, patch: Partial<UploadItem>): void {
    Object.assign(item, patch);
    this.changed();
  }
}

export function isTerminal(phase: Phase): boolean {
  return phase === "done" || phase === "failed" || phase === "cancelled" || phase === "refused";
}
