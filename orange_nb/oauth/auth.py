"""``BearerAuth``: the httpx auth flow that attaches, refreshes and retries once on a 401."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterable

import httpx

from .._urls import origin_text as origin
from ..errors import TokenSentElsewhere, json_body
from .keeper import TokenKeeper
from .secret import Secret
from .token import Token

_ORANGE_INVALID = {41, 42, "41", "42"}


def is_invalid_token(response: httpx.Response) -> bool:
    """Did the API reject the access token itself (so a refresh may help)?

    Orange codes 41/42, CAMARA's ``UNAUTHENTICATED``, or ``WWW-Authenticate: Bearer
    error="invalid_token"`` (RFC 6750 §3.1) on a 401.
    """
    if response.status_code != 401:
        return False
    if "invalid_token" in response.headers.get("www-authenticate", ""):
        return True
    body = json_body(response)  # None for a body that is no JSON (or nested too deep)
    return isinstance(body, dict) and (
        body.get("code") in _ORANGE_INVALID or body.get("code") == "UNAUTHENTICATED"
    )


class BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer``; refreshes ahead of expiry; one refresh + one retry on 401.

    The token only ever goes to ``allowed_origins`` (the API's, unless more are allowed):
    this is the one place that rule is enforced.
    """

    def __init__(self, keeper: TokenKeeper, allowed_origins: Iterable[str]) -> None:
        self.keeper = keeper
        self.allowed_origins = frozenset(origin(o) for o in allowed_origins)

    def check_origin(self, request: httpx.Request) -> None:
        """``TokenSentElsewhere`` unless ``request`` goes where the token may go (sends nothing)."""
        if origin(request.url) not in self.allowed_origins:
            raise TokenSentElsewhere(
                f"Refused to send your Orange token to {request.url.scheme}://{request.url.host}: "
                "only the API's own host receives it. Add the host to `Orange.allowed_hosts` "
                "if you trust it."
            )

    @staticmethod
    def _authorize(request: httpx.Request, access_token: Secret) -> None:
        request.headers["Authorization"] = f"Bearer {access_token.reveal()}"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        self.check_origin(request)
        token = self.keeper.valid()
        self._authorize(request, token.access_token)
        response = yield request
        if response.status_code == 401:
            response.read()  # the envelope says whether a refresh can help
        if is_invalid_token(response):
            token = self.keeper.after_rejection(token)
            self._authorize(request, token.access_token)
            response = yield request
        self._spend(token, response)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self.check_origin(request)
        token = await self.keeper.avalid()
        self._authorize(request, token.access_token)
        response = yield request
        if response.status_code == 401:
            await response.aread()
        if is_invalid_token(response):
            token = await self.keeper.aafter_rejection(token)
            self._authorize(request, token.access_token)
            response = yield request
        self._spend(token, response)

    def _spend(self, token: Token, response: httpx.Response) -> None:
        # CAMARA: the API took a single-use token (Number Verification); it is spent now.
        if token.single_use and response.is_success:
            self.keeper.spend(token)
