"""Access tokens for the local Peloton server: JWTs signed with HMAC-SHA256, like Auth0's in shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from pelotonxl.peloton.auth import USER_ID_CLAIM


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Self-describing access tokens: a JWT signed with HMAC-SHA256, so a restarted server that
    keeps the secret still accepts them, and `exp` makes them expire on time."""

    def __init__(self, secret: bytes, lifetime: int) -> None:
        self.secret = secret
        self.lifetime = lifetime

    def _sign(self, claims: dict[str, Any]) -> str:
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "fake-peloton"}).encode())
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = hmac.new(self.secret, signing_input, hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64url(signature)}"

    def access_token(self, user_id: str, issuer: str, client_id: str, scope: str) -> str:
        now = int(time.time())
        return self._sign(
            {
                USER_ID_CLAIM: user_id,
                "iss": issuer + "/",
                "sub": f"auth0|{user_id}",
                "aud": ["https://api.onepeloton.com/", issuer + "/userinfo"],
                "iat": now,
                "exp": now + self.lifetime,
                "scope": scope,
                "azp": client_id,
                "jti": secrets.token_hex(8),
            }
        )

    def id_token(self, user_id: str, email: str, issuer: str, client_id: str) -> str:
        now = int(time.time())
        return self._sign(
            {
                "iss": issuer + "/",
                "sub": f"auth0|{user_id}",
                "aud": client_id,
                "email": email,
                "iat": now,
                "exp": now + 36000,
                USER_ID_CLAIM: user_id,
            }
        )

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a well-signed, unexpired token; None otherwise."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self.secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _b64url_decode(parts[2])):
                return None
            claims = json.loads(_b64url_decode(parts[1]))
        except (ValueError, TypeError):
            return None
        if not isinstance(claims, dict) or time.time() >= claims.get("exp", 0):
            return None
        return claims
