// A real OpenID provider on 127.0.0.1 for the tests (oauth2-mock-server): discovery at
// /.well-known/openid-configuration, the key set at /jwks, a token endpoint at /token.
//
//   node tests/oidc/provider.mjs PORT      (PORT 0: the kernel picks one)
//
// Prints `READY <issuer-url>` once listening (or `ERROR <code> <message>` and exits 1), then
// answers each JSON command read on stdin with one JSON line on stdout; a failing command
// answers {"error": "..."}. It exits when stdin closes, so a test that dies takes it along.
//
// Commands:
//   {"cmd":"token","claims":{...},"expires_in":300,"kid":"…","header":{...}}
//       -> {"token":"…","kid":"…"}  signed by the current key, or by `kid` (any key the
//       provider holds, published or not). Claims are merged over the defaults (iss, aud
//       "helpdesk", sub "alice", iat now, nbf now-10, exp iat+expires_in, default 300); a
//       claim given as null is removed. `header` is merged over {typ, kid}; "kid": null
//       leaves the kid out (`alg` always follows the key).
//   {"cmd":"new_key","alg":"RS256"}
//       -> {"kid":"…"}  a key the provider holds but does not publish (yet).
//   {"cmd":"token_with_unpublished_key", ...token options}
//       -> {"token":"…","kid":"…"}  new_key, then a token signed by it.
//   {"cmd":"rotate","drop_old":false,"kid":"…","alg":"RS256"}
//       -> {"kid":"…"}  publishes key `kid` (one from new_key) or a new key, and makes it the
//       current signing key; with drop_old, every other key leaves the published set.
//   {"cmd":"jwks"} -> the published key set, as GET /jwks serves it.
//   {"cmd":"stats"} -> {"jwks_requests": N}  how often GET /jwks was asked.

import { OAuth2Server } from "oauth2-mock-server";
import { createInterface } from "node:readline";

const DEFAULT_AUDIENCE = "helpdesk";
const DEFAULT_SUBJECT = "alice";

const port = Number.parseInt(process.argv[2] ?? "0", 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.log(`ERROR EINVAL bad port ${JSON.stringify(process.argv[2])}`);
  process.exit(1);
}

const server = new OAuth2Server();
const store = server.issuer.keys;
const storeGet = store.get.bind(store);
const storeToJson = store.toJSON.bind(store);

// oauth2-mock-server publishes every key it holds and signs with them in turn; the tests need
// keys held but unpublished, and one current key. So the store's two views are narrowed.
// The JWKS endpoint is the only caller of store.toJSON: it counts the key-set requests.
const unpublished = new Set();
let currentKid;
let jwksRequests = 0;
const publishedKeys = () => storeToJson(false).filter((key) => !unpublished.has(key.kid));
store.get = (kid) => storeGet(kid ?? currentKid);
store.toJSON = () => {
  jwksRequests += 1;
  return publishedKeys();
};

// Tokens from the provider's own /token endpoint name the service as audience.
server.service.on("beforeTokenSigning", (token) => {
  token.payload.aud ??= DEFAULT_AUDIENCE;
});

async function newKey(alg) {
  const key = await store.generate(alg ?? "RS256");
  unpublished.add(key.kid);
  return key.kid;
}

async function signToken(command) {
  const kid = command.kid ?? currentKid;
  const expiresIn = command.expires_in ?? 300;
  const overrides = command.claims ?? {};
  const headerOverrides = command.header ?? {};
  return server.issuer.buildToken({
    kid,
    expiresIn,
    scopesOrTransform: (header, payload) => {
      payload.aud = DEFAULT_AUDIENCE;
      payload.sub = DEFAULT_SUBJECT;
      for (const [name, value] of Object.entries(overrides)) {
        if (value === null) delete payload[name];
        else payload[name] = value;
      }
      for (const [name, value] of Object.entries(headerOverrides)) {
        if (value === null) delete header[name];
        else header[name] = value;
      }
    },
  }).then((token) => ({ token, kid }));
}

const commands = {
  async token(command) {
    return signToken(command);
  },
  async new_key(command) {
    return { kid: await newKey(command.alg) };
  },
  async token_with_unpublished_key(command) {
    const kid = await newKey(command.alg);
    return signToken({ ...command, kid });
  },
  async rotate(command) {
    const kid = command.kid ?? (await newKey(command.alg));
    if (storeGet(kid) === undefined) throw new Error("no such key");
    unpublished.delete(kid);
    if (command.drop_old) {
      for (const key of publishedKeys()) if (key.kid !== kid) unpublished.add(key.kid);
    }
    currentKid = kid;
    return { kid };
  },
  async jwks() {
    return { keys: publishedKeys() };
  },
  async stats() {
    return { jwks_requests: jwksRequests };
  },
};

async function answer(line) {
  if (line.trim() === "") return;
  try {
    const command = JSON.parse(line);
    const handler = commands[command.cmd];
    if (handler === undefined) throw new Error(`unknown command ${JSON.stringify(command.cmd)}`);
    console.log(JSON.stringify(await handler(command)));
  } catch (error) {
    console.log(JSON.stringify({ error: String(error?.message ?? error) }));
  }
}

currentKid = await newKey("RS256");
unpublished.delete(currentKid);
const host = "127.0.0.1";
try {
  await server.start(port, host);
} catch (error) {
  console.log(`ERROR ${error?.code ?? "START"} ${error?.message ?? error}`);
  process.exit(1);
}
// oauth2-mock-server would name the issuer http://localhost:PORT, which may resolve to ::1.
server.issuer.url = `http://${host}:${server.address().port}`;
console.log(`READY ${server.issuer.url}`);

// One command at a time, in the order they came.
let queue = Promise.resolve();
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  queue = queue.then(() => answer(line));
});
input.on("close", () => {
  queue.then(() => server.stop()).finally(() => process.exit(0));
});
