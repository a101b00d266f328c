// The real OpenID Connect provider the Rust tests use (tests/oidc: the
// oidc-provider package), started for the browser to sign in through.
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const DIR = join(import.meta.dirname, "..", "..", "tests", "oidc");
export const CLIENT_ID = "loupe-test";

function ensureInstalled() {
  const installed = join(DIR, "node_modules", ".package-lock.json");
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(DIR, "package-lock.json")).mtimeMs) return;
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: DIR, stdio: "inherit" });
}

export class OidcProvider {
  static async start() {
    ensureInstalled();
    const secret = `client-secret-${randomUUID()}`;
    const child = spawn("node", ["provider.mjs"], {
      cwd: DIR,
      env: { ...process.env, CLIENT_ID, CLIENT_SECRET: secret },
      stdio: ["pipe", "pipe", "ignore"],
    });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise((resolve, reject) => {
      lines.once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the provider exited with ${code}`)));
    });
    // Its development pages print to stdout: keep reading.
    lines.on("line", () => {});
    return new OidcProvider(child, JSON.parse(first).issuer, secret);
  }

  constructor(child, issuer, secret) {
    this.child = child;
    this.issuer = issuer;
    this.secret = secret;
  }

  /** Loupe's environment for this provider, named `test`. */
  loupeEnv() {
    return {
      LOUPE_OIDC_TEST_ISSUER: this.issuer,
      LOUPE_OIDC_TEST_CLIENT_ID: CLIENT_ID,
      LOUPE_OIDC_TEST_CLIENT_SECRET: this.secret,
    };
  }

  stop() {
    this.child.kill();
  }
}
