import { describe, expect, it } from "vitest";
import { column } from "./fixtures";
import { DEFAULT_LIST_STATE, parseListState, serializeListState, typeCounts, visibleColumns } from "./list";

const columns = [
  column({ name: "Price", inferredType: "FLOAT", nullCount: 5, distinctCount: 80, typeShare: 0.99 }),
  column({ name: "id", distinctCount: 100 }),
  column({ name: "price_2", inferredType: "FLOAT", nullCount: 50, distinctCount: 10 }),
  column({ name: "price_10", inferredType: "FLOAT", nullCount: 5, distinctCount: 3 }),
];

describe("visibleColumns", () => {
  it("keeps the file's order by default", () => {
    expect(visibleColumns(columns, DEFAULT_LIST_STATE)).toEqual([0, 1, 2, 3]);
  });

  it("searches names case-insensitively and filters by type", () => {
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, query: " PRICE " })).toEqual([0, 2, 3]);
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, type: "STRING" })).toEqual([1]);
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, type: "DATE" })).toEqual([]);
  });

  it("sorts names naturally and either way", () => {
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, sort: "name" })).toEqual([1, 0, 2, 3]);
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, sort: "name", direction: "desc" })).toEqual([3, 2, 0, 1]);
  });

  it("sorts by measures, ties in the file's order", () => {
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, sort: "nulls", direction: "desc" })).toEqual([2, 0, 3, 1]);
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, sort: "distinct" })).toEqual([3, 2, 0, 1]);
    expect(visibleColumns(columns, { ...DEFAULT_LIST_STATE, sort: "typeShare" })).toEqual([0, 1, 2, 3]);
  });
});

describe("URL state", () => {
  it("round-trips and leaves defaults and other parameters alone", () => {
    const state = { query: "a b", type: "FLOAT" as const, sort: "nulls" as const, direction: "desc" as const };
    const search = serializeListState(state, "?keep=1");
    expect(search).toBe("?keep=1&q=a+b&type=FLOAT&sort=nulls&dir=desc");
    expect(parseListState(search)).toEqual(state);
    expect(serializeListState(DEFAULT_LIST_STATE, "?q=x&sort=name")).toBe("");
  });

  it("falls back to defaults for unknown values", () => {
    expect(parseListState("?type=BLOB&sort=size&dir=up")).toEqual(DEFAULT_LIST_STATE);
  });
});

describe("typeCounts", () => {
  it("counts columns per type", () => {
    expect([...typeCounts(columns)]).toEqual([
      ["FLOAT", 3],
      ["STRING", 1],
    ]);
  });
});
