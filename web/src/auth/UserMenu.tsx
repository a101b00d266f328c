import { useState } from "preact/hooks";
import { signOut } from "./session";
import type { Viewer } from "./useSession";

/**
 * Who is signed in, and a way out (not for the local user, who cannot sign
 * out). No avatar: the page loads nothing from other origins.
 */
export function UserMenu({ viewer }: { viewer: Viewer }) {
  const [leaving, setLeaving] = useState(false);
  return (
    <div class="user-menu" data-testid="user-menu">
      <span data-testid="viewer-login" title={viewer.name ?? undefined}>
        {viewer.login}
      </span>
      {viewer.authenticatedBy === "SESSION" && (
        <button
          type="button"
          class="button"
          disabled={leaving}
          onClick={() => {
            setLeaving(true);
            signOut().finally(() => setLeaving(false));
          }}
        >
          Sign out
        </button>
      )}
    </div>
  );
}
