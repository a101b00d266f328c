import { describe, expect, it } from "vitest";
import { topValues } from "./topValues";

describe("topValues", () => {
  it("shares counts out of the rows and sizes bars by the largest", () => {
    const top = topValues({
      count: 200,
      topValuesErrorBound: 0,
      topValues: [
        { value: "a", count: 100 },
        { value: "b", count: 50 },
      ],
    });
    expect(top.rows.map((r) => [r.share, r.length])).toEqual([
      [0.5, 1],
      [0.25, 0.5],
    ]);
    expect(top.covered).toBe(0.75);
    expect(top.errorNote).toBeNull();
    expect(top.rows[0].description).toBe("a: 100 (50%)");
  });

  it("folds a list where no value stands out, like an id's", () => {
    const ids = Array.from({ length: 10 }, (_, i) => ({ value: String(i), count: 1 }));
    expect(topValues({ count: 40_000, topValuesErrorBound: 0, topValues: ids }).flat).toBe(true);
    // Few rows: even single counts are worth showing.
    expect(topValues({ count: 200, topValuesErrorBound: 0, topValues: ids }).flat).toBe(false);
    // One value in a hundred is a real pattern.
    const city = [{ value: "Oslo", count: 400 }];
    expect(topValues({ count: 40_000, topValuesErrorBound: 0, topValues: city }).flat).toBe(false);
  });

  it("states the error bound when counts are estimates", () => {
    const top = topValues({ count: 10, topValuesErrorBound: 1234, topValues: [{ value: "x", count: 5 }] });
    expect(top.errorNote).toBe("Counts may be low by at most 1,234.");
  });

  it("never lets the shares add up to more than 100%", () => {
    const top = topValues({
      count: 10,
      topValuesErrorBound: 0,
      topValues: [
        { value: "a", count: 8 },
        { value: "b", count: 7 },
      ],
    });
    const total = top.rows.reduce((s, r) => s + r.share, 0);
    expect(total).toBeLessThanOrEqual(1);
    expect(top.covered).toBe(1);
  });

  it("makes empty and blank values visible", () => {
    const top = topValues({
      count: 3,
      topValuesErrorBound: 0,
      topValues: [
        { value: "", count: 2 },
        { value: "  ", count: 1 },
      ],
    });
    expect(top.rows.map((r) => [r.text, r.placeholder])).toEqual([
      ["(empty)", true],
      ["(2 blank)", true],
    ]);
  });

  it("handles a column with no rows", () => {
    const top = topValues({ count: 0, topValuesErrorBound: 0, topValues: [] });
    expect(top).toEqual({ rows: [], covered: 0, errorNote: null, flat: false });
  });
});
