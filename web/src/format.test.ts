import { describe, expect, it } from "vitest";
import {
  displayValue,
  elapsedMs,
  formatBytes,
  formatCount,
  formatDuration,
  formatNumber,
  formatShare,
  formatTemporal,
  parseTemporal,
  shareOf,
} from "./format";

describe("formatNumber", () => {
  it("shows integers exactly, with grouping", () => {
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(7)).toBe("7");
    expect(formatNumber(-1234567)).toBe("-1,234,567");
    expect(formatNumber(999_999_999_999_999)).toBe("999,999,999,999,999");
  });

  it("keeps about six significant digits for fractions", () => {
    expect(formatNumber(3.14159265)).toBe("3.14159");
    expect(formatNumber(499.5)).toBe("499.5");
    expect(formatNumber(1234.56789)).toBe("1,234.57");
    expect(formatNumber(1234567.89)).toBe("1,234,568");
    expect(formatNumber(0.1)).toBe("0.1");
    expect(formatNumber(0.000123456)).toBe("0.0001235");
  });

  it("switches to e-notation for huge and tiny magnitudes", () => {
    expect(formatNumber(1.2346e21)).toBe("1.235e21");
    expect(formatNumber(1e15)).toBe("1e15");
    expect(formatNumber(-2.5e-7)).toBe("-2.5e-7");
    expect(formatNumber(Number.MAX_VALUE)).toBe("1.798e308");
    expect(formatNumber(5e-324)).toBe("4.941e-324");
  });

  it("names non-finite values", () => {
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe("∞");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("−∞");
    expect(formatNumber(Number.NaN)).toBe("NaN");
  });
});

describe("formatShare", () => {
  it("uses one decimal and drops trailing zeros", () => {
    expect(formatShare(0.5)).toBe("50%");
    expect(formatShare(0.1234)).toBe("12.3%");
    expect(formatShare(0)).toBe("0%");
    expect(formatShare(1)).toBe("100%");
  });

  it("never rounds a partial share to 100% or 0%", () => {
    expect(formatShare(0.9998)).toBe("99.98%");
    expect(formatShare(0.99999)).toBe("99.999%");
    expect(formatShare(0.00002)).toBe("0.002%");
    expect(formatShare(1e-12)).toBe("<0.0001%");
    expect(formatShare(1 - 1e-12)).toBe(">99.9999%");
  });

  it("treats out-of-range and NaN input as the nearest bound", () => {
    expect(formatShare(Number.NaN)).toBe("0%");
    expect(formatShare(-0.2)).toBe("0%");
    expect(formatShare(1.5)).toBe("100%");
  });
});

describe("shareOf", () => {
  it("is 0 without a whole and clamped to [0, 1]", () => {
    expect(shareOf(3, 0)).toBe(0);
    expect(shareOf(3, 4)).toBe(0.75);
    expect(shareOf(5, 4)).toBe(1);
  });
});

describe("formatCount and formatBytes", () => {
  it("groups counts", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
  });

  it("uses binary units with about three significant digits", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1,023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(10 * 1024 * 1024 + 1)).toBe("10 MiB");
    expect(formatBytes(123.4 * 1024 ** 3)).toBe("123 GiB");
    expect(formatBytes(2 ** 60)).toBe("1 EiB");
  });
});

describe("durations", () => {
  it("reads like people write them", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_400)).toBe("12.4 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
    expect(formatDuration(7_440_000)).toBe("2 h 4 min");
    expect(formatDuration(-1)).toBe("—");
  });

  it("measures between timestamps, or not at all", () => {
    expect(elapsedMs("2026-01-01T00:00:00Z", "2026-01-01T00:00:02.5Z")).toBe(2500);
    expect(elapsedMs("2026-01-01T00:00:00Z", null)).toBeNull();
    expect(elapsedMs("garbage", "2026-01-01T00:00:00Z")).toBeNull();
  });
});

describe("temporal values", () => {
  it("drops a midnight time of day and wraps between date and time", () => {
    expect(formatTemporal("2024-03-01T00:00:00Z")).toBe("2024-03-01");
    expect(formatTemporal("2024-03-01T00:00:00.000Z")).toBe("2024-03-01");
    expect(formatTemporal("2024-03-01T12:30:00Z")).toBe("2024-03-01 12:30:00Z");
    expect(formatTemporal("2024-03-01T12:30:00.250Z")).toBe("2024-03-01 12:30:00.250Z");
    expect(formatTemporal("2024-03-01")).toBe("2024-03-01");
  });

  it("parses dates as UTC midnight", () => {
    expect(parseTemporal("1970-01-02")).toBe(86_400_000);
    expect(parseTemporal("1970-01-01T00:00:01.500Z")).toBe(1500);
    expect(parseTemporal("not a date")).toBeNaN();
  });
});

describe("displayValue", () => {
  it("makes empty and blank values visible", () => {
    expect(displayValue("")).toBe("(empty)");
    expect(displayValue("   ")).toBe("(3 blank)");
    expect(displayValue(" a ")).toBe(" a ");
  });
});
