// One row per file in the queue: what is happening to it now, how far it
// got, and what the person can do about it.
import { formatBytes, formatDuration } from "../format";
import { isTerminal, type UploadItem } from "./queue";
import { queue, useUploads } from "./uploads";

const LABELS: Record<UploadItem["phase"], [string, string]> = {
  refused: ["Refused", "bad"],
  waiting: ["Waiting", ""],
  requesting: ["Preparing", "info"],
  uploading: ["Uploading", "info"],
  confirming: ["Confirming", "info"],
  queued: ["Queued", "info"],
  processing: ["Profiling", "info"],
  done: ["Done", "ok"],
  failed: ["Failed", "bad"],
  cancelled: ["Cancelled", "warn"],
};

function Detail({ item }: { item: UploadItem }) {
  switch (item.phase) {
    case "uploading": {
      const speed = item.bytesPerSecond ? ` · ${formatBytes(item.bytesPerSecond)}/s` : "";
      const left = item.secondsLeft != null ? ` · ${formatDuration(item.secondsLeft * 1000)} left` : "";
      return (
        <span>
          {formatBytes(item.sent)} of {formatBytes(item.total)}
          {speed}
          {left}
        </span>
      );
    }
    case "processing":
      return <span>Profiling · {Math.round(item.jobProgress * 100)}%</span>;
    case "queued":
      return <span>Uploaded · waiting for a worker</span>;
    case "done":
      return <span>{formatBytes(item.total)} · profiled</span>;
    case "failed":
    case "refused":
      return <span class="error-text">{item.error?.message}</span>;
    case "cancelled":
      return <span>Stopped</span>;
    default:
      return <span>{formatBytes(item.total)}</span>;
  }
}

function Row({ item }: { item: UploadItem }) {
  const [label, tone] = LABELS[item.phase];
  const uploading = item.phase === "uploading" || item.phase === "requesting";
  const value = uploading ? item.sent / Math.max(1, item.total) : item.jobProgress;
  // Queued and confirming have no measurable progress: the badge says it.
  const showBar = uploading || item.phase === "processing";
  const barLabel = uploading ? `Upload of ${item.file.name}` : `Profiling of ${item.file.name}`;
  const cancellable = !isTerminal(item.phase);
  const retryable = (item.phase === "failed" && item.error?.retryable) || item.phase === "cancelled";
  return (
    <li class="upload-row" data-testid="upload-row" data-phase={item.phase}>
      <div class="upload-head">
        <span class="upload-name" title={item.file.name}>
          {item.phase === "done" && item.jobId ? <a href={`/jobs/${item.jobId}`}>{item.file.name}</a> : item.file.name}
        </span>
        <span class={`badge ${tone}`}>{label}</span>
      </div>
      {showBar && (
        <div
          class={`progress${uploading ? "" : " progress-job"}`}
          role="progressbar"
          aria-label={barLabel}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(value * 100)}
          data-testid={uploading ? "upload-progress" : "job-progress"}
        >
          <div style={{ width: `${(value * 100).toFixed(1)}%` }} />
        </div>
      )}
      <div class="upload-foot">
        <span class="muted upload-detail" data-testid="upload-detail">
          <Detail item={item} />
        </span>
        <span class="upload-actions">
          {item.phase === "done" && item.jobId && (
            <a class="button small primary" href={`/jobs/${item.jobId}`}>
              View profile
            </a>
          )}
          {item.phase === "failed" && item.jobId && (
            <a class="button small" href={`/jobs/${item.jobId}`}>
              Details
            </a>
          )}
          {retryable && (
            <button type="button" class="small" onClick={() => queue.retry(item.key)}>
              Retry
            </button>
          )}
          {cancellable && (
            <button
              type="button"
              class="small"
              onClick={() => queue.cancel(item.key)}
              aria-label={`Cancel ${item.file.name}`}
            >
              Cancel
            </button>
          )}
          {isTerminal(item.phase) && (
            <button
              type="button"
              class="small"
              onClick={() => queue.remove(item.key)}
              aria-label={`Dismiss ${item.file.name}`}
            >
              Dismiss
            </button>
          )}
        </span>
      </div>
    </li>
  );
}

export function UploadList() {
  const items = useUploads();
  if (items.length === 0) return null;
  return (
    <section aria-labelledby="uploads-title">
      <h2 id="uploads-title">This session's uploads</h2>
      <ul class="upload-list" aria-live="polite" aria-relevant="additions">
        {items.map((item) => (
          <Row key={item.key} item={item} />
        ))}
      </ul>
    </section>
  );
}
