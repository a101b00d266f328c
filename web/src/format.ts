// Number, share, size and time formatting for the profile view. Pure and
// locale-fixed ("en-US" grouping) so cards read the same everywhere and the
// tests can pin the output.

const formatters = new Map<string, Intl.NumberFormat>();

/** Intl.NumberFormat is slow to construct; 500 cards would build thousands. */
function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = JSON.stringify(options);
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat("en-US", options);
    formatters.set(key, format);
  }
  return format;
}

/** Whole counts with thousands separators: 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return numberFormat({ maximumFractionDigits: 0 }).format(n);
}

/** Beyond these magnitudes plain digits are unreadable; use e-notation. */
const LARGE = 1e15;
const SMALL = 1e-4;

/**
 * A measured value (min, mean, quantile…): integers exactly, other numbers
 * with about six significant digits, e-notation for huge and tiny ones.
 */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs >= LARGE || abs < SMALL) return formatExponential(x);
  if (Number.isInteger(x)) return formatCount(x);
  if (abs >= 1) {
    const intDigits = Math.floor(Math.log10(abs)) + 1;
    return numberFormat({ maximumFractionDigits: Math.max(0, 6 - intDigits) }).format(x);
  }
  return numberFormat({ maximumSignificantDigits: 4 }).format(x);
}

/** 1.2345e21 → "1.235e21"; trailing zeros of the mantissa dropped. */
function formatExponential(x: number): string {
  const [mantissa, exponent] = x.toExponential(3).split("e");
  const trimmed = mantissa.replace(/\.?0+$/, "");
  return `${trimmed}e${exponent.replace("+", "")}`;
}

/**
 * A share in [0, 1] as a percentage with one decimal, trailing zeros
 * dropped, and more decimals when rounding would claim 0% or 100% for a
 * share that is neither: 0.9998 → "99.98%", never "100%".
 */
export function formatShare(share: number): string {
  if (!(share > 0)) return "0%";
  if (share >= 1) return "100%";
  const percent = share * 100;
  for (let digits = 1; digits <= 4; digits++) {
    const text = percent.toFixed(digits);
    const value = Number(text);
    if (value > 0 && value < 100) return `${stripZeros(text)}%`;
  }
  return percent < 50 ? "<0.0001%" : ">99.9999%";
}

function stripZeros(fixed: string): string {
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** `part` of `whole` as a share, 0 when there is no whole. */
export function shareOf(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, Math.max(0, part / whole)) : 0;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** Binary units, three significant digits: 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!(bytes >= 1024)) return `${formatCount(Math.max(0, bytes))} B`;
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${stripZeros(value.toFixed(digits))} ${BYTE_UNITS[unit]}`;
}

/** Elapsed time for people: "850 ms", "12.4 s", "3 min 5 s", "2 h 4 min". */
export function formatDuration(ms: number): string {
  if (!(ms >= 0)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${stripZeros(seconds.toFixed(1))} s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${whole % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Milliseconds between two RFC 3339 timestamps, or null if either is missing. */
export function elapsedMs(from: string | null, to: string | null): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * A temporal value as the server wrote it (ISO 8601), for reading: a
 * midnight time of day dropped (bins of whole days read "2024-03-01"), and
 * a space instead of the "T" so long timestamps wrap between date and time.
 */
export function formatTemporal(iso: string): string {
  return iso.replace(/T00:00:00(\.000)?Z$/, "").replace(/^(\d{4,}-\d{2}-\d{2})T/, "$1 ");
}

/** Milliseconds since the epoch for a server timestamp or date; NaN if unreadable. */
export function parseTemporal(iso: string): number {
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T00:00:00Z` : iso);
}

/** A value as text people can see: empty and blank strings made visible. */
export function displayValue(value: string): string {
  if (value === "") return "(empty)";
  if (value.trim() === "") return `(${value.length} blank)`;
  return value;
}
