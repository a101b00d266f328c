import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { numericColumn } from "./fixtures";
import { columnHistogram, type Histogram } from "./histogram";
import { HistogramChart } from "./Histogram";

let root: HTMLElement;

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

const histogram = columnHistogram(
  numericColumn(
    [
      { lower: 0, upper: 10, count: 1 },
      { lower: 10, upper: 20, count: 3 },
      { lower: 20, upper: 30, count: 0 },
    ],
    { p50: 15 },
  ),
) as Histogram;

function hits(): SVGRectElement[] {
  return [...root.querySelectorAll<SVGRectElement>("rect.hit")];
}

function key(target: Element, name: string) {
  act(() => {
    target.dispatchEvent(new KeyboardEvent("keydown", { key: name, bubbles: true }));
  });
}

describe("HistogramChart", () => {
  it("gives every bin an accessible name and one tab stop", () => {
    act(() => render(<HistogramChart histogram={histogram} name="price" />, root));
    expect(root.querySelector("[data-testid=histogram] svg")?.getAttribute("aria-label")).toBe(
      "Histogram of price by value, 3 bins",
    );
    expect(hits().map((h) => h.getAttribute("aria-label"))).toEqual([
      "0 – 10: 1 value (25%)",
      "10 – 20: 3 values (75%)",
      "20 – 30: 0 values (0%)",
    ]);
    expect(hits().map((h) => h.getAttribute("tabindex"))).toEqual(["0", "-1", "-1"]);
    expect(root.querySelectorAll("line.mark")).toHaveLength(7);
  });

  it("moves between bins with the arrow keys and shows the focused bin", () => {
    act(() => render(<HistogramChart histogram={histogram} name="price" />, root));
    act(() => hits()[0].focus());
    key(hits()[0], "ArrowRight");
    expect(document.activeElement).toBe(hits()[1]);
    expect(hits().map((h) => h.getAttribute("tabindex"))).toEqual(["-1", "0", "-1"]);
    expect(root.querySelector(".chart-tooltip")?.textContent).toBe("10 – 203 values (75%)");
    key(hits()[1], "End");
    expect(document.activeElement).toBe(hits()[2]);
    key(hits()[2], "ArrowRight");
    expect(document.activeElement).toBe(hits()[2]);
    key(hits()[2], "Home");
    expect(document.activeElement).toBe(hits()[0]);
  });

  it("shows a tooltip on hover and hides it when the pointer leaves", () => {
    act(() => render(<HistogramChart histogram={histogram} name="price" />, root));
    act(() => {
      hits()[2].dispatchEvent(new PointerEvent("pointerenter"));
    });
    expect(root.querySelector(".chart-tooltip strong")?.textContent).toBe("20 – 30");
    act(() => {
      root.querySelector("svg")?.dispatchEvent(new PointerEvent("pointerleave"));
    });
    expect(root.querySelector(".chart-tooltip")).toBeNull();
  });
});
