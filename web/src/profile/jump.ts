// In-page links (attention items, the malformed-row count). The app's router
// would treat them as navigation and scroll to the top, and a card may be
// hidden by the filter or not built yet, so the page handles the jump.
import type { JSX } from "preact";

export type Jump = (anchor: string) => void;

/** A click handler for a link to `#anchor` that leaves modified clicks (new tab…) to the browser. */
export function jumpOnClick(anchor: string, jump: Jump) {
  return (event: JSX.TargetedMouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    jump(anchor);
  };
}
