// Everything the result page shows when there is no table to draw: the job
// still running, failed, cancelled or unknown, a load error, a non-tabular
// file. Each says what happened and what the person can do next.
import { useEffect, useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import { type ConnectionState, live } from "../api/live";
import { CancelJobMutation } from "../api/operations";
import { Bytes, Timing } from "./FileFacts";
import { formatShare } from "../format";
import type { FileSummary, ResultJob } from "./query";
import { POLL_MS } from "./useJobResult";
import "./profile.css";

export function Loading(props: { text: string }) {
  return (
    <div class="job-state">
      <h1>Profile</h1>
      <p role="status" class="muted">
        {props.text}
      </p>
    </div>
  );
}

export function NotFound(props: { jobId: string }) {
  return (
    <div class="job-state empty">
      <h1>Job not found</h1>
      <p>
        No job <code>{props.jobId}</code> belongs to you. It may have been deleted, or the link is wrong.
      </p>
      <p>
        <a href="/jobs">See your jobs</a> or <a href="/">upload a file</a>.
      </p>
    </div>
  );
}

export function LoadError(props: { error: ApiError; onRetry(): void }) {
  const offline = props.error.code === "NETWORK";
  return (
    <div class="job-state">
      <h1>Could not load this profile</h1>
      <div class="alert bad" role="alert">
        <p>{offline ? "The server cannot be reached. Check your connection, then try again." : props.error.message}</p>
        {!offline && (
          <p class="muted">
            Error code <code>{props.error.code}</code>
          </p>
        )}
        <button type="button" class="primary" onClick={props.onRetry}>
          Try again
        </button>
      </div>
    </div>
  );
}

/** A socket still not connected after this long is worth mentioning. */
const GRACE_MS = 3_000;

/** Whether live updates have been down for a while (the page polls meanwhile). */
function useLiveTrouble(): boolean {
  const [trouble, setTrouble] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = live().onConnectionChange((state: ConnectionState) => {
      clearTimeout(timer);
      if (state === "connected") setTrouble(false);
      else timer = setTimeout(() => setTrouble(true), GRACE_MS);
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, []);
  return trouble;
}

export function InProgress(props: { job: ResultJob; fetching: boolean }) {
  const { job, fetching } = props;
  const trouble = useLiveTrouble();
  const [cancel, setCancel] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const pending = job.status === "PENDING";
  const badge = fetching ? "Done" : pending ? "Waiting for a worker" : "Profiling";
  const detail = fetching ? "Loading the profile…" : pending ? "Queued" : `${formatShare(job.progress)} read`;

  const onCancel = async () => {
    setCancel({ busy: true, error: null });
    try {
      // The live update brings the CANCELLED state; nothing to set here.
      await request(CancelJobMutation, { id: job.id });
      setCancel({ busy: false, error: null });
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      setCancel({ busy: false, error: message });
    }
  };

  return (
    <div class="job-state">
      <h1 title={job.upload.filename}>{job.upload.filename}</h1>
      <div class="panel progress-panel">
        <p class="progress-line">
          <span class={fetching ? "badge ok" : "badge info"}>{badge}</span>
          <span role="status">{detail}</span>
        </p>
        <progress
          max={1}
          value={fetching ? 1 : pending ? undefined : job.progress}
          aria-label={`Progress of ${job.upload.filename}`}
        />
        {trouble && !fetching && (
          <p class="alert warn" role="status">
            Live updates are not connected; checking every {POLL_MS / 1000} seconds until they are back.
          </p>
        )}
        {!fetching && (
          <p>
            <button type="button" onClick={() => void onCancel()} disabled={cancel.busy}>
              {cancel.busy ? "Cancelling…" : "Cancel job"}
            </button>
          </p>
        )}
        {cancel.error && (
          <p class="alert bad" role="alert">
            Could not cancel: {cancel.error}
          </p>
        )}
      </div>
      <Timing job={job} />
    </div>
  );
}

export function Failed(props: { job: ResultJob }) {
  const { job } = props;
  return (
    <div class="job-state">
      <h1 title={job.upload.filename}>{job.upload.filename}</h1>
      <div class="alert bad failure" role="alert">
        <h2>Profiling failed</h2>
        <p class="reason">{job.error?.message ?? "The job failed without a reason."}</p>
        {job.error && (
          <p class="muted">
            Error code <code>{job.error.code}</code>
          </p>
        )}
        <p>
          <a href="/" class="button primary">
            Upload again
          </a>
        </p>
      </div>
      <Timing job={job} />
    </div>
  );
}

export function Cancelled(props: { job: ResultJob }) {
  const { job } = props;
  return (
    <div class="job-state">
      <h1 title={job.upload.filename}>{job.upload.filename}</h1>
      <div class="alert warn" role="status">
        <h2>Cancelled</h2>
        <p>This job was cancelled before it finished, so there is no profile.</p>
        <p>
          <a href="/" class="button">
            Upload again
          </a>
        </p>
      </div>
      <Timing job={job} />
    </div>
  );
}

export function NoResult(props: { job: ResultJob; onRetry(): void }) {
  const { job } = props;
  return (
    <div class="job-state">
      <h1 title={job.upload.filename}>{job.upload.filename}</h1>
      <div class="alert warn" role="alert">
        <p>The job succeeded but the server returned no result.</p>
        <button type="button" onClick={props.onRetry}>
          Try again
        </button>
      </div>
    </div>
  );
}

export function FileSummaryView(props: { job: ResultJob; summary: FileSummary }) {
  const { job, summary } = props;
  return (
    <div class="profile" data-testid="result-ready">
      <h1 title={job.upload.filename}>{job.upload.filename}</h1>
      <p class="alert">
        Not a CSV, TSV or JSON Lines table, so Loupe summarised the file instead of profiling columns.
      </p>
      <section aria-labelledby="file-heading">
        <h2 id="file-heading">File</h2>
        <div class="panel facts-panel">
          <dl class="facts">
            <div class="fact">
              <dt>Size</dt>
              <dd>
                <Bytes bytes={summary.size} />
              </dd>
            </div>
            <div class="fact">
              <dt>Media type</dt>
              <dd>
                <code>{summary.mediaType}</code>
              </dd>
            </div>
            <div class="fact wide">
              <dt>SHA-256</dt>
              <dd>
                <code class="hash">{summary.sha256}</code>
              </dd>
            </div>
          </dl>
          <Timing job={job} />
        </div>
      </section>
    </div>
  );
}
