// The byte transfer of one upload: a single PUT to the presigned URL,
// through XMLHttpRequest because only it reports upload progress (fetch
// has no upload progress in Chromium). Everything else in the app speaks to
// this module only, so resumable multipart uploads can replace it later.

export interface PresignedPut {
  url: string;
  method: string;
  headers: { name: string; value: string }[];
}

/**
 * Why a transfer failed. `expired`: the presigned URL is no longer valid
 * (ask for a new one); `stored`: the object already exists (upload URLs
 * write once, so an earlier attempt whose answer was lost got through:
 * confirming checks it); `refused`: the store rejected the request
 * (signature, size or type); `too-large`: over the store's limit;
 * `network`: no connection; `server`: the store failed; `aborted`:
 * cancelled by the user.
 */
export type TransferFailure = "expired" | "stored" | "refused" | "too-large" | "network" | "server" | "aborted";

export class TransferError extends Error {
  readonly kind: TransferFailure;
  readonly status: number;

  constructor(kind: TransferFailure, message: string, status = 0) {
    super(message);
    this.name = "TransferError";
    this.kind = kind;
    this.status = status;
  }
}

export interface TransferOptions {
  onProgress(sent: number, total: number): void;
  signal?: AbortSignal;
}

/** Headers the browser sets itself and refuses from scripts. */
const BROWSER_HEADERS = new Set(["content-length", "host", "connection", "expect"]);

export function putFile(target: PresignedPut, body: Blob, options: TransferOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new TransferError("aborted", "Upload cancelled."));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(target.method, target.url);
    for (const { name, value } of target.headers) {
      if (!BROWSER_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      options.onProgress(event.loaded, event.lengthComputable ? event.total : body.size);
    };
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = (error?: TransferError) => {
      options.signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve();
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress(body.size, body.size);
        settle();
      } else {
        settle(classify(xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => settle(new TransferError("network", "The connection to the storage server was lost."));
    xhr.ontimeout = () => settle(new TransferError("network", "The storage server stopped answering."));
    xhr.onabort = () => settle(new TransferError("aborted", "Upload cancelled."));
    xhr.send(body);
  });
}

/** Turns an S3 error answer into something a person can act on. */
export function classify(status: number, body: string): TransferError {
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? "";
  const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1] ?? "";
  if (status === 403 && (/expired/i.test(message) || code === "ExpiredToken" || /expired/i.test(code))) {
    return new TransferError("expired", "The upload link expired before the file was sent.", status);
  }
  if (status === 412) {
    return new TransferError("stored", "The file was already stored by an earlier attempt.", status);
  }
  if (status === 413 || code === "EntityTooLarge") {
    return new TransferError("too-large", "The storage server refused the file as too large.", status);
  }
  if (status >= 400 && status < 500) {
    const detail = message || code || `HTTP ${status}`;
    return new TransferError("refused", `The storage server refused the upload (${detail}).`, status);
  }
  return new TransferError("server", `The storage server failed (HTTP ${status}${code ? `, ${code}` : ""}).`, status);
}
