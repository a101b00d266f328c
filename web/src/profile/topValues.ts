// Top values → rows of a horizontal bar chart. Shares are of the column's
// rows; bar lengths are relative to the most frequent value so short tails
// stay readable.
import type { ColumnProfile } from "./query";
import { displayValue, formatCount, formatShare } from "../format";

export interface TopValueRow {
  value: string;
  /** The value as shown: empty and blank strings made visible. */
  text: string;
  /** Whether `text` stands in for an empty or blank value. */
  placeholder: boolean;
  count: number;
  share: number;
  /** Bar length, 0 to 1, relative to the first (largest) count. */
  length: number;
  description: string;
}

export interface TopValues {
  rows: TopValueRow[];
  /** Share of the rows the listed values cover together. */
  covered: number;
  /** "Counts may be low by at most N", or null when the counts are exact. */
  errorNote: string | null;
  /**
   * No value stands out (each covers under 0.1% of 1,000+ rows, as in an
   * id or a measurement): the list is arbitrary, so it is shown folded.
   */
  flat: boolean;
}

/** Below this share of the rows a most-frequent value is noise. */
export const FLAT_SHARE = 0.001;

export function topValues(column: Pick<ColumnProfile, "topValues" | "topValuesErrorBound" | "count">): TopValues {
  const values = column.topValues;
  const sum = values.reduce((s, v) => s + v.count, 0);
  // The counts come from a sketch; should they ever add up to more than the
  // rows, share them out of their sum so nothing passes 100%.
  const whole = Math.max(column.count, sum);
  const max = values.reduce((m, v) => Math.max(m, v.count), 0);
  const rows = values.map((v) => {
    const share = whole > 0 ? v.count / whole : 0;
    const text = displayValue(v.value);
    return {
      value: v.value,
      text,
      placeholder: text !== v.value,
      count: v.count,
      share,
      length: max > 0 ? v.count / max : 0,
      description: `${text}: ${formatCount(v.count)} (${formatShare(share)})`,
    };
  });
  const bound = column.topValuesErrorBound;
  return {
    rows,
    covered: whole > 0 ? sum / whole : 0,
    errorNote: bound > 0 ? `Counts may be low by at most ${formatCount(bound)}.` : null,
    flat: whole >= 1000 && max < whole * FLAT_SHARE,
  };
}
