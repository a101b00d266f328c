// GraphiQL, bundled from npm so the playground works with no internet.
// Queries and mutations go over HTTP POST; subscriptions over the same
// websocket endpoint the app uses.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "graphql-ws";
import { graphqlUrl, websocketUrl } from "./api/urls";

const fetcher = createGraphiQLFetcher({
  url: graphqlUrl(),
  wsClient: createClient({ url: websocketUrl(), lazy: true, retryAttempts: Infinity }),
});

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    createElement(GraphiQL, { fetcher, defaultQuery: "{\n  viewer {\n    id\n    login\n  }\n}\n" }),
  );
}
