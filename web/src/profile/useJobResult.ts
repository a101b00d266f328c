// The result page's data: fetch the job (with its result once it has
// SUCCEEDED); while it is PENDING or RUNNING, follow it live and fetch again
// when it succeeds. Finished jobs, the common case for a bookmarked link,
// cost one request and no websocket. While the websocket is down (or a
// proxy refuses it) the job is polled instead, so the page still ends.
import { useEffect, useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import { live, watchJob } from "../api/live";
import type { JobSummaryFragment } from "../gql/graphql";
import { JobResultDocument, type ResultJob } from "./query";

export type JobView =
  | { state: "loading" }
  | { state: "not-found" }
  | { state: "error"; error: ApiError }
  /** `fetching`: the job just succeeded and its result is on its way. */
  | { state: "job"; job: ResultJob; fetching: boolean };

function isActive(status: ResultJob["status"]): boolean {
  return status === "PENDING" || status === "RUNNING";
}

/** The job as last fetched, updated with a live summary (which has no result). */
export function mergeSummary(job: ResultJob, summary: JobSummaryFragment): ResultJob {
  return {
    ...job,
    status: summary.status,
    progress: summary.progress,
    attempts: summary.attempts,
    error: summary.error,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
  };
}

/** How often to ask for the job while live updates are not connected. */
export const POLL_MS = 5_000;

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError("INTERNAL", String(error));
}

/** `attempt` starts the whole load again when it changes (the Retry button). */
export function useJobResult(jobId: string, attempt: number): JobView {
  const [view, setView] = useState<JobView>({ state: "loading" });

  useEffect(() => {
    setView({ state: "loading" });
    const abort = new AbortController();
    let stopWatching: (() => void) | undefined;
    let current: ResultJob | undefined;

    const fail = (error: ApiError) => {
      if (abort.signal.aborted) return;
      setView(error.code === "NOT_FOUND" ? { state: "not-found" } : { state: "error", error });
    };

    /** `quiet`: a poll; its failures wait for the next poll or the socket. */
    const load = async (quiet = false) => {
      let job: ResultJob | null;
      try {
        job = (await request(JobResultDocument, { id: jobId }, abort.signal)).job;
      } catch (error) {
        if (!quiet) fail(asApiError(error));
        return;
      }
      if (abort.signal.aborted) return;
      if (!job) {
        setView({ state: "not-found" });
        return;
      }
      current = job;
      setView({ state: "job", job, fetching: false });
      if (!isActive(job.status)) stopWatching?.();
      else if (!stopWatching) watch();
    };

    const watch = () => {
      let connected = false;
      const stopListening = live().onConnectionChange((state) => {
        connected = state === "connected";
      });
      const poll = setInterval(() => {
        if (!connected) void load(true);
      }, POLL_MS);
      const unsubscribe = watchJob(jobId, {
        next(summary) {
          if (abort.signal.aborted || !current) return;
          current = mergeSummary(current, summary);
          const succeeded = summary.status === "SUCCEEDED";
          setView({ state: "job", job: current, fetching: succeeded });
          if (succeeded) void load();
        },
        error: fail,
        // The terminal state came through `next`; nothing more to do.
        complete() {},
      });
      stopWatching = () => {
        unsubscribe();
        stopListening();
        clearInterval(poll);
      };
    };

    void load();
    return () => {
      abort.abort();
      stopWatching?.();
    };
  }, [jobId, attempt]);

  return view;
}
