/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment JobSummary on Job {\n    id\n    status\n    progress\n    attempts\n    createdAt\n    startedAt\n    finishedAt\n    error {\n      code\n      message\n    }\n    upload {\n      id\n      filename\n      size\n      contentType\n    }\n  }\n": typeof types.JobSummaryFragmentDoc,
    "\n  mutation RequestUpload($input: RequestUploadInput!) {\n    requestUpload(input: $input) {\n      upload {\n        id\n      }\n      url\n      method\n      headers {\n        name\n        value\n      }\n      expiresAt\n    }\n  }\n": typeof types.RequestUploadDocument,
    "\n  mutation ConfirmUpload($uploadId: ID!) {\n    confirmUpload(uploadId: $uploadId) {\n      ...JobSummary\n    }\n  }\n": typeof types.ConfirmUploadDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobSummary\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  query Jobs($first: Int!, $after: String) {\n    jobs(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        ...JobSummary\n      }\n    }\n  }\n": typeof types.JobsDocument,
    "\n  subscription JobUpdates($jobId: ID!) {\n    jobUpdates(jobId: $jobId) {\n      ...JobSummary\n    }\n  }\n": typeof types.JobUpdatesDocument,
    "\n  query Limits {\n    limits {\n      maxUploadBytes\n      uploadUrlTtlSeconds\n    }\n  }\n": typeof types.LimitsDocument,
    "\n  mutation DeleteUpload($id: ID!) {\n    deleteUpload(id: $id)\n  }\n": typeof types.DeleteUploadDocument,
    "\n  query Viewer {\n    viewer {\n      id\n      login\n      name\n      authenticatedBy\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  query JobResult($id: ID!) {\n    job(id: $id) {\n      id\n      status\n      progress\n      attempts\n      error {\n        code\n        message\n      }\n      createdAt\n      startedAt\n      finishedAt\n      upload {\n        id\n        filename\n        size\n        contentType\n        format\n        delimiter\n      }\n      result {\n        __typename\n        ... on TableProfile {\n          format\n          compression\n          delimiter\n          quote\n          hasHeader\n          lineEnding\n          encoding\n          bom\n          bytesRead\n          decompressedBytes\n          rowCount\n          columnCount\n          malformedRowCount\n          malformedExamples {\n            line\n            reason\n          }\n          quantileRankError\n          distinctRelativeError\n          columns {\n            name\n            inferredType\n            typeShare\n            typeCounts {\n              integer\n              float\n              boolean\n              date\n              datetime\n              string\n            }\n            count\n            nonNullCount\n            nullCount\n            emptyCount\n            distinctCount\n            distinctExact\n            numeric {\n              min\n              max\n              mean\n              stdDev\n              sum\n              zeroCount\n              negativeCount\n              quantiles {\n                p1\n                p5\n                p25\n                p50\n                p75\n                p95\n                p99\n              }\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            temporal {\n              min\n              max\n              mean\n              quantiles {\n                p1\n                p5\n                p25\n                p50\n                p75\n                p95\n                p99\n              }\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            boolean {\n              trueCount\n              falseCount\n            }\n            lengths {\n              min\n              max\n              mean\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            minText\n            maxText\n            topValues {\n              value\n              count\n            }\n            topValuesErrorBound\n            samples\n            junkExamples {\n              line\n              value\n            }\n          }\n        }\n        ... on FileSummary {\n          size\n          sha256\n          mediaType\n        }\n      }\n    }\n  }\n": typeof types.JobResultDocument,
};
const documents: Documents = {
    "\n  fragment JobSummary on Job {\n    id\n    status\n    progress\n    attempts\n    createdAt\n    startedAt\n    finishedAt\n    error {\n      code\n      message\n    }\n    upload {\n      id\n      filename\n      size\n      contentType\n    }\n  }\n": types.JobSummaryFragmentDoc,
    "\n  mutation RequestUpload($input: RequestUploadInput!) {\n    requestUpload(input: $input) {\n      upload {\n        id\n      }\n      url\n      method\n      headers {\n        name\n        value\n      }\n      expiresAt\n    }\n  }\n": types.RequestUploadDocument,
    "\n  mutation ConfirmUpload($uploadId: ID!) {\n    confirmUpload(uploadId: $uploadId) {\n      ...JobSummary\n    }\n  }\n": types.ConfirmUploadDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobSummary\n    }\n  }\n": types.CancelJobDocument,
    "\n  query Jobs($first: Int!, $after: String) {\n    jobs(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        ...JobSummary\n      }\n    }\n  }\n": types.JobsDocument,
    "\n  subscription JobUpdates($jobId: ID!) {\n    jobUpdates(jobId: $jobId) {\n      ...JobSummary\n    }\n  }\n": types.JobUpdatesDocument,
    "\n  query Limits {\n    limits {\n      maxUploadBytes\n      uploadUrlTtlSeconds\n    }\n  }\n": types.LimitsDocument,
    "\n  mutation DeleteUpload($id: ID!) {\n    deleteUpload(id: $id)\n  }\n": types.DeleteUploadDocument,
    "\n  query Viewer {\n    viewer {\n      id\n      login\n      name\n      authenticatedBy\n    }\n  }\n": types.ViewerDocument,
    "\n  query JobResult($id: ID!) {\n    job(id: $id) {\n      id\n      status\n      progress\n      attempts\n      error {\n        code\n        message\n      }\n      createdAt\n      startedAt\n      finishedAt\n      upload {\n        id\n        filename\n        size\n        contentType\n        format\n        delimiter\n      }\n      result {\n        __typename\n        ... on TableProfile {\n          format\n          compression\n          delimiter\n          quote\n          hasHeader\n          lineEnding\n          encoding\n          bom\n          bytesRead\n          decompressedBytes\n          rowCount\n          columnCount\n          malformedRowCount\n          malformedExamples {\n            line\n            reason\n          }\n          quantileRankError\n          distinctRelativeError\n          columns {\n            name\n            inferredType\n            typeShare\n            typeCounts {\n              integer\n              float\n              boolean\n              date\n              datetime\n              string\n            }\n            count\n            nonNullCount\n            nullCount\n            emptyCount\n            distinctCount\n            distinctExact\n            numeric {\n              min\n              max\n              mean\n              stdDev\n              sum\n              zeroCount\n              negativeCount\n              quantiles {\n                p1\n                p5\n                p25\n                p50\n                p75\n                p95\n                p99\n              }\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            temporal {\n              min\n              max\n              mean\n              quantiles {\n                p1\n                p5\n                p25\n                p50\n                p75\n                p95\n                p99\n              }\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            boolean {\n              trueCount\n              falseCount\n            }\n            lengths {\n              min\n              max\n              mean\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            minText\n            maxText\n            topValues {\n              value\n              count\n            }\n            topValuesErrorBound\n            samples\n            junkExamples {\n              line\n              value\n            }\n          }\n        }\n        ... on FileSummary {\n          size\n          sha256\n          mediaType\n        }\n      }\n    }\n  }\n": types.JobResultDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobSummary on Job {\n    id\n    status\n    progress\n    attempts\n    createdAt\n    startedAt\n    finishedAt\n    error {\n      code\n      message\n    }\n    upload {\n      id\n      filename\n      size\n      contentType\n    }\n  }\n"): typeof import('./graphql').JobSummaryFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestUpload($input: RequestUploadInput!) {\n    requestUpload(input: $input) {\n      upload {\n        id\n      }\n      url\n      method\n      headers {\n        name\n        value\n      }\n      expiresAt\n    }\n  }\n"): typeof import('./graphql').RequestUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmUpload($uploadId: ID!) {\n    confirmUpload(uploadId: $uploadId) {\n      ...JobSummary\n    }\n  }\n"): typeof import('./graphql').ConfirmUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobSummary\n    }\n  }\n"): typeof import('./graphql').CancelJobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Jobs($first: Int!, $after: String) {\n    jobs(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        ...JobSummary\n      }\n    }\n  }\n"): typeof import('./graphql').JobsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobUpdates($jobId: ID!) {\n    jobUpdates(jobId: $jobId) {\n      ...JobSummary\n    }\n  }\n"): typeof import('./graphql').JobUpdatesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Limits {\n    limits {\n      maxUploadBytes\n      uploadUrlTtlSeconds\n    }\n  }\n"): typeof import('./graphql').LimitsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteUpload($id: ID!) {\n    deleteUpload(id: $id)\n  }\n"): typeof import('./graphql').DeleteUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      id\n      login\n      name\n      authenticatedBy\n    }\n  }\n"): typeof import('./graphql').ViewerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobResult($id: ID!) {\n    job(id: $id) {\n      id\n      status\n      progress\n      attempts\n      error {\n        code\n        message\n      }\n      createdAt\n      startedAt\n      finishedAt\n      upload {\n        id\n        filename\n        size\n        contentType\n        format\n        delimiter\n      }\n      result {\n        __typename\n        ... on TableProfile {\n          format\n          compression\n          delimiter\n          quote\n          hasHeader\n          lineEnding\n          encoding\n          bom\n          bytesRead\n          decompressedBytes\n          rowCount\n          columnCount\n          malformedRowCount\n          malformedExamples {\n            line\n            reason\n          }\n          quantileRankError\n          distinctRelativeError\n          columns {\n            name\n            inferredType\n            typeShare\n            typeCounts {\n              integer\n              float\n              boolean\n              date\n              datetime\n              string\n            }\n            count\n            nonNullCount\n            nullCount\n            emptyCount\n            distinctCount\n            distinctExact\n            numeric {\n              min\n              max\n              mean\n              stdDev\n              sum\n              zeroCount\n              negativeCount\n              quantiles {\n                p1\n                p5\n                p25\n                p50\n                p75\n                p95\n                p99\n              }\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            temporal {\n              min\n              max\n              mean\n              quantiles {\n                p1\n                p5\n                p25\n                p50\n                p75\n                p95\n                p99\n              }\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            boolean {\n              trueCount\n              falseCount\n            }\n            lengths {\n              min\n              max\n              mean\n              histogram {\n                lower\n                upper\n                count\n              }\n            }\n            minText\n            maxText\n            topValues {\n              value\n              count\n            }\n            topValuesErrorBound\n            samples\n            junkExamples {\n              line\n              value\n            }\n          }\n        }\n        ... on FileSummary {\n          size\n          sha256\n          mediaType\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').JobResultDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
