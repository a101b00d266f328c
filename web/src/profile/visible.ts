// Cards draw their charts only once they come near the viewport: with 500
// columns most cards are never seen, and their SVG would be thousands of
// nodes built for nothing. One observer serves every card.
import { useEffect, useState } from "preact/hooks";
import type { RefObject } from "preact";

const pending = new WeakMap<Element, () => void>();
let observer: IntersectionObserver | undefined;

function sharedObserver(): IntersectionObserver {
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const reveal = pending.get(entry.target);
        pending.delete(entry.target);
        observer?.unobserve(entry.target);
        reveal?.();
      }
    },
    // About a screen ahead, so charts are drawn before they scroll in.
    { rootMargin: "100% 0px" },
  );
  return observer;
}

/** Becomes true once the element has come within a screen of the viewport, and stays true. */
export function useSeen(ref: RefObject<Element>): boolean {
  const [seen, setSeen] = useState(() => typeof IntersectionObserver === "undefined");
  useEffect(() => {
    const element = ref.current;
    if (seen || !element) return;
    const io = sharedObserver();
    pending.set(element, () => setSeen(true));
    io.observe(element);
    return () => {
      pending.delete(element);
      io.unobserve(element);
    };
  }, [seen, ref]);
  return seen;
}
