// Facts about one column that several parts of the page state the same way:
// how many values fit its type, the "99.98% float, 2 junk values" line, and
// null and distinct shares.
import type { ColumnProfile, ColumnType } from "./query";
import { formatCount, formatShare, shareOf } from "../format";

export const TYPE_NAMES: Record<ColumnType, string> = {
  INTEGER: "integer",
  FLOAT: "float",
  BOOLEAN: "boolean",
  DATE: "date",
  DATETIME: "datetime",
  STRING: "string",
  EMPTY: "empty",
};

/** The order types are offered in the type filter. */
export const COLUMN_TYPES: ColumnType[] = ["INTEGER", "FLOAT", "BOOLEAN", "DATE", "DATETIME", "STRING", "EMPTY"];

type FitFields = Pick<ColumnProfile, "inferredType" | "typeCounts" | "nonNullCount" | "typeShare">;

/** Non-null values that fit the inferred type (the same kinds the server counts). */
export function fittingCount(column: FitFields): number {
  const t = column.typeCounts;
  switch (column.inferredType) {
    case "INTEGER":
      return t.integer;
    case "FLOAT":
      return t.integer + t.float;
    case "BOOLEAN":
      return t.boolean;
    case "DATE":
      return t.date;
    case "DATETIME":
      return t.date + t.datetime;
    case "STRING":
      return column.nonNullCount;
    case "EMPTY":
      return 0;
  }
}

/** Non-null values that do not fit the inferred type. */
export function junkCount(column: FitFields): number {
  return Math.max(0, column.nonNullCount - fittingCount(column));
}

/** "100% integer", "99.98% float, 2 junk values", "all null". */
export function describeFit(column: FitFields): string {
  if (column.inferredType === "EMPTY") return "all null";
  const type = TYPE_NAMES[column.inferredType];
  const junk = junkCount(column);
  const share = formatShare(column.typeShare);
  if (junk === 0) return `${share} ${type}`;
  return `${share} ${type}, ${formatCount(junk)} junk ${junk === 1 ? "value" : "values"}`;
}

export function nullShare(column: Pick<ColumnProfile, "nullCount" | "count">): number {
  return shareOf(column.nullCount, column.count);
}

/** Distinct values per non-null value: near 1 means nearly every value is unique. */
export function uniqueness(column: Pick<ColumnProfile, "distinctCount" | "nonNullCount">): number {
  return shareOf(column.distinctCount, column.nonNullCount);
}

/** "1,234", or "≈ 1,234" when the server estimated it. */
export function formatDistinct(column: Pick<ColumnProfile, "distinctCount" | "distinctExact">): string {
  return `${column.distinctExact ? "" : "≈ "}${formatCount(column.distinctCount)}`;
}

/** The anchor of a column's card; by position, since names may repeat or be empty. */
export function columnAnchor(index: number): string {
  return `column-${index + 1}`;
}

/** The position `columnAnchor` made `anchor` from, or null for any other anchor. */
export function columnIndexOf(anchor: string): number | null {
  const match = /^column-([1-9]\d*)$/.exec(anchor);
  return match ? Number(match[1]) - 1 : null;
}

/** A name people can see, for columns whose header cell was empty. */
export function columnLabel(name: string, index: number): string {
  return name.trim() === "" ? `(unnamed column ${index + 1})` : name;
}
