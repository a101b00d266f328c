// Live job updates over one graphql-ws websocket. The client reconnects
// forever with backoff (and at once when the browser comes back online);
// graphql-ws then subscribes every open watch again, and the server's first
// message on a subscription is the job's current state, so a watcher never
// misses the end of a job that finished while the socket was down.
import { type Client, type ClientOptions, createClient } from "graphql-ws";
import { type JobSummaryFragment, JobUpdatesDocument } from "../gql/graphql";
import { announceSignedOut } from "../auth/session";
import { ApiError } from "./client";
import { websocketUrl } from "./urls";

export type ConnectionState = "idle" | "connecting" | "connected" | "reconnecting";

export interface JobWatchHandlers {
  /** The job's state: first its current one, then every change. */
  next(job: JobSummaryFragment): void;
  /** The server refused the watch (e.g. NOT_FOUND); nothing more follows. */
  error(error: ApiError): void;
  /** The job reached a terminal state (after its last `next`). */
  complete(): void;
}

export interface Live {
  watchJob(jobId: string, handlers: JobWatchHandlers): () => void;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  dispose(): void;
}

export const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/** The close code of a connection whose session or token does not hold. */
const UNAUTHORIZED = 4401;

/** How long a ping may go unanswered before the socket counts as dead. */
const PONG_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_MS = 12_000;
const MAX_RETRY_WAIT_MS = 10_000;

export interface LiveOptions {
  url?: string;
  webSocketImpl?: ClientOptions["webSocketImpl"];
  /** Milliseconds before reconnect attempt `retries` (0-based). */
  retryDelay?: (retries: number) => number;
}

export function defaultRetryDelay(retries: number): number {
  const base = Math.min(MAX_RETRY_WAIT_MS, 500 * 2 ** retries);
  return base / 2 + Math.random() * (base / 2);
}

/** Resolves after `ms`, or as soon as the browser reports it is online again. */
function waitOrOnline(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      globalThis.removeEventListener?.("online", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    globalThis.addEventListener?.("online", done);
  });
}

export function createLive(options: LiveOptions = {}): Live {
  const listeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = "idle";
  let everConnected = false;
  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    listeners.forEach((listener) => listener(state));
  };
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  let activeSocket: WebSocket | undefined;

  const client: Client = createClient({
    url: options.url ?? websocketUrl(),
    webSocketImpl: options.webSocketImpl,
    lazy: true,
    lazyCloseTimeout: 3_000,
    keepAlive: KEEP_ALIVE_MS,
    retryAttempts: Number.POSITIVE_INFINITY,
    // Every close is worth a retry: a restarting server, a proxy timeout and
    // a network change all end in a close the server did not choose.
    // But not 4401: the session ended, and the app asks to sign in again.
    shouldRetry: (event) => (event as CloseEvent | undefined)?.code !== UNAUTHORIZED,
    retryWait: (retries) => waitOrOnline((options.retryDelay ?? defaultRetryDelay)(retries)),
    on: {
      connecting: () => setState(everConnected ? "reconnecting" : "connecting"),
      connected: (socket) => {
        everConnected = true;
        activeSocket = socket as WebSocket;
        setState("connected");
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        if ((event as CloseEvent | undefined)?.code === UNAUTHORIZED) announceSignedOut();
        activeSocket = undefined;
        // With no watch open the lazy client just goes idle; with one it is
        // already retrying, and `connecting` reports that.
        setState(everConnected ? "reconnecting" : "idle");
      },
      ping: (received) => {
        if (received) return;
        // A socket on a dead network stays "open"; close it when our ping
        // goes unanswered so the reconnect starts.
        pongTimer = setTimeout(() => {
          if (activeSocket?.readyState === 1) activeSocket.close(4408, "ping timeout");
        }, PONG_TIMEOUT_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  let open = 0;
  return {
    watchJob(jobId, handlers) {
      let ended = false;
      open += 1;
      const end = () => {
        if (!ended) {
          ended = true;
          open -= 1;
          if (open === 0 && state !== "connected") setState("idle");
        }
      };
      const unsubscribe = client.subscribe<{ jobUpdates: JobSummaryFragment }>(
        { query: JobUpdatesDocument.toString(), variables: { jobId } },
        {
          next: (message) => {
            if (ended) return;
            const error = message.errors?.[0];
            if (error) {
              end();
              const code = (error.extensions as { code?: string } | undefined)?.code ?? "INTERNAL";
              handlers.error(new ApiError(code, error.message));
              unsubscribe();
              return;
            }
            const job = message.data?.jobUpdates;
            if (!job) return;
            handlers.next(job);
            if (TERMINAL.has(job.status)) {
              end();
              handlers.complete();
              unsubscribe();
            }
          },
          error: (error) => {
            if (ended) return;
            end();
            const first = Array.isArray(error) ? error[0] : undefined;
            const code = (first?.extensions as { code?: string } | undefined)?.code ?? "NETWORK";
            handlers.error(new ApiError(code, first?.message ?? "The live connection failed."));
          },
          complete: () => {
            // The server completes after the terminal message, handled above.
            end();
          },
        },
      );
      return () => {
        end();
        unsubscribe();
      };
    },
    onConnectionChange(listener) {
      listeners.add(listener);
      listener(state);
      return () => listeners.delete(listener);
    },
    dispose() {
      clearTimeout(pongTimer);
      void client.dispose();
    },
  };
}

let shared: Live | undefined;

/** The page's one live connection, created on first use. */
export function live(): Live {
  shared ??= createLive();
  return shared;
}

export function watchJob(jobId: string, handlers: JobWatchHandlers): () => void {
  return live().watchJob(jobId, handlers);
}
