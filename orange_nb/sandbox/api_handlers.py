"""The sample APIs: mobility zones and presence, reports, echo, and a CAMARA-style KYC match."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date, datetime, timezone
from urllib.parse import parse_qsl, urlencode

from .base import ParamProblem, single_values
from .data import KYC_FIELDS, ZONES, ZONES_BY_ID, Zone, kyc_reference, presence_page
from .errors import ApiError
from .protected import ProtectedHandler

MAX_JSON_BODY = 1024 * 1024
MAX_ECHO_BODY = 64 * 1024
DEFAULT_LIMIT = 24
MAX_LIMIT = 500
MAX_DAYS = 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"\d{1,9}")
_HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def _zone(zone_id: str) -> Zone:
    zone = ZONES_BY_ID.get(zone_id)
    if zone is None:
        raise ApiError(60, f"No zone {zone_id[:60]!r}. GET …/zones lists them.")
    return zone


def _json_object(body: bytes) -> dict[str, object]:
    """A JSON object body: code 21 when absent, 22 when not JSON or not an object."""
    if len(body) > MAX_JSON_BODY:
        raise ApiError(66, f"The body exceeds {MAX_JSON_BODY} bytes.")
    if not body.strip():
        raise ApiError(21, "A JSON object is required in the body.")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(22, "The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(22, "The body must be a JSON object.")
    return value


class ZonesHandler(ProtectedHandler):
    """``GET …/zones``: every zone."""

    def get(self) -> None:
        """The list of zones."""
        self.authorize_call()
        self.answer_json(200, {"items": [zone.as_json() for zone in ZONES]})


class ZoneHandler(ProtectedHandler):
    """``GET …/zones/{zone_id}``: one zone."""

    def get(self, zone_id: str) -> None:
        """One zone, or 404 code 60."""
        self.authorize_call()
        self.answer_json(200, _zone(zone_id).as_json())


class PresenceHandler(ProtectedHandler):
    """``GET …/zones/{zone_id}/presence?start&end&limit&cursor|offset``: hourly records, paged."""

    def get(self, zone_id: str) -> None:
        """One page of hourly records with ``next`` (and a ``Link`` header) until the last."""
        self.authorize_call()
        zone = _zone(zone_id)
        try:
            query = single_values(self.request.query)
        except ParamProblem as exc:
            raise ApiError(28, str(exc)) from None
        start, end = self._dates(query)
        limit = self._integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = self._offset(query)
        total = ((end - start).days + 1) * 24
        count = max(0, min(limit, total - offset))
        items = presence_page(zone, start, offset, count)
        next_url = None
        headers = {}
        if offset + limit < total:
            params = {"start": start.isoformat(), "end": end.isoformat(), "limit": str(limit)}
            params["cursor"] = _cursor(offset + limit)
            next_url = f"{self.root_url()}{self.path_under_root()}?{urlencode(params)}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        self.answer_json(200, {"items": items, "next": next_url, "total": total}, headers)

    @staticmethod
    def _dates(query: dict[str, str]) -> tuple[date, date]:
        if not query.get("start"):
            raise ApiError(27, "start is required (YYYY-MM-DD).")
        start = _date(query, "start")
        end = _date(query, "end") if query.get("end") else start
        if start > end:
            raise ApiError(28, "start must not be after end.")
        if (end - start).days + 1 > MAX_DAYS:
            raise ApiError(28, f"The range may span at most {MAX_DAYS} days.")
        return start, end

    @staticmethod
    def _integer(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
        raw = query.get(name)
        if raw is None:
            return default
        if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
            raise ApiError(28, f"{name} must be an integer from {low} to {high}.")
        return int(raw)

    def _offset(self, query: dict[str, str]) -> int:
        if "cursor" in query and "offset" in query:
            raise ApiError(28, "Give either cursor or offset, not both.")
        if "cursor" in query:
            return _read_cursor(query["cursor"])
        return self._integer(query, "offset", 0, 0, MAX_DAYS * 24)


def _date(query: dict[str, str], name: str) -> date:
    raw = query[name]
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(28, f"{name} must be a date as YYYY-MM-DD.") from None


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).rstrip(b"=").decode("ascii")


def _read_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    kind, _, number = raw.partition(":")
    if kind != "o" or not _DIGITS.fullmatch(number):
        raise ApiError(28, "cursor is not one this API gave; follow the next link as given.")
    return int(number)


class ReportsHandler(ProtectedHandler):
    """``POST …/reports``: create a report about a zone (JSON object with ``zone_id``)."""

    def post(self) -> None:
        """201 with the created report."""
        self.authorize_call()
        fields = _json_object(self.request.body)
        zone_id = fields.get("zone_id")
        if zone_id is None:
            raise ApiError(23, "zone_id is required in the body.")
        if not isinstance(zone_id, str) or zone_id not in ZONES_BY_ID:
            raise ApiError(24, "zone_id must name a zone (GET …/zones lists them).")
        created = {
            **fields,
            "id": self.sandbox.next_report_id(),
            "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": "received",
        }
        self.answer_json(201, created)


class EchoHandler(ProtectedHandler):
    """``R/sandbox/echo/v1/…``: what the client sent (any valid token, no scope needed)."""

    scope = None

    def _echo(self, _path: str) -> None:
        self.authorize_call()
        if len(self.request.body) > MAX_ECHO_BODY:
            raise ApiError(66, f"The echo API takes bodies up to {MAX_ECHO_BODY} bytes.")
        headers = [
            [name, value]
            for name, value in self.request.headers.get_all()
            if name.lower() not in _HIDDEN_HEADERS
        ]
        query = parse_qsl(self.request.query, keep_blank_values=True, errors="replace")
        self.answer_json(
            200,
            {
                "method": self.request.method,
                "path": self.request.path,
                "query": [list(pair) for pair in query],
                "headers": headers,
                "body": self.request.body.decode("utf-8", errors="replace"),
            },
        )

    get = post = put = patch = delete = _echo


class KycMatchHandler(ProtectedHandler):
    """``POST R/sandbox/kyc-match/v0.3/match``: CAMARA-style; errors in CAMARA's envelope."""

    scope = "kyc-match:match"
    envelope = "camara"

    def post(self) -> None:
        """For each identity field sent, whether it matches the user's synthetic profile."""
        record = self.authorize_call()
        fields = _json_object(self.request.body)
        given = {k: v for k, v in fields.items() if k in KYC_FIELDS}
        if not given or not all(isinstance(v, str) for v in given.values()):
            raise ApiError(22, f"Send at least one of {', '.join(KYC_FIELDS)} as strings.")
        reference = kyc_reference(record.user)
        answer = {
            f"{name}Match": "true"
            if str(value).strip().lower() == reference[name].lower()
            else "false"
            for name, value in given.items()
        }
        correlator = self.request.headers.get("x-correlator")
        headers = {}
        if correlator and re.fullmatch(r"[A-Za-z0-9\-_:;./<>{}]{1,256}", correlator):
            headers["x-correlator"] = correlator
        self.answer_json(200, answer, headers)
