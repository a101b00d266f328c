// Server-computed histogram bins → bar geometry, tooltips and quantile
// marks. Bars are laid out by index (every bin equally wide) because bins
// are not always equal in value: integer columns with a small range get one
// bin per value, dates get calendar months, string lengths get exact bins
// then power-of-two buckets with gaps. Quantile marks are placed by
// interpolating within the bin that holds them, so they line up with bars.
import type { ColumnProfile } from "./query";
import { formatCount, formatNumber, formatShare, formatTemporal, parseTemporal, shareOf } from "../format";

export type HistogramKind = "numeric" | "temporal" | "length";

/** One bin on a continuous axis: the values in `[from, to]`. */
interface AxisBin {
  from: number;
  to: number;
  count: number;
  label: string;
}

export interface Histogram {
  kind: HistogramKind;
  /** What the x axis measures, for captions and the accessible name. */
  axis: string;
  bins: AxisBin[];
  total: number;
  /** The first bin's lower and the last bin's upper edge, as text. */
  lowLabel: string;
  highLabel: string;
  /** Quantiles to mark, by name; values on the same axis as the bins. */
  quantiles: { name: QuantileName; value: number; label: string }[];
}

export const QUANTILE_NAMES = ["p1", "p5", "p25", "p50", "p75", "p95", "p99"] as const;
export type QuantileName = (typeof QUANTILE_NAMES)[number];

interface RawBin<T> {
  lower: T;
  upper: T;
  count: number;
}

/** "10 – 20", or "7" for a bin of one value. */
function rangeLabel(lower: string, upper: string, unit = ""): string {
  return lower === upper ? `${lower}${unit}` : `${lower} – ${upper}${unit}`;
}

function numericBins(bins: RawBin<number>[]): AxisBin[] {
  // One-value bins (integer columns with a small range, or min == max)
  // stand for the unit around their value so marks can sit inside them.
  return bins.map((b) => {
    const label = rangeLabel(formatNumber(b.lower), formatNumber(b.upper));
    return b.lower === b.upper
      ? { from: b.lower - 0.5, to: b.upper + 0.5, count: b.count, label }
      : { from: b.lower, to: b.upper, count: b.count, label };
  });
}

function temporalBins(bins: RawBin<string>[]): AxisBin[] {
  return bins.map((b) => ({
    from: parseTemporal(b.lower),
    to: parseTemporal(b.upper),
    count: b.count,
    label: rangeLabel(formatTemporal(b.lower), formatTemporal(b.upper)),
  }));
}

function lengthBins(bins: RawBin<number>[]): AxisBin[] {
  // Length bins hold whole lengths from lower to upper inclusive.
  return bins.map((b) => ({
    from: b.lower - 0.5,
    to: b.upper + 0.5,
    count: b.count,
    label: rangeLabel(formatCount(b.lower), formatCount(b.upper), b.upper === 1 ? " character" : " characters"),
  }));
}

function build(
  kind: HistogramKind,
  axis: string,
  bins: AxisBin[],
  lowLabel: string,
  highLabel: string,
  quantiles: Histogram["quantiles"],
): Histogram | null {
  if (bins.length === 0) return null;
  const total = bins.reduce((sum, b) => sum + b.count, 0);
  return { kind, axis, bins, total, lowLabel, highLabel, quantiles };
}

/** The histogram a column's card draws, or null when it has none. */
export function columnHistogram(column: ColumnProfile): Histogram | null {
  const { numeric, temporal, lengths } = column;
  if (numeric && numeric.histogram.length > 0) {
    const h = numeric.histogram;
    const quantiles = QUANTILE_NAMES.map((name) => ({
      name,
      value: numeric.quantiles[name],
      label: formatNumber(numeric.quantiles[name]),
    }));
    return build(
      "numeric",
      "value",
      numericBins(h),
      formatNumber(h[0].lower),
      formatNumber(h[h.length - 1].upper),
      quantiles,
    );
  }
  if (temporal && temporal.histogram.length > 0) {
    const h = temporal.histogram;
    const bins = temporalBins(h);
    // Years beyond 9999 do not parse; draw the bars but place no marks.
    const placeable = bins.every((b) => Number.isFinite(b.from) && Number.isFinite(b.to));
    const quantiles = QUANTILE_NAMES.map((name) => ({
      name,
      value: parseTemporal(temporal.quantiles[name]),
      label: formatTemporal(temporal.quantiles[name]),
    })).filter((q) => placeable && Number.isFinite(q.value));
    return build(
      "temporal",
      "time",
      bins,
      formatTemporal(h[0].lower),
      formatTemporal(h[h.length - 1].upper),
      quantiles,
    );
  }
  if (column.inferredType === "STRING" && lengths && lengths.histogram.length > 0) {
    const h = lengths.histogram;
    return build(
      "length",
      "length in characters",
      lengthBins(h),
      formatCount(h[0].lower),
      formatCount(h[h.length - 1].upper),
      [],
    );
  }
  return null;
}

export interface Bar {
  index: number;
  x: number;
  width: number;
  /** Top of the drawn bar; `height` 0 for an empty bin. */
  y: number;
  height: number;
  count: number;
  share: number;
  label: string;
  /** "35 values (3.5%)". */
  amount: string;
  /** "10 – 20: 35 values (3.5%)", the bar's accessible name. */
  description: string;
}

/** Bars never shrink below this, so a bin of 1 next to a bin of 10⁶ still shows. */
export const MIN_BAR_HEIGHT = 1.5;

/** Bar geometry in a `width` × `height` box, tallest bin at full height. */
export function histogramBars(histogram: Histogram, width: number, height: number, gap = 1): Bar[] {
  const n = histogram.bins.length;
  const step = width / n;
  const max = histogram.bins.reduce((m, b) => Math.max(m, b.count), 0);
  const barGap = step > 3 * gap ? gap : 0;
  return histogram.bins.map((bin, index) => {
    const h = max > 0 && bin.count > 0 ? Math.max(MIN_BAR_HEIGHT, (bin.count / max) * height) : 0;
    const share = shareOf(bin.count, histogram.total);
    const amount = `${formatCount(bin.count)} ${bin.count === 1 ? "value" : "values"} (${formatShare(share)})`;
    return {
      index,
      x: index * step + barGap / 2,
      width: step - barGap,
      y: height - h,
      height: h,
      count: bin.count,
      share,
      label: bin.label,
      amount,
      description: `${bin.label}: ${amount}`,
    };
  });
}

/**
 * Where `value` falls across `width`: interpolated within its bin, at the
 * edge between bins when it lies in a gap, clamped into the drawn range.
 */
export function positionOf(histogram: Histogram, value: number, width: number): number {
  const { bins } = histogram;
  const step = width / bins.length;
  if (!(value > bins[0].from)) return 0;
  for (let i = 0; i < bins.length; i++) {
    const { from, to } = bins[i];
    if (value < from) return i * step;
    if (value <= to) {
      const within = to > from ? (value - from) / (to - from) : 0.5;
      return (i + within) * step;
    }
  }
  return width;
}

export interface QuantileMark {
  name: QuantileName;
  x: number;
  label: string;
  /** The median and quartiles are drawn stronger than the tails. */
  emphasis: "median" | "quartile" | "tail";
}

export function quantileMarks(histogram: Histogram, width: number): QuantileMark[] {
  return histogram.quantiles.map((q) => ({
    name: q.name,
    x: positionOf(histogram, q.value, width),
    label: q.label,
    emphasis: q.name === "p50" ? "median" : q.name === "p25" || q.name === "p75" ? "quartile" : "tail",
  }));
}
