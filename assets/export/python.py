#!/usr/bin/env python3
"""Get an Altinn system-user token from Maskinporten and call an API with it.

Written by `altinn-onboard export --format python` for profile {{profile}} ({{env_name}}).
Needs: pip install pyjwt cryptography requests
"""
import json
import sys
import time
import uuid

import jwt  # PyJWT; RS256 uses the `cryptography` package
import requests

TOKEN_ENDPOINT = {{token_endpoint_lit}}
AUDIENCE = {{audience_lit}}  # the grant's aud: Maskinporten's issuer, trailing slash included
CLIENT_ID = {{client_id_lit}}
KID = {{kid_lit}}
SCOPE = {{scope_lit}}
CUSTOMER_ORG = {{customer_org_lit}}  # the organisation whose system user acts
EXTERNAL_REF = {{external_ref_py}}  # must equal the request's externalRef when it had one (else MP-303)
API_URL = {{api_url_lit}}
{{key_py}}

def system_user_token():
    now = int(time.time())
    detail = {
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:" + CUSTOMER_ORG},
    }
    if EXTERNAL_REF:
        detail["externalRef"] = EXTERNAL_REF
    claims = {
        "aud": AUDIENCE,
        "iss": CLIENT_ID,
        "scope": SCOPE,
        "iat": now,
        "exp": now + 60,  # Maskinporten accepts at most 120 s
        "jti": str(uuid.uuid4()),  # unique per grant
        "authorization_details": [detail],
    }
    grant = jwt.encode(claims, PRIVATE_KEY_PEM, algorithm="RS256", headers={"kid": KID})
    resp = requests.post(
        TOKEN_ENDPOINT,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": grant},
        timeout=30,
    )
    if resp.status_code != 200:
        sys.exit(f"Maskinporten said {resp.status_code}: {resp.text}")
    return resp.json()


def main():
    token = system_user_token()
    print(f"got a system-user token, expires in {token['expires_in']} s", file=sys.stderr)
    resp = requests.get(API_URL, headers={"Authorization": "Bearer " + token["access_token"]}, timeout=30)
    print(f"GET {API_URL} -> HTTP {resp.status_code}", file=sys.stderr)
    text = resp.text.strip().strip('"')
    if text.startswith("eyJ") and text.count(".") == 2:
        # Altinn's token exchange answers with a token: a credential, so not printed.
        print(f"(a token, {len(text)} characters; not printed)")
    else:
        try:
            print(json.dumps(resp.json(), indent=2))
        except ValueError:
            print(resp.text)
    return 0 if resp.ok else 1


if __name__ == "__main__":
    sys.exit(main())
