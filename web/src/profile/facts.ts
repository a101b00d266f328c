// File-level facts as people read them, and the JSON the page exports.
import type { ColumnProfile, ResultJob, TableProfile } from "./query";

const DELIMITER_NAMES: Record<string, string> = {
  "\t": "tab",
  " ": "space",
  ",": "comma",
  ";": "semicolon",
  "|": "pipe",
};

/** `"\t"` → "tab", `","` → ", (comma)"; unnamed characters as themselves. */
export function describeDelimiter(delimiter: string | null): string {
  if (delimiter === null) return "none";
  const name = DELIMITER_NAMES[delimiter];
  if (!name) return delimiter;
  return delimiter.trim() === "" ? name : `${delimiter} (${name})`;
}

export function describeQuote(quote: string | null): string {
  if (quote === null) return "none";
  return quote === '"' ? '" (double quote)' : quote === "'" ? "' (single quote)" : quote;
}

export const FORMAT_NAMES: Record<TableProfile["format"], string> = {
  CSV: "CSV",
  TSV: "TSV",
  JSON_LINES: "JSON Lines",
};

export const LINE_ENDING_NAMES: Record<TableProfile["lineEnding"], string> = {
  LF: "LF (Unix)",
  CRLF: "CRLF (Windows)",
  CR: "CR (classic Mac)",
  MIXED: "mixed",
  UNKNOWN: "unknown",
};

export const COMPRESSION_NAMES: Record<TableProfile["compression"], string> = {
  NONE: "none",
  GZIP: "gzip",
};

/** "sales.csv" → "sales.profile.json"; path separators and controls removed. */
export function profileFilename(uploadName: string): string {
  const base = uploadName
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "_")
    .replace(/\.(gz|gzip)$/i, "")
    .replace(/\.[^.]*$/, "")
    .trim();
  return `${base || "profile"}.profile.json`;
}

/** The whole download: which job and file, then the profile as the API gave it. */
export function profileDocument(job: ResultJob, profile: TableProfile): unknown {
  const { __typename: _typename, ...rest } = profile;
  return {
    job: { id: job.id, createdAt: job.createdAt, startedAt: job.startedAt, finishedAt: job.finishedAt },
    upload: job.upload,
    profile: rest,
  };
}

/** One column as JSON, as "Copy JSON" puts it on the clipboard. */
export function columnJson(column: ColumnProfile): string {
  return JSON.stringify(column, null, 2);
}
