// An independent OpenID provider for orange_nb's interop tests: panva's oidc-provider with
// CIBA in poll mode and one private_key_jwt client, on 127.0.0.1 only.
//
//   node provider.mjs NODE_MODULES '{"client_id": "...", "jwks": {"keys": [...]}, "interval": 1}'
//
// NODE_MODULES is the folder holding oidc-provider (the Makefile installs it in
// .ci/node/node_modules); an ES module ignores NODE_PATH, so it is resolved from there.
// When ready it prints one JSON line on stdout: {"issuer": ..., "port": ...}.
//
// Beside the provider's own routes (discovery, /backchannel, /token, /jwks, ...), the same
// port serves a small control API for the test, standing in for the person's phone:
//   POST /_test/policy  {"decision": "approve"|"deny"|"manual", "after_polls": 1, "delay_ms": 0}
//        how every later backchannel request is decided: once the client's token polls
//        were answered authorization_pending after_polls times (0: at once), then after
//        delay_ms more
//   POST /_test/decide  {"decision": "approve"|"deny", "auth_req_id"?: ...}
//        decides one pending request now (the latest when no id is given)
//   GET  /_test/log     {"requests": [...], "calls": [...]}: each backchannel request the
//        device was asked about, and each backchannel or token call with its outcome, the
//        client authentication method oidc-provider used and the assertion's JOSE header
//   POST /_test/reset   forgets the log and sets the policy back to manual
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [nodeModules, rawOptions] = process.argv.slice(2);
if (!nodeModules || !rawOptions) {
  process.stderr.write('usage: node provider.mjs NODE_MODULES OPTIONS_JSON\n');
  process.exit(2);
}
const options = JSON.parse(rawOptions);
const require = createRequire(join(resolve(nodeModules), 'noop.js'));
const { default: Provider, errors } = await import(
  pathToFileURL(require.resolve('oidc-provider')).href
);

const clientId = options.client_id ?? 'orange-nb-interop';
const interval = options.interval ?? 1;
const PHONE = /^tel:(\+[1-9][0-9]{5,14})$/;

// The provider's own ID token signing key: made fresh at each start.
const signing = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  alg: 'RS256',
  use: 'sig',
  kid: 'provider-signing',
};

const MANUAL = { decision: 'manual', afterPolls: 0, delayMs: 0 };
const state = { policy: MANUAL, requests: [], calls: [] };
let provider;

async function decide(entry, decision) {
  if (entry.decision) return false;
  entry.decision = decision;
  if (decision === 'approve') {
    const grant = new provider.Grant({ accountId: entry.accountId, clientId: entry.clientId });
    grant.addOIDCScope(entry.scope);
    await grant.save();
    await provider.backchannelResult(entry.authReqId, grant);
  } else {
    await provider.backchannelResult(
      entry.authReqId,
      new errors.AccessDenied('the end-user denied the request on the authentication device'),
    );
  }
  return true;
}

// Decides ``entry`` by its policy once it has been polled (and found pending) often enough.
function decideLater(entry) {
  const { decision, afterPolls, delayMs } = entry.policy;
  if (decision !== 'approve' && decision !== 'deny') return;
  if (entry.decision || entry.pendingPolls < afterPolls || entry.scheduled) return;
  entry.scheduled = true;
  setTimeout(() => {
    decide(entry, decision).catch((err) => process.stderr.write(`decide: ${err}\n`));
  }, delayMs).unref();
}

// One part of a compact JWS, decoded (0: the JOSE header, 1: the claims); null if none.
function jwsPart(assertion, index) {
  if (typeof assertion !== 'string') return null;
  try {
    return JSON.parse(Buffer.from(assertion.split('.')[index], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

function assertionClaims(assertion) {
  const claims = jwsPart(assertion, 1);
  if (!claims) return null;
  const { iss, sub, aud, iat, exp } = claims;
  return { iss, sub, aud, iat, exp, has_jti: typeof claims.jti === 'string' };
}

const configuration = {
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['urn:openid:params:grant-type:ciba'],
      response_types: [],
      redirect_uris: [],
      backchannel_token_delivery_mode: 'poll',
      jwks: options.jwks,
    },
  ],
  jwks: { keys: [signing] },
  claims: { openid: ['sub'], phone: ['phone_number', 'phone_number_verified'] },
  scopes: ['openid', 'phone'],
  clockTolerance: 5,
  ttl: {
    BackchannelAuthenticationRequest: (ctx) => Math.min(120, +(ctx?.oidc?.params.requested_expiry ?? 120)),
  },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, phone_number: sub, phone_number_verified: true };
      },
    };
  },
  interactions: { url: () => '/interaction/none' },
  features: {
    devInteractions: { enabled: false },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      async processLoginHint(ctx, loginHint) {
        const match = PHONE.exec(loginHint);
        return match ? match[1] : undefined; // no account: unknown_user_id
      },
      async verifyUserCode() {},
      async validateBindingMessage() {},
      async validateRequestContext() {},
      async triggerAuthenticationDevice(ctx, request, account, client) {
        // CIBA §7.3: the provider names the polling interval (oidc-provider sends none).
        ctx.body.interval = interval;
        const entry = {
          authReqId: request.jti,
          accountId: account.accountId,
          clientId: client.clientId,
          scope: request.scope,
          loginHint: request.params.login_hint,
          bindingMessage: request.params.binding_message ?? null,
          decision: null,
          policy: state.policy,
          pendingPolls: 0,
          scheduled: false,
        };
        state.requests.push(entry);
        decideLater(entry);
      },
    },
  },
};

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

async function control(req, res) {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'GET' && pathname === '/_test/log') {
    const requests = state.requests.map(({ authReqId, policy, scheduled, ...rest }) => rest);
    return send(res, 200, { requests, calls: state.calls });
  }
  if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
  const body = await readJson(req);
  if (pathname === '/_test/reset') {
    state.requests.length = 0;
    state.calls.length = 0;
    state.policy = MANUAL;
    return send(res, 200, {});
  }
  if (pathname === '/_test/policy') {
    state.policy = {
      decision: body.decision ?? 'manual',
      afterPolls: body.after_polls ?? 0,
      delayMs: body.delay_ms ?? 0,
    };
    return send(res, 200, {});
  }
  if (pathname === '/_test/decide') {
    const pending = state.requests.filter((entry) => !entry.decision);
    const entry = body.auth_req_id
      ? pending.find((e) => e.authReqId === body.auth_req_id)
      : pending.at(-1);
    if (!entry) return send(res, 404, { error: 'no pending request' });
    await decide(entry, body.decision);
    return send(res, 200, {});
  }
  return send(res, 404, { error: 'not found' });
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
provider = new Provider(issuer, configuration);

for (const event of ['backchannel_authentication.error', 'grant.error']) {
  provider.on(event, (ctx, err) => {
    ctx.state.interopErrorDetail = err.error_detail ?? err.error_description ?? null;
  });
}

// Each backchannel and token call, as oidc-provider saw it (after it answered).
provider.use(async (ctx, next) => {
  await next();
  const route = ctx.oidc?.route;
  if (route !== 'backchannel_authentication' && route !== 'token') return;
  const params = ctx.oidc.body ?? {}; // the form as sent (the backchannel's params drop auth)
  state.calls.push({
    id: randomUUID(),
    at: Date.now(),
    route,
    status: ctx.status,
    error: ctx.body?.error ?? null,
    grant_type: params.grant_type ?? null,
    client_id: ctx.oidc.client?.clientId ?? params.client_id ?? null,
    // The method oidc-provider authenticated the client by (its registered one, enforced).
    client_auth_method: ctx.oidc.client?.clientAuthMethod ?? null,
    // Why oidc-provider refused, in its own words (its error_detail: never sent to clients).
    error_detail: ctx.state.interopErrorDetail ?? null,
    assertion_type: params.client_assertion_type ?? null,
    assertion_header: jwsPart(params.client_assertion, 0),
    assertion_claims: assertionClaims(params.client_assertion),
    scope: ctx.body?.scope ?? null,
  });
  const entry = state.requests.find((e) => e.authReqId === params.auth_req_id);
  if (route === 'token' && entry && ctx.body?.error === 'authorization_pending') {
    entry.pendingPolls += 1;
    decideLater(entry);
  }
});

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/_test/')) {
    control(req, res).catch((err) => send(res, 500, { error: String(err) }));
  } else {
    callback(req, res);
  }
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
