// Client-side routes. The server answers every page URL with index.html,
// so these URLs can be bookmarked and shared.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "home" }
  | { page: "jobs"; after: string | null }
  | { page: "result"; jobId: string }
  | { page: "not-found"; path: string };

export function parseRoute(path: string, search = ""): Route {
  if (path === "/" || path === "") return { page: "home" };
  if (path === "/jobs" || path === "/jobs/") {
    return { page: "jobs", after: new URLSearchParams(search).get("after") };
  }
  const result = /^\/jobs\/([0-9a-fA-F-]{36})\/?$/.exec(path);
  if (result) return { page: "result", jobId: result[1].toLowerCase() };
  return { page: "not-found", path };
}

export function navigate(href: string): void {
  history.pushState(null, "", href);
  dispatchEvent(new PopStateEvent("popstate"));
  scrollTo(0, 0);
}

/** Same-origin left clicks on links navigate without a reload. */
export function interceptLinks(): () => void {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.("a");
    if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || parseRoute(url.pathname).page === "not-found") return;
    // A jump within the page is the browser's job.
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  };
  document.addEventListener("click", onClick);
  return () => document.removeEventListener("click", onClick);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname, location.search));
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return route;
}
