import type { CodegenConfig } from "@graphql-codegen/cli";

// Operation types come from the server's committed schema; `npm run
// codegen:check` (part of the test run) fails when they are stale or an
// operation no longer matches the schema.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.ts", "src/**/*.tsx", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { Int64: "number", DateTime: "string" },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
