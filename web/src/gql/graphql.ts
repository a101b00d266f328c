/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type AuthenticatedBy =
  | 'API_TOKEN'
  /** No sign-in provider is configured: everyone is the local user. */
  | 'LOCAL'
  | 'SESSION';

export type ColumnType =
  | 'BOOLEAN'
  | 'DATE'
  | 'DATETIME'
  /** Every value is null. */
  | 'EMPTY'
  | 'FLOAT'
  | 'INTEGER'
  | 'STRING';

export type Compression =
  | 'GZIP'
  | 'NONE';

export type JobStatus =
  /** Stopped by `cancelJob`. */
  | 'CANCELLED'
  /** Done: `error` says why. */
  | 'FAILED'
  /** Waiting for a worker. */
  | 'PENDING'
  /** A worker is processing the file. */
  | 'RUNNING'
  /** Done: `result` holds the output. */
  | 'SUCCEEDED';

export type LineEnding =
  | 'CR'
  | 'CRLF'
  | 'LF'
  | 'MIXED'
  /** Fewer than one complete line was seen. */
  | 'UNKNOWN';

export type RequestUploadInput = {
  /** The media type the client will send in `Content-Type`, if any. */
  contentType?: string | null | undefined;
  /** Split fields at this character (CSV/TSV), whatever detection finds. */
  delimiter?: string | null | undefined;
  /** The file's name; only its last path component is kept. */
  filename: string;
  /** Profile the file as this format, whatever its content suggests. */
  format?: TableFormat | null | undefined;
  /** Exact size in bytes. */
  size: number;
};

export type TableFormat =
  | 'CSV'
  | 'JSON_LINES'
  | 'TSV';

export type JobSummaryFragment = { id: string, status: JobStatus, progress: number, attempts: number, createdAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null, upload: { id: string, filename: string, size: number, contentType: string | null } };

export type RequestUploadMutationVariables = Exact<{
  input: RequestUploadInput;
}>;


export type RequestUploadMutation = { requestUpload: { url: string, method: string, expiresAt: string, upload: { id: string }, headers: Array<{ name: string, value: string }> } };

export type ConfirmUploadMutationVariables = Exact<{
  uploadId: string | number;
}>;


export type ConfirmUploadMutation = { confirmUpload: { id: string, status: JobStatus, progress: number, attempts: number, createdAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null, upload: { id: string, filename: string, size: number, contentType: string | null } } };

export type CancelJobMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelJobMutation = { cancelJob: { id: string, status: JobStatus, progress: number, attempts: number, createdAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null, upload: { id: string, filename: string, size: number, contentType: string | null } } };

export type JobsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type JobsQuery = { jobs: { pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, status: JobStatus, progress: number, attempts: number, createdAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null, upload: { id: string, filename: string, size: number, contentType: string | null } }> } };

export type JobUpdatesSubscriptionVariables = Exact<{
  jobId: string | number;
}>;


export type JobUpdatesSubscription = { jobUpdates: { id: string, status: JobStatus, progress: number, attempts: number, createdAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null, upload: { id: string, filename: string, size: number, contentType: string | null } } };

export type LimitsQueryVariables = Exact<{ [key: string]: never; }>;


export type LimitsQuery = { limits: { maxUploadBytes: number, uploadUrlTtlSeconds: number } };

export type DeleteUploadMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteUploadMutation = { deleteUpload: string };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { id: string, login: string, name: string | null, authenticatedBy: AuthenticatedBy } };

export type JobResultQueryVariables = Exact<{
  id: string | number;
}>;


export type JobResultQuery = { job: { id: string, status: JobStatus, progress: number, attempts: number, createdAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null, upload: { id: string, filename: string, size: number, contentType: string | null, format: TableFormat | null, delimiter: string | null }, result:
      | { __typename: 'FileSummary', size: number, sha256: string, mediaType: string }
      | { __typename: 'TableProfile', format: TableFormat, compression: Compression, delimiter: string | null, quote: string | null, hasHeader: boolean, lineEnding: LineEnding, encoding: string, bom: boolean, bytesRead: number, decompressedBytes: number, rowCount: number, columnCount: number, malformedRowCount: number, quantileRankError: number, distinctRelativeError: number, malformedExamples: Array<{ line: number, reason: string }>, columns: Array<{ name: string, inferredType: ColumnType, typeShare: number, count: number, nonNullCount: number, nullCount: number, emptyCount: number, distinctCount: number, distinctExact: boolean, minText: string | null, maxText: string | null, topValuesErrorBound: number, samples: Array<string>, typeCounts: { integer: number, float: number, boolean: number, date: number, datetime: number, string: number }, numeric: { min: number, max: number, mean: number | null, stdDev: number | null, sum: number | null, zeroCount: number, negativeCount: number, quantiles: { p1: number, p5: number, p25: number, p50: number, p75: number, p95: number, p99: number }, histogram: Array<{ lower: number, upper: number, count: number }> } | null, temporal: { min: string, max: string, mean: string, quantiles: { p1: string, p5: string, p25: string, p50: string, p75: string, p95: string, p99: string }, histogram: Array<{ lower: string, upper: string, count: number }> } | null, boolean: { trueCount: number, falseCount: number } | null, lengths: { min: number, max: number, mean: number, histogram: Array<{ lower: number, upper: number, count: number }> } | null, topValues: Array<{ value: string, count: number }>, junkExamples: Array<{ line: number, value: string }> }> }
     | null } | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const JobSummaryFragmentDoc = new TypedDocumentString(`
    fragment JobSummary on Job {
  id
  status
  progress
  attempts
  createdAt
  startedAt
  finishedAt
  error {
    code
    message
  }
  upload {
    id
    filename
    size
    contentType
  }
}
    `, {"fragmentName":"JobSummary"}) as unknown as TypedDocumentString<JobSummaryFragment, unknown>;
export const RequestUploadDocument = new TypedDocumentString(`
    mutation RequestUpload($input: RequestUploadInput!) {
  requestUpload(input: $input) {
    upload {
      id
    }
    url
    method
    headers {
      name
      value
    }
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<RequestUploadMutation, RequestUploadMutationVariables>;
export const ConfirmUploadDocument = new TypedDocumentString(`
    mutation ConfirmUpload($uploadId: ID!) {
  confirmUpload(uploadId: $uploadId) {
    ...JobSummary
  }
}
    fragment JobSummary on Job {
  id
  status
  progress
  attempts
  createdAt
  startedAt
  finishedAt
  error {
    code
    message
  }
  upload {
    id
    filename
    size
    contentType
  }
}`) as unknown as TypedDocumentString<ConfirmUploadMutation, ConfirmUploadMutationVariables>;
export const CancelJobDocument = new TypedDocumentString(`
    mutation CancelJob($id: ID!) {
  cancelJob(id: $id) {
    ...JobSummary
  }
}
    fragment JobSummary on Job {
  id
  status
  progress
  attempts
  createdAt
  startedAt
  finishedAt
  error {
    code
    message
  }
  upload {
    id
    filename
    size
    contentType
  }
}`) as unknown as TypedDocumentString<CancelJobMutation, CancelJobMutationVariables>;
export const JobsDocument = new TypedDocumentString(`
    query Jobs($first: Int!, $after: String) {
  jobs(first: $first, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      ...JobSummary
    }
  }
}
    fragment JobSummary on Job {
  id
  status
  progress
  attempts
  createdAt
  startedAt
  finishedAt
  error {
    code
    message
  }
  upload {
    id
    filename
    size
    contentType
  }
}`) as unknown as TypedDocumentString<JobsQuery, JobsQueryVariables>;
export const JobUpdatesDocument = new TypedDocumentString(`
    subscription JobUpdates($jobId: ID!) {
  jobUpdates(jobId: $jobId) {
    ...JobSummary
  }
}
    fragment JobSummary on Job {
  id
  status
  progress
  attempts
  createdAt
  startedAt
  finishedAt
  error {
    code
    message
  }
  upload {
    id
    filename
    size
    contentType
  }
}`) as unknown as TypedDocumentString<JobUpdatesSubscription, JobUpdatesSubscriptionVariables>;
export const LimitsDocument = new TypedDocumentString(`
    query Limits {
  limits {
    maxUploadBytes
    uploadUrlTtlSeconds
  }
}
    `) as unknown as TypedDocumentString<LimitsQuery, LimitsQueryVariables>;
export const DeleteUploadDocument = new TypedDocumentString(`
    mutation DeleteUpload($id: ID!) {
  deleteUpload(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteUploadMutation, DeleteUploadMutationVariables>;
export const ViewerDocument = new TypedDocumentString(`
    query Viewer {
  viewer {
    id
    login
    name
    authenticatedBy
  }
}
    `) as unknown as TypedDocumentString<ViewerQuery, ViewerQueryVariables>;
export const JobResultDocument = new TypedDocumentString(`
    query JobResult($id: ID!) {
  job(id: $id) {
    id
    status
    progress
    attempts
    error {
      code
      message
    }
    createdAt
    startedAt
    finishedAt
    upload {
      id
      filename
      size
      contentType
      format
      delimiter
    }
    result {
      __typename
      ... on TableProfile {
        format
        compression
        delimiter
        quote
        hasHeader
        lineEnding
        encoding
        bom
        bytesRead
        decompressedBytes
        rowCount
        columnCount
        malformedRowCount
        malformedExamples {
          line
          reason
        }
        quantileRankError
        distinctRelativeError
        columns {
          name
          inferredType
          typeShare
          typeCounts {
            integer
            float
            boolean
            date
            datetime
            string
          }
          count
          nonNullCount
          nullCount
          emptyCount
          distinctCount
          distinctExact
          numeric {
            min
            max
            mean
            stdDev
            sum
            zeroCount
            negativeCount
            quantiles {
              p1
              p5
              p25
              p50
              p75
              p95
              p99
            }
            histogram {
              lower
              upper
              count
            }
          }
          temporal {
            min
            max
            mean
            quantiles {
              p1
              p5
              p25
              p50
              p75
              p95
              p99
            }
            histogram {
              lower
              upper
              count
            }
          }
          boolean {
            trueCount
            falseCount
          }
          lengths {
            min
            max
            mean
            histogram {
              lower
              upper
              count
            }
          }
          minText
          maxText
          topValues {
            value
            count
          }
          topValuesErrorBound
          samples
          junkExamples {
            line
            value
          }
        }
      }
      ... on FileSummary {
        size
        sha256
        mediaType
      }
    }
  }
}
    `) as unknown as TypedDocumentString<JobResultQuery, JobResultQueryVariables>;