import { useEffect, useState } from "preact/hooks";
import { type SignInOptions, fetchProviders, providerLabel, signInHref } from "./session";

/** Lists the configured providers; each signs in and comes back to this page. */
export function SignInPage({ ended }: { ended: boolean }) {
  const [options, setOptions] = useState<SignInOptions | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    fetchProviders().then(setOptions, (error: unknown) => setFailed(String(error)));
  }, []);
  return (
    <section class="sign-in" data-testid="sign-in">
      <h1>Sign in to Loupe</h1>
      {ended && (
        <p class="alert warn" role="status">
          Your session has ended. Sign in again to continue where you were.
        </p>
      )}
      {failed && <p class="alert bad">Cannot list the sign-in options: {failed}</p>}
      {options && options.providers.length === 0 && <p>No sign-in provider is configured on this server.</p>}
      {options && options.providers.length > 0 && (
        <ul class="providers">
          {options.providers.map((provider) => (
            <li key={provider.name}>
              <a class="button primary" href={signInHref(provider)}>
                Sign in with {providerLabel(provider.name)}
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
