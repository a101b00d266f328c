// Seeded test files, written to a temporary folder.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "loupe-e2e-files-"));

function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A mixed CSV: integer id, float price with blanks, city names, dates. About `rows` × 40 bytes. */
export function mixedCsv(name, rows) {
  const next = random(7);
  const cities = ["Lisbon", "Oslo", "Quito", "Hanoi", "Accra", "Perth", "Lima", "Riga"];
  const lines = ["id,price,city,day"];
  for (let i = 1; i <= rows; i++) {
    const price = next() < 0.03 ? "" : (next() * 1000).toFixed(2);
    const city = cities[Math.floor(next() ** 2 * cities.length)];
    const day = `2026-${String(1 + Math.floor(next() * 12)).padStart(2, "0")}-${String(1 + Math.floor(next() * 28)).padStart(2, "0")}`;
    lines.push(`${i},${price},${city},${day}`);
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** A CSV whose last record opens a quote it never closes: the job fails with a reason. */
export function unclosedQuoteCsv(name) {
  const path = join(dir, name);
  writeFileSync(path, 'a,b\n1,2\n3,"never closed\n4,5\n');
  return path;
}

/** `columns` columns of different kinds, `rows` rows. */
export function wideCsv(name, columns, rows) {
  const next = random(11);
  const header = Array.from({ length: columns }, (_, c) => `col_${String(c).padStart(3, "0")}`);
  const lines = [header.join(",")];
  for (let r = 0; r < rows; r++) {
    const cells = header.map((_, c) => {
      switch (c % 5) {
        case 0:
          return String(Math.floor(next() * 1000));
        case 1:
          return (next() * 100).toFixed(3);
        case 2:
          return ["red", "green", "blue", "amber"][Math.floor(next() * 4)];
        case 3:
          return next() < 0.5 ? "" : "x";
        default:
          return r % 50 === 7 ? "oops" : String(r);
      }
    });
    lines.push(cells.join(","));
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}
