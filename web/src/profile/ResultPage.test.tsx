import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConnectionState, JobWatchHandlers } from "../api/live";
import { ResultPage } from "../pages/result";
import { POLL_MS } from "./useJobResult";
import { column, job, numericColumn, tableProfile } from "./fixtures";
import type { ResultJob } from "./query";

const api = vi.hoisted(() => ({
  request: vi.fn(),
  watchJob: vi.fn(),
  stop: vi.fn(),
  connection: "connecting" as ConnectionState,
}));

vi.mock("../api/client", async (original) => ({
  ...(await original<typeof import("../api/client")>()),
  request: api.request,
}));

vi.mock("../api/live", () => ({
  watchJob: api.watchJob,
  live: () => ({
    onConnectionChange(listener: (state: ConnectionState) => void) {
      listener(api.connection);
      return () => {};
    },
  }),
}));

const { ApiError } = await import("../api/client");

let root: HTMLElement;

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
  api.watchJob.mockReturnValue(api.stop);
  // Charts wait for an IntersectionObserver; without one they draw at once.
  vi.stubGlobal("IntersectionObserver", undefined);
  history.replaceState(null, "", "/jobs/0b0e5a2e-4a7e-4c1b-9a39-1f7f1c1d2e3f");
});

afterEach(() => {
  api.connection = "connecting";
  vi.useRealTimers();
  render(null, root);
  root.remove();
  vi.unstubAllGlobals();
  vi.clearAllMocks();
});

async function settle() {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

async function show(jobId = "0b0e5a2e-4a7e-4c1b-9a39-1f7f1c1d2e3f") {
  act(() => render(<ResultPage jobId={jobId} />, root));
  await settle();
}

const profile = tableProfile(
  [
    numericColumn(
      [
        { lower: 0, upper: 10, count: 4 },
        { lower: 10, upper: 20, count: 6 },
      ],
      {},
      { name: "price" },
    ),
    column({ name: "city", count: 10, nonNullCount: 10, topValues: [{ value: "Oslo", count: 6 }] }),
    column({ name: "nothing", inferredType: "EMPTY", count: 10, nonNullCount: 0, nullCount: 10, distinctCount: 0 }),
  ],
  { malformedRowCount: 1, malformedExamples: [{ line: 7, reason: "3 fields, expected 2" }] },
);

function answer(value: ResultJob | null) {
  api.request.mockResolvedValueOnce({ job: value });
}

describe("ResultPage", () => {
  it("shows a finished profile without opening a live watch", async () => {
    answer(job({ result: profile }));
    await show();
    expect(root.querySelector("[data-testid=result-ready] h1")?.textContent).toBe("sales.csv");
    expect(root.querySelectorAll("[data-testid=column-card]")).toHaveLength(3);
    expect(root.querySelectorAll("[data-testid=histogram]")).toHaveLength(1);
    expect(root.querySelectorAll("[data-testid=top-values]")).toHaveLength(1);
    expect(root.querySelector(".attention-summary")?.textContent).toContain("1 malformed row was skipped.");
    expect(root.querySelector(".attention-summary")?.textContent).toContain("nothing");
    expect(root.textContent).toContain("3 fields, expected 2");
    expect(api.watchJob).not.toHaveBeenCalled();
    expect(api.request).toHaveBeenCalledWith(
      expect.anything(),
      { id: "0b0e5a2e-4a7e-4c1b-9a39-1f7f1c1d2e3f" },
      expect.any(AbortSignal),
    );
  });

  it("keeps headings in order", async () => {
    answer(job({ result: profile }));
    await show();
    const levels = [...root.querySelectorAll("h1, h2, h3, h4, h5, h6")].map((h) => Number(h.tagName[1]));
    expect(levels[0]).toBe(1);
    levels.forEach((level, i) => {
      if (i > 0) expect(level - levels[i - 1]).toBeLessThanOrEqual(1);
    });
  });

  it("follows a running job live and fetches the result when it succeeds", async () => {
    answer(job({ status: "RUNNING", progress: 0.25, finishedAt: null }));
    await show();
    expect(root.querySelector("progress")?.getAttribute("value")).toBe("0.25");
    expect(root.textContent).toContain("25% read");
    const handlers = api.watchJob.mock.calls[0][1] as JobWatchHandlers;
    const summary = { ...job(), status: "RUNNING" as const, progress: 0.5, finishedAt: null };
    act(() => handlers.next(summary));
    expect(root.textContent).toContain("50% read");
    answer(job({ result: profile }));
    act(() => handlers.next({ ...summary, status: "SUCCEEDED", progress: 1 }));
    expect(root.textContent).toContain("Loading the profile…");
    await settle();
    expect(root.querySelector("[data-testid=result-ready]")).not.toBeNull();
    expect(api.request).toHaveBeenCalledTimes(2);
  });

  it("shows why a job failed, with a way to upload again", async () => {
    answer(job({ status: "FAILED", error: { code: "UNREADABLE_FILE", message: "line 3812: unclosed quote" } }));
    await show();
    const alert = root.querySelector("[role=alert]");
    expect(alert?.textContent).toContain("line 3812: unclosed quote");
    expect(alert?.textContent).toContain("UNREADABLE_FILE");
    expect(alert?.querySelector("a")?.getAttribute("href")).toBe("/");
  });

  it("says when a job was cancelled", async () => {
    answer(job({ status: "CANCELLED" }));
    await show();
    expect(root.textContent).toContain("This job was cancelled");
  });

  it("says when the job does not exist", async () => {
    answer(null);
    await show();
    expect(root.querySelector("h1")?.textContent).toBe("Job not found");
  });

  it("offers a retry after a network error", async () => {
    api.request.mockRejectedValueOnce(new ApiError("NETWORK", "Cannot reach the server."));
    await show();
    expect(root.querySelector("[role=alert]")?.textContent).toContain("cannot be reached");
    answer(job({ result: profile }));
    act(() => root.querySelector<HTMLButtonElement>("[role=alert] button")?.click());
    await settle();
    expect(root.querySelector("[data-testid=result-ready]")).not.toBeNull();
  });

  it("shows the facts of a file that is not a table", async () => {
    answer(job({ result: { __typename: "FileSummary", size: 2048, sha256: "ab".repeat(32), mediaType: "image/png" } }));
    await show();
    expect(root.querySelector("[data-testid=result-ready]")?.textContent).toContain("image/png");
    expect(root.textContent).toContain("2 KiB");
  });

  it("filters cards and keeps the filter in the URL", async () => {
    answer(job({ result: profile }));
    await show();
    const search = root.querySelector<HTMLInputElement>("input[type=search]");
    if (!search) throw new Error("no search box");
    act(() => {
      search.value = "pri";
      search.dispatchEvent(new Event("input", { bubbles: true }));
    });
    expect(root.querySelectorAll("[data-testid=column-card]")).toHaveLength(1);
    expect(location.search).toBe("?q=pri");
    expect(root.textContent).toContain("Showing 1 of 3 columns");
  });

  it("jumps from an attention item to a card hidden by the filter", async () => {
    history.replaceState(null, "", "/jobs/0b0e5a2e-4a7e-4c1b-9a39-1f7f1c1d2e3f?q=pri");
    answer(job({ result: profile }));
    await show();
    expect(root.querySelectorAll("[data-testid=column-card]")).toHaveLength(1);
    const link = [...root.querySelectorAll<HTMLAnchorElement>(".attention-summary a")].find(
      (a) => a.textContent === "nothing",
    );
    act(() => link?.click());
    expect(root.querySelectorAll("[data-testid=column-card]")).toHaveLength(3);
    expect(location.hash).toBe("#column-3");
    expect(location.search).toBe("");
    expect(document.activeElement?.id).toBe("column-3");
  });

  it("builds a wide profile's cards over a few frames", async () => {
    const wide = tableProfile(Array.from({ length: 300 }, (_, i) => column({ name: `c${i}` })));
    answer(job({ result: wide }));
    await show();
    const count = () => root.querySelectorAll("[data-testid=column-card]").length;
    expect(count()).toBeLessThan(300);
    await vi.waitFor(() => expect(count()).toBe(300));
  });

  it("opens at the card named in the URL's hash, however far down", async () => {
    history.replaceState(null, "", "/jobs/0b0e5a2e-4a7e-4c1b-9a39-1f7f1c1d2e3f#column-290");
    answer(job({ result: tableProfile(Array.from({ length: 300 }, (_, i) => column({ name: `c${i}` }))) }));
    await show();
    expect(document.activeElement?.id).toBe("column-290");
  });

  it("copies a column as JSON and says so", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    vi.stubGlobal("isSecureContext", true);
    answer(job({ result: profile }));
    await show();
    act(() => root.querySelector<HTMLButtonElement>("[aria-label='Copy JSON of city']")?.click());
    await settle();
    expect(JSON.parse(writeText.mock.calls[0][0] as string)).toEqual(profile.columns[1]);
    expect(root.querySelector(".profile-toast")?.textContent).toBe("Copied the profile of “city” as JSON.");
  });

  it("falls back to execCommand where the Clipboard API is missing", async () => {
    vi.stubGlobal("isSecureContext", false);
    const exec = vi.fn().mockReturnValue(true);
    Object.defineProperty(document, "execCommand", { value: exec, configurable: true });
    answer(job({ result: profile }));
    await show();
    act(() => root.querySelector<HTMLButtonElement>("[aria-label='Copy JSON of price']")?.click());
    await settle();
    expect(exec).toHaveBeenCalledWith("copy");
    expect(root.querySelector(".profile-toast")?.textContent).toBe("Copied the profile of “price” as JSON.");
  });

  it("downloads the whole profile under the upload's name", async () => {
    const createObjectURL = vi.fn().mockReturnValue("blob:profile");
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() }));
    const clicks: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this.download);
    });
    answer(job({ result: profile }));
    await show();
    act(() => [...root.querySelectorAll("button")].find((b) => b.textContent === "Download JSON")?.click());
    expect(clicks).toEqual(["sales.profile.json"]);
    const blob = createObjectURL.mock.calls[0][0] as Blob;
    expect(JSON.parse(await blob.text()).profile.columns).toHaveLength(3);
    click.mockRestore();
  });

  it("polls while live updates are down, and ends with the result", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    answer(job({ status: "RUNNING", progress: 0.1, finishedAt: null }));
    await show();
    answer(job({ result: profile }));
    act(() => {
      vi.advanceTimersByTime(POLL_MS);
    });
    await settle();
    expect(root.querySelector("[data-testid=result-ready]")).not.toBeNull();
    expect(api.stop).toHaveBeenCalled();
  });

  it("does not poll while live updates are connected", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    api.connection = "connected";
    answer(job({ status: "PENDING", progress: 0, startedAt: null, finishedAt: null }));
    await show();
    act(() => {
      vi.advanceTimersByTime(3 * POLL_MS);
    });
    await settle();
    expect(api.request).toHaveBeenCalledTimes(1);
    expect(root.textContent).toContain("Waiting for a worker");
  });
});
