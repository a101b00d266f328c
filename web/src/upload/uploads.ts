// The page's one upload queue, wired to the real API, the presigned PUT and
// the live connection, and exposed to components as a hook.
import { useEffect, useState } from "preact/hooks";
import { request } from "../api/client";
import { watchJob } from "../api/live";
import { CancelJobMutation, ConfirmUploadMutation, LimitsQuery, RequestUploadMutation } from "../api/operations";
import { type Limits, UploadQueue, type UploadItem } from "./queue";
import { putFile } from "./transfer";

export const queue = new UploadQueue({
  now: () => Date.now(),
  requestUpload: async (file, signal) => {
    const { requestUpload } = await request(
      RequestUploadMutation,
      { input: { filename: file.name, contentType: file.type || null, size: file.size } },
      signal,
    );
    return { ...requestUpload, uploadId: requestUpload.upload.id };
  },
  putFile,
  confirmUpload: async (uploadId, signal) => (await request(ConfirmUploadMutation, { uploadId }, signal)).confirmUpload,
  cancelJob: async (id) => (await request(CancelJobMutation, { id })).cancelJob,
  watchJob,
});

let limits: Promise<Limits | null> | undefined;

/** The server's limits, fetched once; null while unknown (the server checks again). */
export function loadLimits(): Promise<Limits | null> {
  limits ??= request(LimitsQuery, {}).then(
    ({ limits }) => {
      queue.setLimits(limits);
      return limits;
    },
    () => {
      limits = undefined;
      return null;
    },
  );
  return limits;
}

if (typeof window !== "undefined") {
  // A transfer cut by a lost connection resumes when the browser is back.
  addEventListener("online", () => queue.retryNetworkFailures());
}

export function useUploads(): readonly UploadItem[] {
  const [, setVersion] = useState(0);
  useEffect(() => queue.subscribe(() => setVersion((v) => v + 1)), []);
  return queue.items();
}

export function useLimits(): Limits | null {
  const [value, setValue] = useState<Limits | null>(null);
  useEffect(() => {
    let live = true;
    void loadLimits().then((l) => live && setValue(l));
    return () => {
      live = false;
    };
  }, []);
  return value;
}
