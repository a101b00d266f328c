// The "Attention" summary: columns (and table facts) worth a look before
// anything else. Pure, so the rules are pinned by unit tests.
import type { ColumnProfile, TableProfile } from "./query";
import { columnAnchor, columnLabel, describeFit, junkCount, uniqueness } from "./column";
import { formatCount, formatShare } from "../format";

export type AttentionKind = "malformed-rows" | "all-null" | "junk" | "constant" | "high-cardinality";
export type Severity = "bad" | "warn" | "info";

export interface AttentionItem {
  kind: AttentionKind;
  severity: Severity;
  /** The column's position, or null for the table as a whole. */
  column: number | null;
  /** What to show, e.g. the column's name; null for table items. */
  subject: string | null;
  message: string;
  /** Fragment of the card or section it points to (without "#"). */
  anchor: string;
}

/** Above this share of distinct values a string column is likely an identifier. */
export const HIGH_CARDINALITY_SHARE = 0.95;
/** Fewer values than this say nothing about cardinality. */
export const HIGH_CARDINALITY_MIN_VALUES = 50;

export const MALFORMED_ANCHOR = "malformed-rows";

type TableFields = Pick<TableProfile, "malformedRowCount"> & { columns: ColumnProfile[] };

const SEVERITY_ORDER: Record<Severity, number> = { bad: 0, warn: 1, info: 2 };
const KIND_ORDER: Record<AttentionKind, number> = {
  "malformed-rows": 0,
  "all-null": 1,
  junk: 2,
  constant: 3,
  "high-cardinality": 4,
};

/** What a column's card should warn about, most serious first; [] when nothing. */
export function columnAttention(column: ColumnProfile, index: number): AttentionItem[] {
  const items: AttentionItem[] = [];
  const subject = columnLabel(column.name, index);
  const item = (kind: AttentionKind, severity: Severity, message: string): AttentionItem => ({
    kind,
    severity,
    column: index,
    subject,
    message,
    anchor: columnAnchor(index),
  });
  if (column.count === 0) return items;
  if (column.inferredType === "EMPTY" || column.nullCount >= column.count) {
    items.push(item("all-null", "warn", "Every value is null."));
    return items;
  }
  const junk = junkCount(column);
  if (column.typeShare < 1 && junk > 0) {
    const severity = column.typeShare < 0.99 ? "warn" : "info";
    items.push(item("junk", severity, `${describeFit(column)}.`));
  }
  // One row makes every column constant; that says nothing.
  if (column.distinctCount === 1 && column.nonNullCount > 1) {
    const nulls = column.nullCount > 0 ? ` apart from ${formatCount(column.nullCount)} nulls` : "";
    const value = column.topValues[0]?.value;
    const shown = value === undefined ? "" : `: ${JSON.stringify(value)}`;
    items.push(item("constant", "info", `Constant${nulls}${shown}.`));
  }
  const unique = uniqueness(column);
  if (
    column.inferredType === "STRING" &&
    column.nonNullCount > HIGH_CARDINALITY_MIN_VALUES &&
    unique >= HIGH_CARDINALITY_SHARE
  ) {
    items.push(item("high-cardinality", "info", `${formatShare(unique)} unique values: likely an identifier.`));
  }
  return items;
}

/** Every attention item of a profile, most serious first, then by column position. */
export function attentionItems(profile: TableFields): AttentionItem[] {
  const items: AttentionItem[] = [];
  if (profile.malformedRowCount > 0) {
    const n = profile.malformedRowCount;
    items.push({
      kind: "malformed-rows",
      severity: "bad",
      column: null,
      subject: null,
      message: `${formatCount(n)} malformed ${n === 1 ? "row was" : "rows were"} skipped.`,
      anchor: MALFORMED_ANCHOR,
    });
  }
  profile.columns.forEach((column, index) => items.push(...columnAttention(column, index)));
  return items.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      (a.column ?? -1) - (b.column ?? -1),
  );
}

export const KIND_TITLES: Record<AttentionKind, string> = {
  "malformed-rows": "Malformed rows",
  "all-null": "All null",
  junk: "Values that do not fit the type",
  constant: "Constant",
  "high-cardinality": "High cardinality",
};

export interface AttentionGroup {
  kind: AttentionKind;
  severity: Severity;
  items: AttentionItem[];
}

/** Items grouped by kind, keeping the order of `attentionItems`; a group's severity is its worst item's. */
export function groupAttention(items: AttentionItem[]): AttentionGroup[] {
  const groups = new Map<AttentionKind, AttentionGroup>();
  for (const item of items) {
    const group = groups.get(item.kind);
    if (!group) groups.set(item.kind, { kind: item.kind, severity: item.severity, items: [item] });
    else {
      group.items.push(item);
      if (SEVERITY_ORDER[item.severity] < SEVERITY_ORDER[group.severity]) group.severity = item.severity;
    }
  }
  return [...groups.values()].sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || KIND_ORDER[a.kind] - KIND_ORDER[b.kind],
  );
}
