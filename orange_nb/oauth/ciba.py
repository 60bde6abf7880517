"""OpenID CIBA in poll mode: sign a person in on their phone, without any redirect.

1. :meth:`Backchannel.start` sends the backchannel authentication request (``login_hint``
   such as ``tel:+33612345678``, ``scope``, optional ``binding_message`` and
   ``requested_expiry``) and returns a :class:`BackchannelRequest` (``auth_req_id``,
   ``expires_in``, ``interval``).
2. :meth:`Backchannel.wait` polls the token endpoint with
   ``grant_type=urn:openid:params:grant-type:ciba`` every ``interval`` seconds:
   ``authorization_pending`` waits on, ``slow_down`` adds 5 s to the interval for good,
   ``expired_token`` (or the request's own ``expires_in`` passing) is ``LoginExpired``,
   ``access_denied`` is ``LoginDenied``. A cancelled wait (its ``threading.Event`` set) is
   ``LoginCancelled``. The result is the same ``Token`` as the code flow gives.

Client authentication is the token endpoint's (``private_key_jwt`` for CAMARA providers) on
both endpoints. Pure: no Jupyter; the clock and the sleep can be injected (tests).
CIBA Core 1.0 §7 (request), §10.1 (polling), §11 (errors); CAMARA's profile adds the
``tel:+E164`` hint and exactly one ``dpv:`` purpose scope.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    ConfigError,
    LoginCancelled,
    LoginDenied,
    LoginError,
    LoginExpired,
    NetworkError,
    one_line,
    parse_json,
    request_id_of,
)
from .endpoint import TokenEndpoint
from .secret import Secret
from .token import Token, parse_expires_in

GRANT_TYPE = "urn:openid:params:grant-type:ciba"
DEFAULT_INTERVAL = 5.0  # CIBA §7.3: when the provider names none
SLOW_DOWN_STEP = 5.0  # CIBA §11 (RFC 8628 §3.5): slow_down adds 5 s
MIN_INTERVAL = 0.05  # a provider's "interval": 0 must not become a busy loop
NETWORK_TRIES = 3  # consecutive polls that may fail on the network before the wait gives up
MAX_BINDING_MESSAGE = 64

_E164 = re.compile(r"tel:\+[1-9][0-9]{5,14}")
_OTHER_HINTS = re.compile(r"(ipport|operatortoken):[!-~]{1,512}")  # CAMARA's other hint kinds
_OAUTH_ERROR = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,60}")

_START_ADVICE = {
    "invalid_request": "Orange refused the sign-in request as malformed; check the login hint "
    "(tel:+ and the number in international form) and the scopes.",
    "invalid_scope": "Orange refused the requested scopes; check `scopes` against the API's "
    "page (one dpv: purpose scope).",
    "unknown_user_id": "Orange knows no subscriber with this number; check it (the playground "
    "takes its +990 numbers only).",
    "unauthorized_client": "This application may not use CIBA; check its settings on the "
    "developer portal.",
    "invalid_client": "Orange did not accept the client authentication: check the client id, "
    "the JWK set registered for the application, `key_id`, and this computer's clock.",
    "invalid_binding_message": f"Orange refused the binding message: keep it short (at most "
    f"{MAX_BINDING_MESSAGE} characters) and plain.",
    "access_denied": "Orange refused to start this sign-in.",
    "expired_login_hint_token": "The login hint has expired; start again.",
}
_POLL_ADVICE = {
    "invalid_grant": "Orange does not know this sign-in request (auth_req_id), or it was "
    "finished already. Start a new one with `orange.begin_ciba(…)`.",
}


def check_login_hint(login_hint: str) -> str:
    """``login_hint`` as CAMARA takes it (``tel:+33612345678``; ``+33…`` gets its ``tel:``).

    ``ConfigError`` for anything else: a number not in international (E.164) form would be
    refused by the provider after a round trip, or reach the wrong person.
    """
    hint = re.sub(r"[\s.()-]", "", login_hint) if isinstance(login_hint, str) else ""
    if hint.startswith("+"):
        hint = "tel:" + hint
    if _E164.fullmatch(hint) or (
        isinstance(login_hint, str) and _OTHER_HINTS.fullmatch(login_hint.strip())
    ):
        return hint if _E164.fullmatch(hint) else login_hint.strip()
    raise ConfigError(
        "The login hint must be a phone number in international form, like tel:+33612345678 "
        "(the CAMARA playground uses +990… numbers)."
    )


def check_purpose(scopes: Sequence[str]) -> None:
    """CAMARA: a request asking for any ``dpv:`` purpose scope asks for exactly one."""
    purposes = [s for s in scopes if s.startswith("dpv:")]
    if len(purposes) > 1:
        raise ConfigError(
            f"A CAMARA request carries exactly one dpv: purpose scope, not {len(purposes)} "
            f"({' '.join(purposes)[:200]}). Keep the one the API's page names."
        )


def mask_phone(login_hint: str) -> str:
    """A phone number as outputs show it: ``tel:+33612345678`` → ``+33 6 •• •• •• 78``."""
    digits = re.sub(r"\D", "", login_hint) if login_hint.startswith(("tel:", "+")) else ""
    if len(digits) < 6:
        return "•••"  # ipport:/operatortoken: hints name no number to show
    code = _country_code_length(digits)
    middle = digits[code + 1 : -2]
    pairs = ["••" if len(middle[i : i + 2]) == 2 else "•" for i in range(0, len(middle), 2)]
    return f"+{digits[:code]} {digits[code]} {' '.join(pairs)} {digits[-2:]}"


# ITU-T E.164 country codes of two digits (1 and 7 are the one-digit ones, the rest have
# three: +990… of the CAMARA playground among them).
_TWO_DIGIT_CODES = frozenset(
    {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54}
    | {55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98}
)


def _country_code_length(digits: str) -> int:
    if digits[0] in "17":
        return 1
    return 2 if int(digits[:2]) in _TWO_DIGIT_CODES else 3


@dataclass(repr=False)
class BackchannelRequest:
    """One backchannel authentication request the provider accepted.

    ``auth_req_id`` is a ``Secret`` (whoever holds it may collect the tokens). ``interval``
    grows with each ``slow_down``; ``expires_at`` and ``next_poll_at`` are clock times.
    """

    auth_req_id: Secret
    login_hint: str
    scopes: tuple[str, ...]
    requested_at: float
    expires_at: float
    interval: float
    next_poll_at: float
    polls: int = 0
    token: Token | None = None
    error: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def phone(self) -> str:
        """The login hint, masked for display."""
        return mask_phone(self.login_hint)

    def __repr__(self) -> str:
        return f"BackchannelRequest({self.phone}, interval={self.interval:g}s)"


class Backchannel:
    """CIBA poll mode for one client at one provider: ``start`` a request, then ``wait``.

    ``endpoint`` is the token endpoint (its client authentication is used for both calls);
    ``url`` the backchannel authentication endpoint. ``clock`` and ``sleep`` default to
    ``time.time`` and a sleep that a cancel interrupts.
    """

    def __init__(
        self,
        endpoint: TokenEndpoint,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.url = url
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"Backchannel({self.url!r}, client_id={self.endpoint.client_id!r})"

    def start(
        self,
        login_hint: str,
        scopes: Sequence[str],
        *,
        binding_message: str | None = None,
        requested_expiry: float | None = None,
    ) -> BackchannelRequest:
        """Ask the provider to sign the person in on their phone; ``LoginError`` if refused.

        ``ConfigError`` before any request for a hint that is no E.164 number, two ``dpv:``
        purposes, no scope, or a binding message too long to show on a phone.
        """
        hint = check_login_hint(login_hint)
        scope_list = tuple(dict.fromkeys(s for x in scopes for s in x.split()))
        if not scope_list:
            raise ConfigError("A backchannel sign-in needs scopes (for example: openid).")
        check_purpose(scope_list)
        form: dict[str, str | Secret] = {"login_hint": hint, "scope": " ".join(scope_list)}
        if binding_message is not None:
            if len(binding_message) > MAX_BINDING_MESSAGE or not binding_message.isprintable():
                raise ConfigError(
                    f"The binding message is shown on the phone: keep it to at most "
                    f"{MAX_BINDING_MESSAGE} printable characters."
                )
            form["binding_message"] = binding_message
        if requested_expiry is not None:
            form["requested_expiry"] = str(int(requested_expiry))
        requested_at = self._clock()
        response = self.endpoint.post(self.url, form, _correlated())
        body = _json(response.content)
        request_id = request_id_of(response.headers)
        auth_req_id = body.get("auth_req_id") if isinstance(body, dict) else None
        if not (response.is_success and isinstance(auth_req_id, str) and auth_req_id):
            raise _refusal("the sign-in request", response.status_code, body, request_id)
        assert isinstance(body, dict)
        expires_in = parse_expires_in(body.get("expires_in"))
        if expires_in is None or expires_in <= 0:
            raise LoginError(
                "Orange's backchannel endpoint accepted the sign-in request without saying "
                "how long it lasts (expires_in). Try again; if it persists, check "
                "`backchannel_url`.",
                request_id=request_id,
            )
        interval = parse_expires_in(body.get("interval"))
        step = DEFAULT_INTERVAL if interval is None else max(interval, MIN_INTERVAL)
        return BackchannelRequest(
            auth_req_id=Secret(auth_req_id),
            login_hint=hint,
            scopes=scope_list,
            requested_at=requested_at,
            expires_at=requested_at + expires_in,
            interval=step,
            next_poll_at=requested_at + step,
        )

    def poll(self, request: BackchannelRequest) -> Token | None:
        """One poll of the token endpoint: the token, ``None`` while pending (a ``slow_down``
        grows the interval), or the error that ends the sign-in."""
        endpoint = self.endpoint
        form: dict[str, str | Secret] = {
            "grant_type": GRANT_TYPE,
            "auth_req_id": request.auth_req_id,
        }
        now = self._clock()
        request.polls += 1
        request.next_poll_at = now + request.interval
        response = endpoint.post(endpoint.url, form, _correlated())
        body = _json(response.content)
        error = _error_of(body) if response.status_code >= 400 else ""
        request_id = request_id_of(response.headers)
        if error == "authorization_pending":
            return None
        if error == "slow_down":
            request.interval += SLOW_DOWN_STEP
            request.next_poll_at = now + request.interval
            return None
        if error == "expired_token":
            raise _expired(request, request_id)
        if error == "access_denied":
            raise LoginDenied(
                f"The sign-in was refused on the phone {request.phone}. Ask the person to "
                "approve it, then start again with `orange.begin_ciba(…)`.",
                error=error,
                request_id=request_id,
            )
        return endpoint.token_from(
            response.status_code,
            response.content,
            response.headers,
            refreshing=False,
            nonce=None,
            requested_at=now,
            requested_scopes=request.scopes,
            advice=_POLL_ADVICE,
        )

    def wait(
        self,
        request: BackchannelRequest,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Token:
        """Poll until the person approves: the ``Token``. Single flight: a second waiter on
        the same request waits for the first one's outcome instead of polling too.

        ``TimeoutError`` after ``timeout`` seconds (the request stays valid: wait again);
        ``LoginExpired``, ``LoginDenied``, ``LoginCancelled`` (``cancel`` was set) or
        ``LoginError`` otherwise.
        """
        cancel = cancel if cancel is not None else threading.Event()
        with request.lock:
            if request.token is not None:
                return request.token
            if request.error is not None:
                raise request.error
            try:
                request.token = self._wait(request, timeout, cancel)
            except (TimeoutError, LoginCancelled):
                raise  # the request itself is still alive
            except BaseException as exc:
                request.error = exc
                raise
            return request.token

    def _wait(
        self, request: BackchannelRequest, timeout: float | None, cancel: threading.Event
    ) -> Token:
        sleep = self._sleep if self._sleep is not None else cancel.wait
        deadline = None if timeout is None else self._clock() + timeout
        failures = 0
        while True:
            if cancel.is_set():
                raise LoginCancelled("The phone sign-in was cancelled here.")
            now = self._clock()
            wake = max(request.next_poll_at, now)
            if wake >= request.expires_at:
                raise _expired(request, None)
            if deadline is not None and wake > deadline:
                if deadline > now:
                    sleep(deadline - now)
                raise TimeoutError(
                    f"Nobody approved the sign-in on the phone {request.phone} within "
                    f"{timeout:g} s. It stays valid until it expires: wait again."
                )
            if wake > now:
                sleep(wake - now)
                continue  # look at the cancel, the clock and the deadline again
            try:
                token = self.poll(request)
            except NetworkError:
                failures += 1
                if failures >= NETWORK_TRIES:
                    raise
                continue  # next_poll_at moved on: the next try waits one interval
            failures = 0
            if token is not None:
                return token


def _correlated() -> dict[str, str]:
    # CAMARA: every call carries an x-correlator; the provider echoes it, errors show it.
    return {"x-correlator": str(uuid.uuid4())}


def _json(content: bytes) -> Any:
    try:
        return parse_json(content)
    except ValueError:
        return None


def _error_of(body: Any) -> str:
    raw = body.get("error") if isinstance(body, dict) else None
    return raw.strip() if isinstance(raw, str) and _OAUTH_ERROR.fullmatch(raw.strip()) else ""


def _expired(request: BackchannelRequest, request_id: str | None) -> LoginExpired:
    return LoginExpired(
        f"The sign-in request to the phone {request.phone} expired before it was approved. "
        "Start a new one with `orange.begin_ciba(…)` and approve it on the phone in time.",
        error="expired_token",
        request_id=request_id,
    )


def _refusal(what: str, status: int, body: Any, request_id: str | None) -> LoginError:
    error = _error_of(body)
    described = body.get("error_description") if isinstance(body, dict) else None
    description = one_line(described, 200) if isinstance(described, str) else ""
    if not error:
        return LoginError(
            f"Orange's backchannel endpoint answered {what} with HTTP {status} and no OAuth "
            "error. Check `backchannel_url`, then try again.",
            request_id=request_id,
        )
    said = f": {description}" if description else ""
    advice = _START_ADVICE.get(error, "")
    error_class = LoginDenied if error == "access_denied" else LoginError
    return error_class(
        f"Orange's backchannel endpoint refused {what} ({error}{said}). {advice}".strip(),
        error=error,
        description=description,
        request_id=request_id,
    )
