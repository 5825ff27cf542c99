"""Keeping credentials out of everything a person or the warehouse can read.

A client knows its own secrets (the values of the auth parameters and headers it was given);
:class:`Redactor` removes them, and every query parameter named like a credential, from URLs
(the *origin* kept with each page), from texts (error messages, the API's own message, which
may echo the request) and from response bodies (the Graph API echoes ``access_token=`` in
``paging.next`` links: https://developers.facebook.com/docs/graph-api/results).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

import httpx

# Query parameters that carry a credential on the platforms we call (Graph API
# ``access_token``/``appsecret_proof``, Google ``key``, OAuth ``client_secret``/``code``,
# X OAuth 1.0a ``oauth_*``) or commonly do elsewhere. Compared in lower case.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "api_key",
        "apikey",
        "bearer_token",
        "client_secret",
        "code",
        "fb_exchange_token",
        "input_token",
        "key",
        "oauth_consumer_key",
        "oauth_signature",
        "oauth_token",
        "password",
        "refresh_token",
        "secret",
        "signature",
        "token",
    }
)
# Of these, the ones whose value is a credential wherever it appears: a body's links are
# scrubbed of these only (a CDN link's ``signature=`` is not ours, and stays as received).
BODY_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "appsecret_proof",
        "client_secret",
        "fb_exchange_token",
        "input_token",
        "oauth_token",
        "refresh_token",
    }
)
MASK = "REDACTED"


def _pattern(names: frozenset[str]) -> re.Pattern[str]:
    """``access_token=EAAB...`` written into a text or a body (a link, an echo)."""
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    return re.compile(r"(?i)\b(" + alternatives + r")=([^&\s\"'<>\\]+)")


_PARAM_IN_TEXT = _pattern(SECRET_PARAMS)
_PARAM_IN_BODY = _pattern(BODY_PARAMS)
# "Bearer <token>": a token is long and has a digit (the words "bearer token" are not one).
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?=[A-Za-z0-9._~+/%=-]*\d)[A-Za-z0-9._~+/%=-]{16,}")
_SHORTEST_SECRET = 6  # shorter values (a "1") are not secrets worth a global replace


class Redactor:
    """Removes a client's secrets: ``secrets`` are the literal values (tokens, keys)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) < _SHORTEST_SECRET:
                continue
            # As sent, URL-encoded both ways, and as JSON writes it inside a string.
            forms.update({secret, quote(secret, safe=""), quote_plus(secret)})
            for form in (secret, quote(secret, safe="")):
                escaped = json.dumps(form)[1:-1]
                forms.update({escaped, escaped.replace("/", "\\/")})
        # Longest first, so a value is not half-replaced through one of its shorter forms.
        self._forms = sorted(forms, key=len, reverse=True)
        self._bytes = [form.encode() for form in self._forms]

    def url(self, url: httpx.URL | str) -> str:
        """The URL without credential parameters, user info or any known secret value."""
        parsed = httpx.URL(str(url))
        kept = [
            (name, value)
            for name, value in parsed.params.multi_items()
            if name.lower() not in SECRET_PARAMS and not self._holds_secret(value)
        ]
        clean = parsed.copy_with(params=kept, userinfo=b"")
        text = str(clean)
        if not kept:
            text = text.rstrip("?")
        return self.text(text)

    def text(self, text: str) -> str:
        """``text`` with every known secret, ``name=value`` credential pair and bearer token
        replaced by REDACTED."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        text = _PARAM_IN_TEXT.sub(lambda m: f"{m.group(1)}={MASK}", text)
        return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)

    def body(self, body: bytes) -> bytes:
        """A response body with every known secret and credential URL parameter replaced, so a
        kept raw payload holds none (JSON stays valid: the values hold no quote)."""
        for form in self._bytes:
            if form in body:
                body = body.replace(form, MASK.encode())
        lowered = body.lower()
        if any(name.encode() + b"=" in lowered for name in BODY_PARAMS):
            body = _PARAM_IN_BODY.sub(
                lambda m: f"{m.group(1)}={MASK}", body.decode("utf-8", "surrogateescape")
            ).encode("utf-8", "surrogateescape")
        return body

    def _holds_secret(self, value: str) -> bool:
        return any(form in value for form in self._forms)
