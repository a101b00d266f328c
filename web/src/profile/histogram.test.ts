import { describe, expect, it } from "vitest";
import { column, numericColumn } from "./fixtures";
import { columnHistogram, type Histogram, histogramBars, MIN_BAR_HEIGHT, positionOf, quantileMarks } from "./histogram";

function histogramOf(...args: Parameters<typeof numericColumn>): Histogram {
  const h = columnHistogram(numericColumn(...args));
  if (!h) throw new Error("no histogram");
  return h;
}

describe("histogramBars", () => {
  it("lays bins out by index, tallest at full height", () => {
    const h = histogramOf([
      { lower: 0, upper: 10, count: 5 },
      { lower: 10, upper: 20, count: 10 },
      { lower: 20, upper: 30, count: 5 },
    ]);
    const bars = histogramBars(h, 300, 100, 0);
    expect(bars.map((b) => [b.x, b.width])).toEqual([
      [0, 100],
      [100, 100],
      [200, 100],
    ]);
    expect(bars.map((b) => b.height)).toEqual([50, 100, 50]);
    expect(bars[1].y).toBe(0);
    expect(bars.map((b) => b.share)).toEqual([0.25, 0.5, 0.25]);
    expect(bars[1].description).toBe("10 – 20: 10 values (50%)");
  });

  it("draws nothing for empty bins but keeps them in place", () => {
    const h = histogramOf([
      { lower: 0, upper: 1, count: 3 },
      { lower: 1, upper: 2, count: 0 },
      { lower: 2, upper: 3, count: 1 },
    ]);
    const bars = histogramBars(h, 300, 100);
    expect(bars[1].height).toBe(0);
    expect(bars[1].y).toBe(100);
    expect(bars[1].x).toBeCloseTo(100.5);
    expect(bars[1].description).toBe("1 – 2: 0 values (0%)");
  });

  it("keeps a tiny bin visible next to a huge one", () => {
    const h = histogramOf([
      { lower: 0, upper: 1, count: 1_000_000 },
      { lower: 1, upper: 2, count: 1 },
    ]);
    const bars = histogramBars(h, 300, 100);
    expect(bars[1].height).toBe(MIN_BAR_HEIGHT);
    expect(bars[1].amount).toBe("1 value (0.0001%)");
  });

  it("draws a single bin across the whole width", () => {
    const h = histogramOf([{ lower: 5, upper: 5, count: 42 }]);
    const [bar] = histogramBars(h, 300, 100, 1);
    expect(bar.width).toBeCloseTo(299);
    expect(bar.height).toBe(100);
    expect(bar.label).toBe("5");
    expect(bar.share).toBe(1);
  });

  it("drops the gap when bars get too thin for it", () => {
    const bins = Array.from({ length: 400 }, (_, i) => ({ lower: i, upper: i + 1, count: 1 }));
    const bars = histogramBars(histogramOf(bins), 300, 100, 1);
    expect(bars[0].width).toBeCloseTo(0.75);
    expect(bars[399].x + bars[399].width).toBeCloseTo(300);
  });

  it("survives a histogram with no values at all", () => {
    const h = histogramOf([{ lower: 0, upper: 1, count: 0 }]);
    const [bar] = histogramBars(h, 300, 100);
    expect(bar.height).toBe(0);
    expect(bar.share).toBe(0);
  });
});

describe("quantile marks", () => {
  const h = histogramOf(
    [
      { lower: 0, upper: 10, count: 1 },
      { lower: 10, upper: 20, count: 1 },
      { lower: 20, upper: 40, count: 1 },
    ],
    { p1: 0, p5: 5, p25: 10, p50: 15, p75: 30, p95: 40, p99: 40 },
  );

  it("interpolate within their bin, whatever its width", () => {
    const marks = quantileMarks(h, 300);
    expect(marks.map((m) => m.x)).toEqual([0, 50, 100, 150, 250, 300, 300]);
    expect(marks.find((m) => m.name === "p50")?.emphasis).toBe("median");
    expect(marks.find((m) => m.name === "p25")?.emphasis).toBe("quartile");
    expect(marks.find((m) => m.name === "p99")?.emphasis).toBe("tail");
  });

  it("are clamped into the drawn range", () => {
    expect(positionOf(h, -1e300, 300)).toBe(0);
    expect(positionOf(h, 1e300, 300)).toBe(300);
    expect(positionOf(h, Number.NaN, 300)).toBe(0);
  });

  it("sit in the middle of one-value bins", () => {
    const unit = histogramOf(
      [
        { lower: 1, upper: 1, count: 1 },
        { lower: 2, upper: 2, count: 2 },
        { lower: 3, upper: 3, count: 3 },
      ],
      { p50: 2 },
    );
    expect(positionOf(unit, 2, 300)).toBe(150);
    expect(positionOf(unit, 1, 300)).toBe(50);
  });

  it("sit in the middle when min == max", () => {
    const flat = histogramOf([{ lower: 7.25, upper: 7.25, count: 9 }], { p1: 7.25, p99: 7.25 });
    expect(quantileMarks(flat, 300).every((m) => m.x === 150)).toBe(true);
  });

  it("snap to the next bin's edge when they fall in a gap", () => {
    const gappy = histogramOf([
      { lower: 0, upper: 10, count: 1 },
      { lower: 100, upper: 200, count: 1 },
    ]);
    expect(positionOf(gappy, 50, 300)).toBe(150);
  });

  it("handle huge and tiny magnitudes", () => {
    const huge = histogramOf([
      { lower: -1e300, upper: 0, count: 1 },
      { lower: 0, upper: 1e300, count: 1 },
    ]);
    expect(positionOf(huge, 5e299, 200)).toBeCloseTo(150);
    const tiny = histogramOf([
      { lower: 1e-300, upper: 2e-300, count: 1 },
      { lower: 2e-300, upper: 3e-300, count: 1 },
    ]);
    expect(positionOf(tiny, 2.5e-300, 200)).toBeCloseTo(150);
    expect(histogramBars(tiny, 200, 100)[0].label).toBe("1e-300 – 2e-300");
  });
});

describe("columnHistogram", () => {
  it("uses temporal bins with calendar edges and date-only labels", () => {
    const h = columnHistogram(
      column({
        inferredType: "DATE",
        temporal: {
          min: "2024-01-03",
          max: "2024-03-20",
          mean: "2024-02-10",
          quantiles: {
            p1: "2024-01-03",
            p5: "2024-01-05",
            p25: "2024-01-16",
            p50: "2024-02-15",
            p75: "2024-03-01",
            p95: "2024-03-18",
            p99: "2024-03-20",
          },
          histogram: [
            { lower: "2024-01-01", upper: "2024-02-01", count: 10 },
            { lower: "2024-02-01", upper: "2024-03-01", count: 20 },
            { lower: "2024-03-01", upper: "2024-04-01", count: 10 },
          ],
        },
      }),
    );
    expect(h?.kind).toBe("temporal");
    expect(h?.lowLabel).toBe("2024-01-01");
    expect(h?.highLabel).toBe("2024-04-01");
    const marks = quantileMarks(h as Histogram, 300);
    // Jan has 31 days: the 16th is 15/31 of the way through the first bin.
    expect(marks.find((m) => m.name === "p25")?.x).toBeCloseTo((15 / 31) * 100);
    // Feb 2024 has 29 days: the 15th is 14/29 of the second bin.
    expect(marks.find((m) => m.name === "p50")?.x).toBeCloseTo(100 + (14 / 29) * 100);
    expect(marks.find((m) => m.name === "p75")?.x).toBeCloseTo(200);
  });

  it("keeps datetime bins but places no marks when edges do not parse", () => {
    const h = columnHistogram(
      column({
        inferredType: "DATETIME",
        temporal: {
          min: "x",
          max: "y",
          mean: "x",
          quantiles: { p1: "x", p5: "x", p25: "x", p50: "x", p75: "x", p95: "x", p99: "x" },
          histogram: [{ lower: "x", upper: "y", count: 3 }],
        },
      }),
    );
    expect(h?.bins).toHaveLength(1);
    expect(h?.quantiles).toEqual([]);
  });

  it("shows string lengths as inclusive character ranges", () => {
    const h = columnHistogram(
      column({
        lengths: {
          min: 1,
          max: 200,
          mean: 10,
          histogram: [
            { lower: 1, upper: 1, count: 5 },
            { lower: 2, upper: 4, count: 5 },
            { lower: 128, upper: 200, count: 1 },
          ],
        },
      }),
    );
    expect(h?.kind).toBe("length");
    expect(h?.bins.map((b) => b.label)).toEqual(["1 character", "2 – 4 characters", "128 – 200 characters"]);
    expect(h?.quantiles).toEqual([]);
  });

  it("has no histogram for booleans, empty columns or empty bins", () => {
    expect(columnHistogram(column({ inferredType: "BOOLEAN" }))).toBeNull();
    expect(columnHistogram(column({ inferredType: "EMPTY" }))).toBeNull();
    expect(columnHistogram(numericColumn([]))).toBeNull();
  });
});
