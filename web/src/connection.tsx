// Tells the person when live updates are interrupted, and that they will
// resume by themselves.
import { useEffect, useState } from "preact/hooks";
import { type ConnectionState, live } from "./api/live";

export function ConnectionBanner() {
  const [state, setState] = useState<ConnectionState>("idle");
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => live().onConnectionChange(setState), []);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    addEventListener("online", update);
    addEventListener("offline", update);
    return () => {
      removeEventListener("online", update);
      removeEventListener("offline", update);
    };
  }, []);
  const message = !online
    ? "You are offline. Uploads and live updates resume when the connection is back."
    : state === "reconnecting"
      ? "Live updates interrupted: reconnecting…"
      : null;
  return (
    <div class="connection" role="status" data-testid="connection-banner" data-state={online ? state : "offline"}>
      {message && <div class="alert warn">{message}</div>}
    </div>
  );
}
