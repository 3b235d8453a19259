#!/usr/bin/env bash
# Get an Altinn system-user token from Maskinporten and call an API with it.
# Written by `altinn-onboard export --format curl` for profile {{profile}} ({{env_name}}).
# Needs: bash, openssl, curl.
set -euo pipefail

TOKEN_ENDPOINT={{token_endpoint_sh}}
AUDIENCE={{audience_sh}} # the grant's aud: Maskinporten's issuer, trailing slash included
CLIENT_ID={{client_id_sh}}
KID={{kid_sh}}
SCOPE={{scope_sh}}
CUSTOMER_ORG={{customer_org_sh}} # the organisation whose system user acts
EXTERNAL_REF={{external_ref_sh}} # must equal the request's externalRef when it had one (else MP-303)
API_URL={{api_url_sh}}
{{key_sh}}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# JSON string escaping for the values above (quotes and backslashes).
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }

now=$(date +%s)
detail="{\"type\":\"urn:altinn:systemuser\",\"systemuser_org\":{\"authority\":\"iso6523-actorid-upis\",\"ID\":$(json_str "0192:$CUSTOMER_ORG")}"
if [ -n "$EXTERNAL_REF" ]; then detail="$detail,\"externalRef\":$(json_str "$EXTERNAL_REF")"; fi
detail="$detail}"
jti=$(openssl rand -hex 16) # unique per grant
header="{\"alg\":\"RS256\",\"kid\":$(json_str "$KID")}"
# exp: Maskinporten accepts at most 120 s
claims="{\"aud\":$(json_str "$AUDIENCE"),\"iss\":$(json_str "$CLIENT_ID"),\"scope\":$(json_str "$SCOPE"),\"iat\":$now,\"exp\":$((now + 60)),\"jti\":\"$jti\",\"authorization_details\":[$detail]}"
input="$(printf '%s' "$header" | b64url).$(printf '%s' "$claims" | b64url)"
signature=$(printf '%s' "$input" | openssl dgst -sha256 -sign "$PRIVATE_KEY_FILE" -binary | b64url)
grant="$input.$signature"

response=$(curl -sS -w '\n%{http_code}' -X POST "$TOKEN_ENDPOINT" \
  --data-urlencode 'grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer' \
  --data-urlencode "assertion=$grant")
status=${response##*$'\n'}
body=${response%$'\n'*}
if [ "$status" != 200 ]; then
  echo "Maskinporten said $status: $body" >&2
  exit 1
fi
access_token=$(printf '%s' "$body" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
echo "got a system-user token" >&2

answer=$(curl -sS --fail-with-body -H "Authorization: Bearer $access_token" "$API_URL") || {
  echo "GET $API_URL failed: $answer" >&2
  exit 1
}
# Altinn's token exchange answers with a token: a credential, so not printed.
if [[ "$answer" =~ ^\"?eyJ[^.]*\.[^.]*\.[^.]*\"?$ ]]; then
  echo "(a token, ${#answer} characters; not printed)"
else
  printf '%s\n' "$answer"
fi
