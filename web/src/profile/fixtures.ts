// Test data: columns and profiles shaped like the API's, built from a few
// fields so each test states only what it is about.
import type { ColumnProfile, ResultJob, TableProfile } from "./query";

export function column(fields: Partial<ColumnProfile> = {}): ColumnProfile {
  return {
    name: "c",
    inferredType: "STRING",
    typeShare: 1,
    typeCounts: { integer: 0, float: 0, boolean: 0, date: 0, datetime: 0, string: 100 },
    count: 100,
    nonNullCount: 100,
    nullCount: 0,
    emptyCount: 0,
    distinctCount: 10,
    distinctExact: true,
    numeric: null,
    temporal: null,
    boolean: null,
    lengths: null,
    minText: null,
    maxText: null,
    topValues: [],
    topValuesErrorBound: 0,
    samples: [],
    junkExamples: [],
    ...fields,
  };
}

export function numericColumn(
  histogram: { lower: number; upper: number; count: number }[],
  quantiles: Partial<Record<"p1" | "p5" | "p25" | "p50" | "p75" | "p95" | "p99", number>> = {},
  fields: Partial<ColumnProfile> = {},
): ColumnProfile {
  const min = histogram[0]?.lower ?? 0;
  const max = histogram[histogram.length - 1]?.upper ?? 0;
  const n = histogram.reduce((s, b) => s + b.count, 0);
  return column({
    inferredType: "FLOAT",
    typeCounts: { integer: 0, float: n, boolean: 0, date: 0, datetime: 0, string: 0 },
    count: n,
    nonNullCount: n,
    numeric: {
      min,
      max,
      mean: (min + max) / 2,
      stdDev: 1,
      sum: 0,
      zeroCount: 0,
      negativeCount: 0,
      quantiles: { p1: min, p5: min, p25: min, p50: min, p75: max, p95: max, p99: max, ...quantiles },
      histogram,
    },
    ...fields,
  });
}

export function tableProfile(columns: ColumnProfile[], fields: Partial<TableProfile> = {}): TableProfile {
  return {
    __typename: "TableProfile",
    format: "CSV",
    compression: "NONE",
    delimiter: ",",
    quote: '"',
    hasHeader: true,
    lineEnding: "LF",
    encoding: "UTF-8",
    bom: false,
    bytesRead: 1000,
    decompressedBytes: 1000,
    rowCount: columns[0]?.count ?? 0,
    columnCount: columns.length,
    malformedRowCount: 0,
    malformedExamples: [],
    quantileRankError: 0.01,
    distinctRelativeError: 0.02,
    columns,
    ...fields,
  };
}

export function job(fields: Partial<ResultJob> = {}): ResultJob {
  return {
    id: "0b0e5a2e-4a7e-4c1b-9a39-1f7f1c1d2e3f",
    status: "SUCCEEDED",
    progress: 1,
    attempts: 1,
    error: null,
    createdAt: "2026-11-25T10:00:00Z",
    startedAt: "2026-11-25T10:00:01Z",
    finishedAt: "2026-11-25T10:00:03.500Z",
    upload: { id: "u1", filename: "sales.csv", size: 1000, contentType: "text/csv", format: null, delimiter: null },
    result: null,
    ...fields,
  };
}
