// Deleting an upload removes its file, job and profile on the server (a
// job still running is cancelled first); after that the page has nothing to
// show, so it goes to the jobs list.
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { DeleteUploadMutation } from "../api/operations";
import { navigate } from "../router";

export function DeleteUpload(props: { uploadId: string; filename: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    if (!confirm(`Delete ${props.filename}, its job and its profile? This cannot be undone.`)) return;
    setBusy(true);
    setError(null);
    try {
      await request(DeleteUploadMutation, { id: props.uploadId });
      navigate("/jobs");
    } catch (e) {
      setError((e as ApiError).message);
      setBusy(false);
    }
  };
  return (
    <section class="delete-upload" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete</h2>
      <p class="muted">Removes the file from storage, with its job and profile.</p>
      <button type="button" class="danger" onClick={() => void remove()} disabled={busy}>
        {busy ? "Deleting…" : "Delete upload"}
      </button>
      {error && (
        <p class="alert bad" role="alert">
          Could not delete: {error}
        </p>
      )}
    </section>
  );
}
