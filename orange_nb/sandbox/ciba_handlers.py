"""CIBA's backchannel endpoint, its control API, and CAMARA-style sample APIs.

- ``POST R/openidconnect/fr/v1/bc-authorize``: CIBA §7.1 (poll mode), client authentication
  as the token endpoint's (``private_key_jwt`` included); ``login_hint=tel:+E164`` only.
- ``GET R/_sandbox/ciba`` (pending requests), ``POST R/_sandbox/ciba/{auth_req_id or id}``
  ``{"decision": "approve" | "deny"}``: the person's answer on the phone.
- ``POST R/sandbox/camara/number-verification/v0/verify`` ``{"phoneNumber"}``: single-use
  token (scope ``dpv:FraudPreventionAndDetection#number-verification:verify``).
- ``POST R/sandbox/camara/sim-swap/v1/check`` ``{"phoneNumber", "maxAge"}``: scope
  ``sim-swap:check``; synthetic: numbers ending in 0 were swapped 12 hours ago.

CAMARA APIs answer errors in CAMARA's envelope and echo ``x-correlator`` (every handler does,
see ``base.py``).
"""

from __future__ import annotations

import json
import re

from . import camara
from .ciba import E164_HINT, MAX_EXPIRY
from .clients import Client
from .control import ControlHandler
from .errors import ApiError, ControlError, OAuthError
from .oauth_handlers import NO_STORE, _ClientAuthHandler
from .protected import ProtectedHandler

_PHONE = re.compile(r"\+[1-9][0-9]{5,14}")
MAX_BINDING_MESSAGE = 64


class BackchannelHandler(_ClientAuthHandler):
    """CIBA §7: a backchannel authentication request → ``auth_req_id``, ``expires_in``, ``interval``."""

    endpoint = "backchannel"

    def post(self) -> None:
        """Validate the request and remember it until the person decides."""
        form = self.read_form()
        client = self.authenticate_client(form)
        try:
            hint, scopes, message, expiry = _validated(form, client)
            answer = self.sandbox.begin_backchannel(
                client,
                login_hint=hint,
                scopes=scopes,
                binding_message=message,
                requested_expiry=expiry,
            )
        except OAuthError:
            self.sandbox.count("ciba.refused")
            raise
        self.answer_json(200, answer, NO_STORE)


def _validated(
    form: dict[str, str], client: Client
) -> tuple[str, tuple[str, ...], str | None, float | None]:
    """``(login_hint, scopes, binding_message, requested_expiry)``; ``OAuthError`` if bad."""
    scopes = tuple(dict.fromkeys(form.get("scope", "").split()))
    if not scopes:
        raise OAuthError("invalid_scope", "scope is required (for example: openid).")
    unknown = [s for s in scopes if s not in client.scopes]
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope: {' '.join(unknown)[:200]}.")
    problem = camara.purpose_problem(scopes)
    if problem:
        raise OAuthError("invalid_scope", problem)
    if "login_hint_token" in form or "id_token_hint" in form:
        raise OAuthError("invalid_request", "This server takes login_hint only.")
    hint = form.get("login_hint", "")
    if not E164_HINT.fullmatch(hint):
        raise OAuthError(
            "invalid_request", "login_hint must be tel: and a number in E.164 form (tel:+33...)."
        )
    message = form.get("binding_message")
    if message is not None and (len(message) > MAX_BINDING_MESSAGE or not message.isprintable()):
        raise OAuthError(
            "invalid_binding_message",
            f"binding_message must be at most {MAX_BINDING_MESSAGE} printable characters.",
        )
    expiry: float | None = None
    raw = form.get("requested_expiry")
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_EXPIRY:
            raise OAuthError(
                "invalid_request", f"requested_expiry must be whole seconds, 1 to {MAX_EXPIRY:g}."
            )
        expiry = float(raw)
    return hint, scopes, message, expiry


class CibaListHandler(ControlHandler):
    """``GET R/_sandbox/ciba``: the backchannel requests (without their auth_req_id)."""

    def get(self) -> None:
        """Every backchannel request remembered."""
        self.answer_json(200, {"requests": self.sandbox.backchannel_requests()})


class CibaDecisionHandler(ControlHandler):
    """``POST R/_sandbox/ciba/{auth_req_id or id}`` ``{"decision": "approve" | "deny"}``."""

    def post(self, handle: str) -> None:
        """Approve or deny on the person's behalf; 404 when nothing is pending under ``handle``."""
        body = self.json_body()
        decision = body.get("decision") if isinstance(body, dict) else None
        if decision not in ("approve", "deny"):
            raise ControlError('Send {"decision": "approve"} or {"decision": "deny"}.')
        if not self.sandbox.decide_backchannel(handle, decision == "approve"):
            raise ControlError("No pending backchannel request has this id.", status=404)
        self.answer_json(200, {"decision": decision})


def _phone_number(body: bytes) -> str:
    try:
        fields = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise ApiError(22, "The body is not valid JSON.") from None
    number = fields.get("phoneNumber") if isinstance(fields, dict) else None
    if not isinstance(number, str) or not _PHONE.fullmatch(number):
        raise ApiError(24, "phoneNumber must be a number in E.164 form (+33...).")
    return number


class NumberVerificationHandler(ProtectedHandler):
    """CAMARA Number Verification: is ``phoneNumber`` the signed-in device's? Single-use token."""

    scope = camara.NUMBER_VERIFICATION
    envelope = "camara"

    def post(self) -> None:
        """Compare the number with the token's subscriber, then spend the token."""
        token = self.request.headers.get("Authorization", "").partition(" ")[2].strip()
        if token and self.sandbox.spent(token):
            raise ApiError(
                41,
                "This access token was single-use and is spent: get a new one (sign in again) "
                "for the next verification.",
            )
        record = self.authorize_call()
        number = _phone_number(self.request.body)
        subscriber = record.user if record.user.startswith("+") else None
        self.sandbox.spend(record.client_id, token)
        self.answer_json(200, {"devicePhoneNumberVerified": number == subscriber})


class SimSwapHandler(ProtectedHandler):
    """CAMARA SIM Swap check (synthetic: a number ending in 0 was swapped 12 hours ago)."""

    scope = camara.SIM_SWAP
    envelope = "camara"

    def post(self) -> None:
        """Whether the SIM was swapped within ``maxAge`` hours (default 240)."""
        self.authorize_call()
        number = _phone_number(self.request.body)
        fields = json.loads(self.request.body or b"{}")
        max_age = fields.get("maxAge", 240)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or not 1 <= max_age <= 2400:
            raise ApiError(24, "maxAge must be whole hours, 1 to 2400.")
        self.answer_json(200, {"swapped": number.endswith("0") and max_age >= 12})
