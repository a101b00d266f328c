import { useEffect } from "preact/hooks";
import { SignInPage } from "./auth/SignInPage";
import { UserMenu } from "./auth/UserMenu";
import { useSession } from "./auth/useSession";
import { ConnectionBanner } from "./connection";
import { HomePage } from "./pages/home";
import { JobsPage } from "./pages/jobs";
import { ResultPage } from "./pages/result";
import { type Route, interceptLinks, useRoute } from "./router";

const TITLES = { home: "Loupe", jobs: "Jobs · Loupe", result: "Profile · Loupe", "not-found": "Not found · Loupe" };

export function App() {
  const route = useRoute();
  const session = useSession();
  useEffect(() => interceptLinks(), []);
  useEffect(() => {
    document.title = session.status === "signed-out" ? "Sign in · Loupe" : TITLES[route.page];
  }, [route, session.status]);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          <svg aria-hidden="true" viewBox="0 0 32 32" width="22" height="22">
            <circle cx="13" cy="13" r="9" fill="none" stroke="currentColor" stroke-width="4" />
            <path d="M20 20l8 8" stroke="currentColor" stroke-width="4" stroke-linecap="round" />
          </svg>
          Loupe
        </a>
        <nav aria-label="Main">
          <a href="/" aria-current={route.page === "home" ? "page" : undefined}>
            Upload
          </a>
          <a href="/jobs" aria-current={route.page === "jobs" ? "page" : undefined}>
            Jobs
          </a>
          <a href="/graphql">GraphiQL</a>
        </nav>
        {session.status === "signed-in" && <UserMenu viewer={session.viewer} />}
      </header>
      <ConnectionBanner />
      <main id="main" tabIndex={-1}>
        {session.status === "signed-out" && <SignInPage ended={session.ended} />}
        {(session.status === "signed-in" || session.status === "unknown") && <Pages route={route} />}
      </main>
    </>
  );
}

function Pages({ route }: { route: Route }) {
  return (
    <>
      {route.page === "home" && <HomePage />}
      {route.page === "jobs" && <JobsPage after={route.after} />}
      {route.page === "result" && <ResultPage jobId={route.jobId} />}
      {route.page === "not-found" && (
        <section class="empty">
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href="/">Upload a file</a> or see{" "}
            <a href="/jobs">your jobs</a>.
          </p>
        </section>
      )}
    </>
  );
}
