// The operations the app's shell, uploads and lists send. The result page
// keeps its own (bigger) query next to the code that draws it.
import { graphql } from "../gql";

export const JobSummaryFields = graphql(`
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
`);

export const RequestUploadMutation = graphql(`
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
`);

export const ConfirmUploadMutation = graphql(`
  mutation ConfirmUpload($uploadId: ID!) {
    confirmUpload(uploadId: $uploadId) {
      ...JobSummary
    }
  }
`);

export const CancelJobMutation = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobSummary
    }
  }
`);

export const JobsQuery = graphql(`
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
`);

export const JobUpdatesSubscription = graphql(`
  subscription JobUpdates($jobId: ID!) {
    jobUpdates(jobId: $jobId) {
      ...JobSummary
    }
  }
`);

export const LimitsQuery = graphql(`
  query Limits {
    limits {
      maxUploadBytes
      uploadUrlTtlSeconds
    }
  }
`);

export const DeleteUploadMutation = graphql(`
  mutation DeleteUpload($id: ID!) {
    deleteUpload(id: $id)
  }
`);
