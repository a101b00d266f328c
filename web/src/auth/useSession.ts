import { useEffect, useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import type { ViewerQuery as ViewerResult } from "../gql/graphql";
import { ViewerQuery, onSignedOut } from "./session";

export type Viewer = ViewerResult["viewer"];

export type Session =
  | { status: "loading" }
  | { status: "signed-in"; viewer: Viewer }
  /** The viewer could not be read (the server is unreachable): the pages say so themselves. */
  | { status: "unknown" }
  /** `ended`: the person was signed in during this visit and no longer is. */
  | { status: "signed-out"; ended: boolean };

export function useSession(): Session {
  const [session, setSession] = useState<Session>({ status: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    request(ViewerQuery, {}, controller.signal).then(
      ({ viewer }) => setSession({ status: "signed-in", viewer }),
      (error: unknown) => {
        if (error instanceof ApiError && error.code === "ABORTED") return;
        const unauthenticated = error instanceof ApiError && error.code === "UNAUTHENTICATED";
        setSession(unauthenticated ? { status: "signed-out", ended: false } : { status: "unknown" });
      },
    );
    const stop = onSignedOut(() =>
      setSession((current) => ({ status: "signed-out", ended: current.status !== "signed-out" || current.ended })),
    );
    return () => {
      controller.abort();
      stop();
    };
  }, []);
  return session;
}
