// The one door to `POST /graphql`: typed by the generated documents, every
// failure turned into an ApiError with a stable code the UI can act on.
import { announceSignedOut } from "../auth/session";
import type { TypedDocumentString } from "../gql/graphql";
import { graphqlUrl } from "./urls";

/**
 * A failed request. `code` is the server's `extensions.code` (BAD_USER_INPUT,
 * NOT_FOUND, PAYLOAD_TOO_LARGE, …) or, for failures before an answer,
 * NETWORK (no connection), SERVER (an HTTP error) or ABORTED.
 */
export class ApiError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }
}

interface GraphqlResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  signal?: AbortSignal,
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch(graphqlUrl(), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: document.toString(), variables }),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw new ApiError("ABORTED", "Cancelled.");
    throw new ApiError("NETWORK", `Cannot reach the server (${String(error)}).`);
  }
  let body: GraphqlResponse<TResult>;
  try {
    body = (await response.json()) as GraphqlResponse<TResult>;
  } catch {
    throw new ApiError("SERVER", `The server answered ${response.status} ${response.statusText}.`);
  }
  const first = body.errors?.[0];
  if (first?.extensions?.code === "UNAUTHENTICATED") announceSignedOut();
  if (first) throw new ApiError(first.extensions?.code ?? "INTERNAL", first.message);
  if (!response.ok || body.data == null) {
    throw new ApiError("SERVER", `The server answered ${response.status} ${response.statusText}.`);
  }
  return body.data;
}
