import { describe, expect, it } from "vitest";
import { columnAnchor, columnIndexOf, columnLabel, describeFit, formatDistinct, junkCount } from "./column";
import { column } from "./fixtures";

const counts = { integer: 0, float: 0, boolean: 0, date: 0, datetime: 0, string: 0 };

describe("describeFit", () => {
  it("says how many values fit and how many are junk", () => {
    const c = column({
      inferredType: "FLOAT",
      nonNullCount: 10_000,
      typeShare: 0.9998,
      typeCounts: { ...counts, integer: 4000, float: 5998, string: 2 },
    });
    expect(junkCount(c)).toBe(2);
    expect(describeFit(c)).toBe("99.98% float, 2 junk values");
  });

  it("counts dates as fitting datetimes, but not floats as fitting integers", () => {
    const dt = column({
      inferredType: "DATETIME",
      nonNullCount: 10,
      typeCounts: { ...counts, date: 3, datetime: 7 },
    });
    expect(describeFit(dt)).toBe("100% datetime");
    const int = column({
      inferredType: "INTEGER",
      nonNullCount: 100,
      typeShare: 0.99,
      typeCounts: { ...counts, integer: 99, boolean: 1 },
    });
    expect(describeFit(int)).toBe("99% integer, 1 junk value");
  });

  it("calls an empty column all null", () => {
    expect(describeFit(column({ inferredType: "EMPTY", nonNullCount: 0, typeShare: 0 }))).toBe("all null");
  });
});

describe("labels", () => {
  it("marks estimated distinct counts", () => {
    expect(formatDistinct({ distinctCount: 12345, distinctExact: false })).toBe("≈ 12,345");
    expect(formatDistinct({ distinctCount: 3, distinctExact: true })).toBe("3");
  });

  it("names columns by position where the header is empty", () => {
    expect(columnLabel("", 2)).toBe("(unnamed column 3)");
    expect(columnLabel("id", 0)).toBe("id");
    expect(columnAnchor(0)).toBe("column-1");
    expect(columnIndexOf(columnAnchor(41))).toBe(41);
    expect(columnIndexOf("column-0")).toBeNull();
    expect(columnIndexOf("malformed-rows")).toBeNull();
  });
});
