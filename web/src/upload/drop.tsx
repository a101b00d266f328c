// Every way a file gets in: drop it anywhere on the page, pick it with the
// button (a real button, so the keyboard reaches it), or paste it.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatBytes } from "../format";
import { queue, useLimits } from "./uploads";

/** Extensions Loupe profiles; anything else still gets a file summary. */
const TABULAR = ".csv,.tsv,.tab,.txt,.jsonl,.ndjson,.json,.gz,text/csv,text/tab-separated-values";

function filesOf(transfer: DataTransfer | null): File[] {
  return transfer ? Array.from(transfer.files) : [];
}

export function DropZone() {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const limits = useLimits();

  useEffect(() => {
    let depth = 0;
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes("Files") ?? false;
    const enter = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      depth += 1;
      setDragging(true);
    };
    const leave = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    };
    const drop = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setDragging(false);
      queue.add(filesOf(event.dataTransfer));
    };
    const paste = (event: ClipboardEvent) => {
      const files = filesOf(event.clipboardData);
      if (files.length === 0) return;
      event.preventDefault();
      queue.add(files);
    };
    addEventListener("dragenter", enter);
    addEventListener("dragleave", leave);
    addEventListener("dragover", over);
    addEventListener("drop", drop);
    addEventListener("paste", paste);
    return () => {
      removeEventListener("dragenter", enter);
      removeEventListener("dragleave", leave);
      removeEventListener("dragover", over);
      removeEventListener("drop", drop);
      removeEventListener("paste", paste);
    };
  }, []);

  return (
    <section class="dropzone panel" aria-labelledby="drop-title">
      <svg class="dropzone-icon" aria-hidden="true" viewBox="0 0 48 48" width="44" height="44">
        <path
          d="M24 32V10m0 0l-8 8m8-8l8 8"
          fill="none"
          stroke="currentColor"
          stroke-width="3"
          stroke-linecap="round"
          stroke-linejoin="round"
        />
        <path
          d="M8 30v8a2 2 0 002 2h28a2 2 0 002-2v-8"
          fill="none"
          stroke="currentColor"
          stroke-width="3"
          stroke-linecap="round"
        />
      </svg>
      <h1 id="drop-title">Profile a data file</h1>
      <p class="muted">
        Drop CSV, TSV or JSON Lines files (plain or gzip) anywhere on this page, paste them, or choose them. Other files
        get a summary.
      </p>
      <button type="button" class="primary" onClick={() => input.current?.click()}>
        Choose files…
      </button>
      <input
        ref={input}
        type="file"
        multiple
        accept={TABULAR}
        class="visually-hidden"
        tabIndex={-1}
        aria-label="Files to upload"
        data-testid="file-input"
        onChange={(event) => {
          const target = event.currentTarget;
          queue.add(Array.from(target.files ?? []));
          target.value = "";
        }}
      />
      <p class="muted small-print">{limits ? `Up to ${formatBytes(limits.maxUploadBytes)} per file.` : " "}</p>
      {dragging && (
        <div class="drop-overlay" aria-hidden="true">
          <div>Drop to upload</div>
        </div>
      )}
    </section>
  );
}
