"""The small HTML pages the browser sees at the end of a sign-in. Every inserted text is escaped."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html import escape

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 36em; margin: 4em auto;
padding: 0 1em; }}</style>
</head>
<body>
<h1>{title}</h1>
<p>{message}</p>
{script}</body>
</html>
"""

# A popup opened by the notebook closes itself; a tab the person opened stays.
_CLOSE_POPUP_JS = "if (window.opener) { window.close(); }"
_CLOSE_POPUP = f"<script>{_CLOSE_POPUP_JS}</script>\n"

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_CLOSE_POPUP_JS.encode()).digest()).decode()
    + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""These pages' Content-Security-Policy: no script but the one above, no framing."""

RUN_AGAIN = "Run the login cell in your notebook again."


def page(title: str, message: str, *, close_popup: bool = False) -> str:
    """A page with a heading and one paragraph."""
    return _PAGE.format(
        title=escape(title),
        message=escape(message),
        script=_CLOSE_POPUP if close_popup else "",
    )


def signed_in() -> str:
    """The page after a successful sign-in."""
    return page(
        "Signed in",
        "Signed in — you can close this tab and return to your notebook.",
        close_popup=True,
    )


def refused(params: Mapping[str, str]) -> str:
    """The page for an answer carrying an OAuth ``error`` (or no code at all)."""
    error = params.get("error", "")
    description = params.get("error_description", "")
    if error == "access_denied":
        sentence = "The sign-in was refused, so the notebook was not signed in."
    elif error:
        said = f" ({description})" if description else ""
        sentence = f"Orange answered “{error}”{said}, so the notebook was not signed in."
    else:
        sentence = (
            "Orange's answer carried no authorization code, so the notebook was not signed in."
        )
    return page(
        "Sign-in failed",
        f"{sentence} Your notebook says what to do next, then run the login cell again.",
    )


def stale() -> str:
    """The page for an answer that matches no pending login."""
    return page(
        "This sign-in link is stale",
        "This answer matches no login in progress: it expired, was already used, or comes "
        f"from an older link. {RUN_AGAIN}",
    )


def malformed(reason: str) -> str:
    """The page for an answer that cannot be trusted or read."""
    return page("Sign-in answer refused", f"{reason} {RUN_AGAIN}")
