// The result page's one query: the job with its upload and, once it has
// SUCCEEDED, the whole profile. It lives here, not in api/operations.ts,
// because only this page pays for its size.
import { graphql } from "../gql";
import type { JobResultQuery } from "../gql/graphql";

export const JobResultDocument = graphql(`
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
`);

export type ResultJob = NonNullable<JobResultQuery["job"]>;
export type JobResult = NonNullable<ResultJob["result"]>;
export type TableProfile = Extract<JobResult, { __typename: "TableProfile" }>;
export type FileSummary = Extract<JobResult, { __typename: "FileSummary" }>;
export type ColumnProfile = TableProfile["columns"][number];
export type ColumnType = ColumnProfile["inferredType"];
