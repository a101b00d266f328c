// Starts a real Loupe (the binary cargo built, with the web app embedded)
// on the embedded defaults: its own data folder, SQLite, the in-process S3
// store. Tests can stop it (kill -9 included) and start it again on the
// same port and data, as a crash or a restart would.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function loupeBinary() {
  const bin = process.env.LOUPE_BIN;
  if (!bin) throw new Error("LOUPE_BIN must name the loupe binary (cargo test sets it)");
  return bin;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export class Loupe {
  /** `env` adds to the environment, e.g. a sign-in provider's `LOUPE_OIDC_*`. */
  static async start(args = [], env = {}) {
    const loupe = new Loupe(await freePort(), mkdtempSync(join(tmpdir(), "loupe-e2e-")));
    loupe.env = env;
    await loupe.start(args);
    return loupe;
  }

  constructor(port, dataDir) {
    this.port = port;
    this.dataDir = dataDir;
    this.url = `http://127.0.0.1:${port}`;
    this.log = [];
    this.env = {};
  }

  async start(args = []) {
    this.process = spawn(loupeBinary(), ["--listen", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, ...args], {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk) => {
      this.log.push(chunk.toString());
      if (this.log.length > 400) this.log.shift();
    };
    this.process.stdout.on("data", keep);
    this.process.stderr.on("data", keep);
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.exited = exited;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const ready = await fetch(`${this.url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      if (this.process.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Loupe did not become ready:\n${this.log.join("")}`);
  }

  /** Stops the process: SIGTERM for a clean shutdown, SIGKILL for a crash. */
  async stop(signal = "SIGTERM") {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.kill(signal);
    await this.exited;
  }

  async dispose() {
    await this.stop("SIGKILL");
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
