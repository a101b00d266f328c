/** The API lives on the origin that served the page. */
export function graphqlUrl(): string {
  return new URL("/graphql", location.href).href;
}

export function websocketUrl(): string {
  const url = new URL("/graphql/ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
