// The result page of one job: live progress while it runs, then its
// profile, or why there is none.
import { useEffect, useState } from "preact/hooks";
import {
  Cancelled,
  Failed,
  FileSummaryView,
  InProgress,
  LoadError,
  Loading,
  NoResult,
  NotFound,
} from "../profile/JobStates";
import { ProfileView } from "../profile/ProfileView";
import { type JobView as JobViewState, useJobResult } from "../profile/useJobResult";
import { DeleteUpload } from "../upload/delete";

export function ResultPage(props: { jobId: string }) {
  const [attempt, setAttempt] = useState(0);
  const view = useJobResult(props.jobId, attempt);
  const retry = () => setAttempt((n) => n + 1);
  const filename = view.state === "job" ? view.job.upload.filename : null;

  useEffect(() => {
    if (filename) document.title = `${filename} · Loupe`;
  }, [filename]);

  switch (view.state) {
    case "loading":
      return <Loading text="Loading the profile…" />;
    case "not-found":
      return <NotFound jobId={props.jobId} />;
    case "error":
      return <LoadError error={view.error} onRetry={retry} />;
    case "job":
      return (
        <>
          <JobView view={view} onRetry={retry} />
          <DeleteUpload uploadId={view.job.upload.id} filename={view.job.upload.filename} />
        </>
      );
  }
}

function JobView(props: { view: Extract<JobViewState, { state: "job" }>; onRetry: () => void }) {
  const { job, fetching } = props.view;
  if (job.status === "FAILED") return <Failed job={job} />;
  if (job.status === "CANCELLED") return <Cancelled job={job} />;
  if (job.status !== "SUCCEEDED" || fetching) return <InProgress job={job} fetching={fetching} />;
  if (job.result?.__typename === "TableProfile") return <ProfileView job={job} profile={job.result} />;
  if (job.result?.__typename === "FileSummary") return <FileSummaryView job={job} summary={job.result} />;
  return <NoResult job={job} onRetry={props.onRetry} />;
}
