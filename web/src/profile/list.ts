// Which column cards show, in what order: search by name, filter by type,
// sort by a measure. The state round-trips through the URL query string so
// a filtered view can be shared.
import type { ColumnProfile, ColumnType } from "./query";
import { COLUMN_TYPES, nullShare } from "./column";

export const SORT_KEYS = ["position", "name", "nulls", "distinct", "typeShare"] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDirection = "asc" | "desc";

export const SORT_LABELS: Record<SortKey, string> = {
  position: "Position",
  name: "Name",
  nulls: "Nulls",
  distinct: "Distinct values",
  typeShare: "Type share",
};

export interface ListState {
  query: string;
  type: ColumnType | null;
  sort: SortKey;
  direction: SortDirection;
}

export const DEFAULT_LIST_STATE: ListState = { query: "", type: null, sort: "position", direction: "asc" };

export function isDefaultListState(state: ListState): boolean {
  return state.query === "" && state.type === null && state.sort === "position" && state.direction === "asc";
}

function isSortKey(value: string | null): value is SortKey {
  return (SORT_KEYS as readonly string[]).includes(value ?? "");
}

function isColumnType(value: string | null): value is ColumnType {
  return (COLUMN_TYPES as string[]).includes(value ?? "");
}

/** Reads `?q=&type=&sort=&dir=`; anything unknown falls back to the default. */
export function parseListState(search: string): ListState {
  const params = new URLSearchParams(search);
  const type = params.get("type");
  const sort = params.get("sort");
  return {
    query: params.get("q") ?? "",
    type: isColumnType(type) ? type : null,
    sort: isSortKey(sort) ? sort : "position",
    direction: params.get("dir") === "desc" ? "desc" : "asc",
  };
}

/** Writes the state into `search`, leaving other parameters alone and defaults out. */
export function serializeListState(state: ListState, search = ""): string {
  const params = new URLSearchParams(search);
  const set = (key: string, value: string | null) => (value ? params.set(key, value) : params.delete(key));
  set("q", state.query);
  set("type", state.type);
  set("sort", state.sort === "position" ? null : state.sort);
  set("dir", state.direction === "desc" ? "desc" : null);
  const text = params.toString();
  return text ? `?${text}` : "";
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

type Measure = (column: ColumnProfile, index: number) => number;

const MEASURES: Record<Exclude<SortKey, "name">, Measure> = {
  position: (_column, index) => index,
  nulls: (column) => nullShare(column),
  distinct: (column) => column.distinctCount,
  typeShare: (column) => column.typeShare,
};

/** Positions of the columns to show, in order; ties keep the file's order. */
export function visibleColumns(columns: ColumnProfile[], state: ListState): number[] {
  const needle = state.query.trim().toLocaleLowerCase();
  const indices: number[] = [];
  columns.forEach((column, index) => {
    if (state.type && column.inferredType !== state.type) return;
    if (needle && !column.name.toLocaleLowerCase().includes(needle)) return;
    indices.push(index);
  });
  const sign = state.direction === "asc" ? 1 : -1;
  if (state.sort === "name") {
    indices.sort((a, b) => sign * collator.compare(columns[a].name, columns[b].name) || a - b);
  } else {
    const measure = MEASURES[state.sort];
    indices.sort((a, b) => sign * (measure(columns[a], a) - measure(columns[b], b)) || a - b);
  }
  return indices;
}

/** How many columns have each type, for the type filter's options. */
export function typeCounts(columns: ColumnProfile[]): Map<ColumnType, number> {
  const counts = new Map<ColumnType, number>();
  for (const column of columns) counts.set(column.inferredType, (counts.get(column.inferredType) ?? 0) + 1);
  return counts;
}
