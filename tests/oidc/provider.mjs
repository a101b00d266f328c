// A real OpenID Connect provider for Loupe's sign-in tests: oidc-provider
// (OpenID Certified) on a loopback port, with its development login and
// consent pages (any login, any password) and one confidential client.
//
// Environment: CLIENT_ID, CLIENT_SECRET. The client may redirect to
// `/auth/callback/<name>` on any loopback port (the Loupe under test picks
// its port after the provider starts). Prints one JSON line, {"issuer": "http://127.0.0.1:<port>"}, once it
// listens; stops when stdin closes (the test that started it ended).
//
// For the refusal tests, `POST /__test/tamper?mode=<mode>` makes the next
// token response carry a doctored ID token: `wrong-audience` and `expired`
// are signed with the provider's own key, `wrong-key` with a key that is
// not in its JWKS (under the same key id). `rotate` is no forgery: from then
// on the provider signs with a new key, which its JWKS publishes too, as a
// provider rotating its keys does.
import { createServer } from "node:http";
import Provider from "oidc-provider";
import * as jose from "jose";

const { CLIENT_ID, CLIENT_SECRET } = process.env;

const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };

const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: ["http://127.0.0.1/auth/callback/test"],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  jwks: { keys: [signingJwk] },
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username", "picture"],
    email: ["email", "email_verified"],
  },
  // Claims go into the ID token itself, as many providers do.
  conformIdTokenClaims: false,
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: `${id} Example`,
          preferred_username: id,
          picture: `https://avatars.example.com/${id}.png`,
          email: `${id}@example.com`,
          email_verified: true,
        };
      },
    };
  },
  pkce: { required: () => true, methods: ["S256"] },
  cookies: { keys: ["loupe-test-provider-cookie-key"] },
});

const loupeCallback = /^http:\/\/127\.0\.0\.1:\d+\/auth\/callback\/[a-z0-9_-]+$/;
provider.Client.prototype.redirectUriAllowed = (uri) => loupeCallback.test(uri);

let tamper = null;
let rotated = null;
provider.use(async (ctx, next) => {
  if (ctx.path === "/__test/tamper" && ctx.method === "POST") {
    if (ctx.query.mode === "rotate") {
      const { publicKey, privateKey: key } = await jose.generateKeyPair("RS256", { extractable: true });
      const jwk = { ...(await jose.exportJWK(publicKey)), kid: "rotated-key", alg: "RS256", use: "sig" };
      rotated = { key, jwk };
    } else {
      tamper = ctx.query.mode;
    }
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === "/jwks" && rotated && ctx.body && ctx.body.keys) {
    ctx.body = { keys: [...ctx.body.keys, rotated.jwk] };
  }
  if (ctx.path === "/token" && rotated && !tamper && ctx.body && ctx.body.id_token) {
    const claims = jose.decodeJwt(ctx.body.id_token);
    const header = { alg: "RS256", kid: rotated.jwk.kid };
    ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(claims).setProtectedHeader(header).sign(rotated.key) };
  }
  if (ctx.path === "/token" && tamper && ctx.body && ctx.body.id_token) {
    const mode = tamper;
    tamper = null;
    const claims = jose.decodeJwt(ctx.body.id_token);
    const now = Math.floor(Date.now() / 1000);
    let key = privateKey;
    if (mode === "wrong-audience") claims.aud = "someone-else";
    if (mode === "expired") Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
    if (mode === "wrong-key") key = (await jose.generateKeyPair("RS256")).privateKey;
    ctx.body = {
      ...ctx.body,
      id_token: await new jose.SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "test-key" }).sign(key),
    };
  }
});

server.on("request", provider.callback());
console.log(JSON.stringify({ issuer }));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
