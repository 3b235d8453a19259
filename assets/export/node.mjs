// Get an Altinn system-user token from Maskinporten and call an API with it.
// Written by `altinn-onboard export --format node` for profile {{profile}} ({{env_name}}).
// Node 20 or newer: built-in crypto and fetch, no npm packages.
import { createSign, randomUUID } from "node:crypto";
{{key_node_import}}
const TOKEN_ENDPOINT = {{token_endpoint_lit}};
const AUDIENCE = {{audience_lit}}; // the grant's aud: Maskinporten's issuer, trailing slash included
const CLIENT_ID = {{client_id_lit}};
const KID = {{kid_lit}};
const SCOPE = {{scope_lit}};
const CUSTOMER_ORG = {{customer_org_lit}}; // the organisation whose system user acts
const EXTERNAL_REF = {{external_ref_js}}; // must equal the request's externalRef when it had one (else MP-303)
const API_URL = {{api_url_lit}};
{{key_node}}

const b64url = (data) => Buffer.from(data).toString("base64url");

function signGrant() {
  const now = Math.floor(Date.now() / 1000);
  const detail = {
    type: "urn:altinn:systemuser",
    systemuser_org: { authority: "iso6523-actorid-upis", ID: `0192:${CUSTOMER_ORG}` },
  };
  if (EXTERNAL_REF) detail.externalRef = EXTERNAL_REF;
  const header = { alg: "RS256", kid: KID };
  const claims = {
    aud: AUDIENCE,
    iss: CLIENT_ID,
    scope: SCOPE,
    iat: now,
    exp: now + 60, // Maskinporten accepts at most 120 s
    jti: randomUUID(), // unique per grant
    authorization_details: [detail],
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign("RSA-SHA256").update(input).sign(PRIVATE_KEY_PEM);
  return `${input}.${b64url(signature)}`;
}

async function systemUserToken() {
  const resp = await fetch(TOKEN_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: signGrant(),
    }),
  });
  if (resp.status !== 200) {
    throw new Error(`Maskinporten said ${resp.status}: ${await resp.text()}`);
  }
  return resp.json();
}

const token = await systemUserToken();
console.error(`got a system-user token, expires in ${token.expires_in} s`);
const resp = await fetch(API_URL, { headers: { Authorization: `Bearer ${token.access_token}` } });
console.error(`GET ${API_URL} -> HTTP ${resp.status}`);
const text = (await resp.text()).trim().replace(/^"|"$/g, "");
// Altinn's token exchange answers with a token: a credential, so not printed.
console.log(/^eyJ[^.]*\.[^.]*\.[^.]*$/.test(text) ? `(a token, ${text.length} characters; not printed)` : text);
process.exitCode = resp.ok ? 0 : 1;
