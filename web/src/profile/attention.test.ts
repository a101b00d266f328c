import { describe, expect, it } from "vitest";
import { attentionItems, columnAttention, groupAttention } from "./attention";
import { column } from "./fixtures";

const counts = { integer: 0, float: 0, boolean: 0, date: 0, datetime: 0, string: 0 };

describe("columnAttention", () => {
  it("flags a column where every value is null, and nothing else about it", () => {
    const items = columnAttention(
      column({ inferredType: "EMPTY", nullCount: 100, nonNullCount: 0, distinctCount: 0, typeShare: 0 }),
      0,
    );
    expect(items.map((i) => i.kind)).toEqual(["all-null"]);
    expect(items[0].anchor).toBe("column-1");
  });

  it("flags all-null by counts even if a type was inferred", () => {
    const items = columnAttention(column({ nullCount: 100, nonNullCount: 0, distinctCount: 0 }), 0);
    expect(items.map((i) => i.kind)).toEqual(["all-null"]);
  });

  it("says nothing about a column of a file with no rows", () => {
    expect(columnAttention(column({ inferredType: "EMPTY", count: 0, nonNullCount: 0 }), 0)).toEqual([]);
  });

  it("flags a constant column, nulls aside", () => {
    const items = columnAttention(
      column({ nullCount: 40, nonNullCount: 60, distinctCount: 1, topValues: [{ value: "yes", count: 60 }] }),
      2,
    );
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      kind: "constant",
      severity: "info",
      message: 'Constant apart from 40 nulls: "yes".',
    });
  });

  it("does not call a one-row column constant", () => {
    expect(columnAttention(column({ count: 1, nonNullCount: 1, distinctCount: 1 }), 0)).toEqual([]);
  });

  it("flags junk values with the share that fits", () => {
    const mild = columnAttention(
      column({
        inferredType: "FLOAT",
        nonNullCount: 10_000,
        typeShare: 0.9998,
        typeCounts: { ...counts, float: 9998, string: 2 },
      }),
      0,
    );
    expect(mild[0]).toMatchObject({ kind: "junk", severity: "info", message: "99.98% float, 2 junk values." });
    const bad = columnAttention(
      column({
        inferredType: "INTEGER",
        nonNullCount: 100,
        typeShare: 0.96,
        typeCounts: { ...counts, integer: 96, string: 4 },
      }),
      0,
    );
    expect(bad[0].severity).toBe("warn");
  });

  it("flags string columns where nearly every value is unique", () => {
    const id = column({ nonNullCount: 1000, distinctCount: 990, distinctExact: false });
    expect(columnAttention(id, 0).map((i) => i.kind)).toEqual(["high-cardinality"]);
    expect(columnAttention(id, 0)[0].message).toBe("99% unique values: likely an identifier.");
  });

  it("leaves small or numeric unique columns alone", () => {
    expect(columnAttention(column({ nonNullCount: 50, distinctCount: 50 }), 0)).toEqual([]);
    expect(columnAttention(column({ nonNullCount: 1000, distinctCount: 940 }), 0)).toEqual([]);
    const ints = column({
      inferredType: "INTEGER",
      nonNullCount: 1000,
      distinctCount: 1000,
      typeCounts: { ...counts, integer: 1000 },
    });
    expect(columnAttention(ints, 0)).toEqual([]);
  });
});

describe("attentionItems", () => {
  it("puts malformed rows first, then by severity, kind and position", () => {
    const items = attentionItems({
      malformedRowCount: 3,
      columns: [
        column({ name: "id", nonNullCount: 1000, count: 1000, distinctCount: 1000 }),
        column({ name: "same", distinctCount: 1 }),
        column({ name: "blank", inferredType: "EMPTY", nullCount: 100, nonNullCount: 0, distinctCount: 0 }),
        column({ name: "ok" }),
      ],
    });
    expect(items.map((i) => [i.kind, i.subject])).toEqual([
      ["malformed-rows", null],
      ["all-null", "blank"],
      ["constant", "same"],
      ["high-cardinality", "id"],
    ]);
    expect(items[0]).toMatchObject({ anchor: "malformed-rows", message: "3 malformed rows were skipped." });
  });

  it("is empty for a clean profile", () => {
    expect(attentionItems({ malformedRowCount: 0, columns: [column()] })).toEqual([]);
  });

  it("groups by kind with each group's worst severity", () => {
    const groups = groupAttention(
      attentionItems({
        malformedRowCount: 0,
        columns: [
          column({
            inferredType: "FLOAT",
            nonNullCount: 1000,
            typeShare: 0.999,
            typeCounts: { ...counts, float: 999, string: 1 },
          }),
          column({
            inferredType: "FLOAT",
            nonNullCount: 100,
            typeShare: 0.9,
            typeCounts: { ...counts, float: 90, string: 10 },
          }),
          column({ distinctCount: 1 }),
        ],
      }),
    );
    expect(groups.map((g) => [g.kind, g.severity, g.items.length])).toEqual([
      ["junk", "warn", 2],
      ["constant", "info", 1],
    ]);
    expect(groups[0].items.map((i) => i.column)).toEqual([1, 0]);
  });
});
