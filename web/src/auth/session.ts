// Who is signed in, and what happens when nobody is (any more): any request
// or live connection the server refuses as UNAUTHENTICATED announces it, and
// the app shows the sign-in page, which comes back to the same page after.
import { graphql } from "../gql";

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      id
      login
      name
      authenticatedBy
    }
  }
`);

export interface Provider {
  name: string;
  loginUrl: string;
}

export interface SignInOptions {
  providers: Provider[];
  /** No provider is configured: everyone is the local user. */
  singleUser: boolean;
}

export async function fetchProviders(): Promise<SignInOptions> {
  const response = await fetch("/auth/providers", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`The server answered ${response.status} ${response.statusText}.`);
  return (await response.json()) as SignInOptions;
}

/** Where a provider's sign-in starts, coming back to `returnTo` (this page by default). */
export function signInHref(provider: Provider, returnTo = location.pathname + location.search + location.hash): string {
  return `${provider.loginUrl}?${new URLSearchParams({ return_to: returnTo })}`;
}

/** A provider's name as people know it. */
export function providerLabel(name: string): string {
  const known: Record<string, string> = { github: "GitHub", google: "Google", gitlab: "GitLab" };
  return known[name] ?? name.charAt(0).toUpperCase() + name.slice(1);
}

const SIGNED_OUT = "loupe:signed-out";

export function announceSignedOut(): void {
  dispatchEvent(new Event(SIGNED_OUT));
}

export function onSignedOut(listener: () => void): () => void {
  addEventListener(SIGNED_OUT, listener);
  return () => removeEventListener(SIGNED_OUT, listener);
}

/** Ends the session on the server, then shows the sign-in page. */
export async function signOut(): Promise<void> {
  await fetch("/auth/logout", { method: "POST" });
  announceSignedOut();
}
