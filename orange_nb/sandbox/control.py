"""The control API under ``R/_sandbox/``: JSON, no authentication (it is a sandbox).

POST requests must say ``Content-Type: application/json``, so that a form on another
web site cannot drive them (a cross-site JSON request needs a CORS preflight, which
is never granted).
"""

from __future__ import annotations

import json

from .base import JSON, SandboxHandler, media_type
from .errors import ControlError
from .faults import MAX_QUEUED, Fault


class ControlHandler(SandboxHandler):
    """Common parts: never faulted, errors as ``{"error": …}``."""

    envelope = "control"
    faultable = False

    def locked_settings(self) -> frozenset[str]:
        """Settings this mount refuses to change over HTTP (a host application narrows it)."""
        return frozenset()

    def json_body(self) -> object:
        """The JSON body (``null`` when empty); ``ControlError`` otherwise."""
        if media_type(self.request.headers.get("Content-Type")) != JSON:
            raise ControlError("Send JSON with Content-Type: application/json.", status=415)
        if len(self.request.body) > 1024 * 1024:
            raise ControlError("The body is too large.", status=413)
        if not self.request.body.strip():
            return None
        try:
            return json.loads(self.request.body)
        except (ValueError, RecursionError):
            raise ControlError("The body is not valid JSON.") from None

    def settings_json(self) -> dict[str, object]:
        """Settings plus the client table (without secrets)."""
        return {
            **self.sandbox.settings.as_json(),
            "clients": [client.public_view() for client in self.sandbox.clients()],
        }


class SettingsHandler(ControlHandler):
    """``GET`` the settings; ``POST`` a JSON object of changes (``clients`` adds clients)."""

    def get(self) -> None:
        """Current settings."""
        self.answer_json(200, self.settings_json())

    def post(self) -> None:
        """Apply changes; 400 names the first bad one (and nothing changes)."""
        changes = self.json_body()
        if not isinstance(changes, dict):
            raise ControlError("Send a JSON object of settings to change.")
        locked = sorted(self.locked_settings() & set(changes))
        if locked:
            raise ControlError(
                f"{', '.join(locked)} cannot be changed over HTTP here; set it in the "
                "environment of the process serving the sandbox.",
                status=403,
            )
        try:
            self.sandbox.configure(**changes)
        except (ValueError, TypeError) as exc:
            raise ControlError(str(exc)) from None
        self.answer_json(200, self.settings_json())


class FaultsHandler(ControlHandler):
    """``GET`` queued faults; ``POST`` one fault object or a list; ``DELETE`` all."""

    def get(self) -> None:
        """Queued faults with their remaining counts."""
        self.answer_json(200, {"faults": self.sandbox.faults()})

    def post(self) -> None:
        """Queue faults, all or none."""
        body = self.json_body()
        items = body if isinstance(body, list) else [body]
        try:
            faults = [Fault.from_json(item) for item in items]
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        if len(self.sandbox.faults()) + len(faults) > MAX_QUEUED:
            raise ControlError(f"At most {MAX_QUEUED} faults may be queued; DELETE them first.")
        for fault in faults:
            self.sandbox.add_fault(fault)
        self.answer_json(201, {"faults": self.sandbox.faults()})

    def delete(self) -> None:
        """Forget queued faults."""
        self.sandbox.clear_faults()
        self.answer_json(200, {"faults": []})


class StatsHandler(ControlHandler):
    """``GET`` counters."""

    def get(self) -> None:
        """Counters since the last reset."""
        self.answer_json(200, self.sandbox.stats())


class ResetHandler(ControlHandler):
    """``POST``: back to defaults."""

    def post(self) -> None:
        """Reset everything."""
        self.json_body()
        self.sandbox.reset()
        self.answer_json(200, {"reset": True})


class RevokeAllHandler(ControlHandler):
    """``POST``: revoke every issued token."""

    def post(self) -> None:
        """Revoke all tokens."""
        self.json_body()
        self.answer_json(200, {"revoked": self.sandbox.revoke_all()})


class ExpireAccessTokensHandler(ControlHandler):
    """``POST``: make every current access token expired."""

    def post(self) -> None:
        """Expire access tokens."""
        self.json_body()
        self.answer_json(200, {"expired": self.sandbox.expire_access_tokens()})
