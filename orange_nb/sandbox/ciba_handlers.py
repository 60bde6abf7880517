"""CIBA's backchannel endpoint, its control API, and CAMARA-style sample APIs.

- ``POST R/openidconnect/fr/v1/bc-authorize``: CIBA §7.1 (poll mode), client authentication
  as the token endpoint's (``private_key_jwt`` included); ``login_hint=tel:+E164`` only.
- ``GET R/_sandbox/ciba`` (pending requests), ``POST R/_sandbox/ciba/{auth_req_id or id}``
  ``{"decision": "approve" | "deny"}``: the person's answer on the phone.
- ``GET R/_sandbox/phone/{+E164 or request id}``: that "phone", a page listing its pending
  requests with Approve / Deny (form POSTs to itself; control API rules when mounted in Jupyter).
- ``POST R/sandbox/camara/number-verification/v0/verify`` ``{"phoneNumber"}``: single-use
  token (scope ``dpv:FraudPreventionAndDetection#number-verification:verify``).
- ``POST R/sandbox/camara/sim-swap/v1/check`` ``{"phoneNumber", "maxAge"}``: scope
  ``sim-swap:check``; synthetic: numbers ending in 0 were swapped 12 hours ago.
- ``POST R/sandbox/camara/location-verification/v1/verify`` ``{"device": {"phoneNumber"},
  "area": {"areaType": "CIRCLE", "center": {"latitude", "longitude"}, "radius"}}``: scope
  ``location-verification:verify``; synthetic: every device is at the Eiffel Tower.

CAMARA APIs answer errors in CAMARA's envelope and echo ``x-correlator`` (every handler does,
see ``base.py``).
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone

from . import camara
from .base import ParamProblem, media_type, single_values
from .ciba import E164_HINT, MAX_EXPIRY
from .clients import SCOPES, Client
from .control import ControlHandler
from .errors import ApiError, ControlError, OAuthError, PageError
from .oauth_handlers import NO_STORE, _ClientAuthHandler
from .pages import PHONE_HEADERS, phone_page
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


_FORM = "application/x-www-form-urlencoded"


_HANDLE = re.compile(r"[0-9a-f]{16}")


def _phone_of(raw: str) -> tuple[str | None, str | None]:
    """The path's ``(number, None)`` (``+990…``, ``990…`` or ``tel:+990…`` as ``+E164``) or
    ``(None, handle)`` (a request's public id: the page a notebook links to); 404 otherwise."""
    if _HANDLE.fullmatch(raw):
        return None, raw
    number = raw.removeprefix("tel:")
    number = number if number.startswith("+") else "+" + number
    if not E164_HINT.fullmatch("tel:" + number):
        raise PageError(
            "No such phone",
            "The phone page takes a number in E.164 form (…/phone/+990…) or a request's id.",
            status=404,
        )
    return number, None


class PhoneHandler(ControlHandler):
    """``R/_sandbox/phone/{number or request id}``: the person's phone, as a page (GET) and
    its buttons (POST). A number's page lists every request sent to it; a request's page
    (the link a notebook shows, which holds no number) that request alone.

    A control route: mounted in Jupyter it needs Jupyter's login, and its POST Jupyter's XSRF
    token (the page carries it). Standalone, the POST must come from this page itself: a
    browser's ``Sec-Fetch-Site``/``Origin`` say so, so a form on another site cannot answer.
    """

    def get(self, raw: str) -> None:
        """The pending requests for this phone, with Approve / Deny."""
        number, handle = _phone_of(raw)
        pending = self.sandbox.phone_requests(number, handle)
        shown = number or (str(pending[0]["login_hint"]).removeprefix("tel:") if pending else "")
        page = phone_page(
            shown,
            pending,
            SCOPES,
            notice=self.get_query_argument("done", None),
            xsrf=self.form_token(),
        )
        self.answer(200, page.encode("utf-8"), None, PHONE_HEADERS)

    def post(self, raw: str) -> None:
        """Decide one request (``request``, ``decision``), then back to the page (303)."""
        number, handle = _phone_of(raw)
        self._check_same_origin()
        if media_type(self.request.headers.get("Content-Type")) != _FORM:
            raise ControlError("Send the phone page's form.", status=415)
        try:
            form = single_values(self.request.body)
        except ParamProblem as exc:
            raise ControlError(str(exc)) from None
        decision, chosen = form.get("decision"), form.get("request")
        if decision not in ("approve", "deny") or not chosen or not _HANDLE.fullmatch(chosen):
            raise ControlError("Send request=<id> and decision=approve or deny.")
        decided = (handle is None or chosen == handle) and self.sandbox.decide_backchannel(
            chosen, decision == "approve", number
        )
        done = ("approved" if decision == "approve" else "denied") if decided else "gone"
        self.set_status(303)
        self.set_header("Location", f"{self.request.path}?done={done}")
        self.set_header("Cache-Control", "no-store")
        self.finish()

    def _check_same_origin(self) -> None:
        site = self.request.headers.get("Sec-Fetch-Site")
        origin = self.request.headers.get("Origin")
        own = f"{self.request.protocol}://{self.request.host}"
        if (site is not None and site != "same-origin") or (
            site is None and origin is not None and origin != own
        ):
            raise ControlError("Answer from the phone page itself.", status=403)


_NUMBER_ONLY = "phoneNumber must be a number in E.164 form (+33...)."


def _json_object(body: bytes, what: str) -> dict[str, object]:
    """The body as a JSON object; CAMARA's 400 otherwise (``what`` says what to send)."""
    try:
        fields = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise ApiError(22, "The body is not valid JSON.") from None
    if not isinstance(fields, dict):
        raise ApiError(24, what)
    return fields


def _phone_number(fields: dict[str, object], name: str = "phoneNumber") -> str:
    number = fields.get("phoneNumber")
    if not isinstance(number, str) or not _PHONE.fullmatch(number):
        raise ApiError(24, f"{name} must be a number in E.164 form (+33...).")
    return number


class NumberVerificationHandler(ProtectedHandler):
    """CAMARA Number Verification: is ``phoneNumber`` the signed-in device's? Single-use token."""

    scope = camara.NUMBER_VERIFICATION
    envelope = "camara"

    def post(self) -> None:
        """Compare the number with the token's subscriber, then spend the token."""
        token = self.request.headers.get("Authorization", "").partition(" ")[2].strip()
        if token and self.sandbox.spent(token):  # before the check that would call it unknown
            self.sandbox.count(self.counter)
            self.sandbox.count("api_errors")
            raise ApiError(
                41,
                "This access token was single-use and is spent: get a new one (sign in again) "
                "for the next verification.",
            )
        record = self.authorize_call()
        number = _phone_number(_json_object(self.request.body, _NUMBER_ONLY))
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
        fields = _json_object(self.request.body, _NUMBER_ONLY)
        number = _phone_number(fields)
        max_age = fields.get("maxAge", 240)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or not 1 <= max_age <= 2400:
            raise ApiError(24, "maxAge must be whole hours, 1 to 2400.")
        self.answer_json(200, {"swapped": number.endswith("0") and max_age >= 12})


# Where every synthetic device is (the Eiffel Tower), and how sure the network is of it.
DEVICE_AT = (48.8584, 2.2945)
DEVICE_ACCURACY = 100.0  # metres
MIN_RADIUS, MAX_RADIUS = 2000, 200_000  # CAMARA Device Location Verification v1


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) on a 6371 km sphere."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _circle(fields: dict[str, object]) -> tuple[tuple[float, float], float]:
    area = fields.get("area")
    if not isinstance(area, dict) or area.get("areaType") != "CIRCLE":
        raise ApiError(24, 'area must be {"areaType": "CIRCLE", "center": {…}, "radius": …}.')
    center = area.get("center")
    lat = _number(center.get("latitude")) if isinstance(center, dict) else None
    lon = _number(center.get("longitude")) if isinstance(center, dict) else None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ApiError(24, "area.center needs latitude (-90 to 90) and longitude (-180 to 180).")
    radius = _number(area.get("radius"))
    if radius is None or not MIN_RADIUS <= radius <= MAX_RADIUS:
        raise ApiError(24, f"area.radius must be {MIN_RADIUS} to {MAX_RADIUS} metres.")
    return (lat, lon), radius


class LocationVerificationHandler(ProtectedHandler):
    """CAMARA Device Location Verification: is the device within ``area`` (a circle)?

    Synthetic: every device is at the Eiffel Tower, known to within 100 m. ``TRUE`` when
    that whole disc is inside the area, ``FALSE`` when none of it is, ``PARTIAL`` (with
    ``matchRate``) otherwise.
    """

    scope = camara.LOCATION_VERIFICATION
    envelope = "camara"

    def post(self) -> None:
        """Verify the signed-in device's location against the circle asked for."""
        record = self.authorize_call()
        fields = _json_object(self.request.body, "Send a JSON object with device and area.")
        device = fields.get("device")
        number = (
            _phone_number(device, "device.phoneNumber")
            if isinstance(device, dict) and "phoneNumber" in device
            else None
        )
        if number is not None and record.user.startswith("+") and number != record.user:
            raise ApiError(
                50, "device.phoneNumber is not the signed-in subscriber's number.", status=403
            )
        center, radius = _circle(fields)
        distance = _metres(DEVICE_AT, center)
        answer: dict[str, object] = {
            "lastLocationTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        }
        if distance + DEVICE_ACCURACY <= radius:
            answer["verificationResult"] = "TRUE"
        elif distance - DEVICE_ACCURACY >= radius:
            answer["verificationResult"] = "FALSE"
        else:
            inside = (radius - (distance - DEVICE_ACCURACY)) / (2 * DEVICE_ACCURACY)
            answer["verificationResult"] = "PARTIAL"
            answer["matchRate"] = max(1, min(99, round(100 * inside)))
        self.answer_json(200, answer)
