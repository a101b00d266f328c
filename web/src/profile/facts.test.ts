import { describe, expect, it } from "vitest";
import { describeDelimiter, describeQuote, profileDocument, profileFilename } from "./facts";
import { column, job, tableProfile } from "./fixtures";

describe("file facts", () => {
  it("names delimiters, tab included", () => {
    expect(describeDelimiter("\t")).toBe("tab");
    expect(describeDelimiter(" ")).toBe("space");
    expect(describeDelimiter(",")).toBe(", (comma)");
    expect(describeDelimiter("#")).toBe("#");
    expect(describeDelimiter(null)).toBe("none");
    expect(describeQuote('"')).toBe('" (double quote)');
    expect(describeQuote(null)).toBe("none");
  });

  it("derives a safe download name from the upload's", () => {
    expect(profileFilename("sales.csv")).toBe("sales.profile.json");
    expect(profileFilename("logs.jsonl.gz")).toBe("logs.profile.json");
    expect(profileFilename("a:b/c?.tsv")).toBe("a_b_c_.profile.json");
    expect(profileFilename(".csv")).toBe("profile.profile.json");
    expect(profileFilename("README")).toBe("README.profile.json");
  });

  it("exports the job, the upload and the profile without GraphQL's typename", () => {
    const profile = tableProfile([column()]);
    const doc = profileDocument(job(), profile) as { profile: Record<string, unknown>; upload: { filename: string } };
    expect(doc.upload.filename).toBe("sales.csv");
    expect(doc.profile).not.toHaveProperty("__typename");
    expect(doc.profile.columns).toEqual(profile.columns);
  });
});
