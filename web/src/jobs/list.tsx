// The viewer's jobs, newest first, with status badges that follow each
// unfinished job live. The list query asks for summaries only, never
// profiles, so a page of jobs stays small whatever the files were.
import { useEffect, useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { TERMINAL, watchJob } from "../api/live";
import { JobsQuery } from "../api/operations";
import type { JobSummaryFragment } from "../gql/graphql";
import { formatBytes } from "../format";
import { queue } from "../upload/uploads";

export const STATUS_LABELS: Record<JobSummaryFragment["status"], [string, string]> = {
  PENDING: ["Queued", "info"],
  RUNNING: ["Profiling", "info"],
  SUCCEEDED: ["Done", "ok"],
  FAILED: ["Failed", "bad"],
  CANCELLED: ["Cancelled", "warn"],
};

export function StatusBadge({ job }: { job: Pick<JobSummaryFragment, "status" | "progress"> }) {
  const [label, tone] = STATUS_LABELS[job.status];
  const percent = job.status === "RUNNING" ? ` ${Math.round(job.progress * 100)}%` : "";
  return (
    <span class={`badge ${tone}`} data-testid="status-badge" data-status={job.status}>
      {label}
      {percent}
    </span>
  );
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["second", 60],
    ["minute", 60],
    ["hour", 24],
    ["day", 30],
    ["month", 12],
    ["year", Number.POSITIVE_INFINITY],
  ];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return relative.format(value, unit);
    value = Math.round(value / size);
  }
  return iso;
}

interface Page {
  jobs: JobSummaryFragment[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Loads one page and keeps its unfinished jobs up to date. */
function useJobsPage(first: number, after: string | null, reloadKey: number) {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    request(JobsQuery, { first, after }, controller.signal).then(
      ({ jobs }) =>
        setPage({
          jobs: jobs.nodes,
          hasNextPage: jobs.pageInfo.hasNextPage,
          endCursor: jobs.pageInfo.endCursor ?? null,
        }),
      (e: ApiError) => e.code !== "ABORTED" && setError(e),
    );
    return () => controller.abort();
  }, [first, after, reloadKey, attempt]);

  const unfinished = page?.jobs.filter((job) => !TERMINAL.has(job.status)).map((job) => job.id) ?? [];
  const watchKey = unfinished.join(",");
  useEffect(() => {
    const stops = unfinished.map((id) =>
      watchJob(id, {
        next: (update) =>
          setPage(
            (current) =>
              current && { ...current, jobs: current.jobs.map((job) => (job.id === update.id ? update : job)) },
          ),
        error: () => undefined,
        complete: () => undefined,
      }),
    );
    return () => stops.forEach((stop) => stop());
    // Resubscribe only when the set of unfinished jobs changes.
  }, [watchKey]);

  return { page, error, retry: () => setAttempt((n) => n + 1) };
}

/** Reloads when a job of this session's uploads appears, so the list shows it. */
function useUploadsVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let known = new Set(
      queue
        .items()
        .map((item) => item.jobId)
        .filter(Boolean),
    );
    return queue.subscribe(() => {
      const ids = new Set(
        queue
          .items()
          .map((item) => item.jobId)
          .filter(Boolean),
      );
      if ([...ids].some((id) => !known.has(id))) setVersion((v) => v + 1);
      known = ids;
    });
  }, []);
  return version;
}

export function JobsTable(props: {
  first: number;
  after: string | null;
  title: string;
  headingLevel: 1 | 2;
  paginate: boolean;
}) {
  const uploadsVersion = useUploadsVersion();
  const { page, error, retry } = useJobsPage(props.first, props.after, props.after ? 0 : uploadsVersion);
  const Heading = props.headingLevel === 1 ? "h1" : "h2";
  return (
    <section aria-labelledby="jobs-title" class="jobs">
      <div class="jobs-head">
        <Heading id="jobs-title">{props.title}</Heading>
        {!props.paginate && (
          <a href="/jobs" class="muted">
            All jobs →
          </a>
        )}
      </div>
      {error && (
        <div class="alert bad" role="alert">
          Could not load your jobs: {error.message}{" "}
          <button type="button" class="small" onClick={retry}>
            Try again
          </button>
        </div>
      )}
      {!page && !error && <p class="muted">Loading…</p>}
      {page && page.jobs.length === 0 && (
        <p class="muted">{props.after ? "No older jobs." : "No jobs yet: upload a file to start one."}</p>
      )}
      {page && page.jobs.length > 0 && (
        <table class="jobs-table panel" data-testid="jobs-table">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Status</th>
              <th scope="col" class="wide-only">
                Size
              </th>
              <th scope="col" class="wide-only">
                Started
              </th>
            </tr>
          </thead>
          <tbody>
            {page.jobs.map((job) => (
              <tr key={job.id} data-testid="job-row">
                <td class="job-file">
                  <a href={`/jobs/${job.id}`} title={job.upload.filename}>
                    {job.upload.filename}
                  </a>
                  {job.error && <div class="muted job-error">{job.error.message}</div>}
                </td>
                <td>
                  <StatusBadge job={job} />
                </td>
                <td class="wide-only num">{formatBytes(job.upload.size)}</td>
                <td class="wide-only">
                  <time dateTime={job.createdAt} title={new Date(job.createdAt).toLocaleString()}>
                    {timeAgo(job.createdAt)}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.paginate && page && (props.after || page.hasNextPage) && (
        <nav class="pager" aria-label="Pages">
          {props.after && <a href="/jobs">← Newest</a>}
          {page.hasNextPage && page.endCursor && (
            <a href={`/jobs?after=${encodeURIComponent(page.endCursor)}`}>Older →</a>
          )}
        </nav>
      )}
    </section>
  );
}
