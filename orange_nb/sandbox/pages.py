"""The sandbox's HTML pages: sign-in, consent, the "phone", and errors that must not redirect.

Plain server-rendered HTML; every value shown goes through ``html.escape``; forms post
to the relative URL ``authorize`` (the phone's to its own URL) so they work under any host
and path prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

PAGE_HEADERS: Mapping[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    # No scripts, no framing (clickjacking a consent page), no referrer (URLs carry state).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

# The phone page posts to itself and reloads itself (a meta refresh: still no script). Its
# referrer stays on this origin so that a browser's form POST names where it came from.
PHONE_HEADERS: Mapping[str, str] = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
}
PHONE_REFRESH = 5  # seconds: a new request shows up without touching the page

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
 background:#f4f4f4;color:#111}
.banner{background:#000;color:#fff;padding:.6rem 1rem;font-size:.9rem;letter-spacing:.02em}
.banner b{color:#ff7900}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-top:4px solid #ff7900;
 box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin:0 0 .5rem}
.muted{color:#595959;margin:.25rem 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=text],input[type=password]{width:100%;padding:.6rem;border:2px solid #ccc;font:inherit}
input:focus{outline:none;border-color:#ff7900}
button{font:inherit;font-weight:700;padding:.65rem 1.4rem;border:2px solid #ff7900;
 background:#ff7900;color:#000;cursor:pointer}
button:hover{background:#000;border-color:#000;color:#fff}
button.secondary{background:#fff;border-color:#000;color:#000}
button.secondary:hover{background:#000;color:#fff}
.actions{display:flex;gap:.75rem;justify-content:flex-end;margin-top:1.5rem}
ul.scopes{list-style:none;padding:0;margin:1rem 0}
ul.scopes li{padding:.6rem 0;border-bottom:1px solid #e5e5e5}
ul.scopes code{display:block;color:#595959;font-size:.85rem}
.error{background:#fff0f0;border-left:4px solid #cd3c14;padding:.6rem .8rem;margin:1rem 0}
.hint{color:#595959;font-size:.85rem;margin-top:1.5rem}
.request{border:2px solid #e5e5e5;padding:1rem;margin:1rem 0}
.binding{font-size:1.25rem;font-weight:700;margin:0 0 .5rem}
.notice{background:#f0f7ff;border-left:4px solid #527edb;padding:.6rem .8rem;margin:1rem 0}
"""


def _page(title: str, body: str, head: str = "") -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex">{head}'
        f"<title>{escape(title)} · orange_nb sandbox</title><style>{_CSS}</style></head>"
        f'<body><div class="banner" role="note"><b>orange_nb sandbox</b> — synthetic data, '
        f"not Orange</div><main>{body}</main></body></html>\n"
    )


def _hidden(pending_id: str, step: str) -> str:
    return (
        f'<input type="hidden" name="pending" value="{escape(pending_id)}">'
        f'<input type="hidden" name="step" value="{escape(step)}">'
    )


def sign_in_page(pending_id: str, client_id: str, username: str, error: str | None = None) -> str:
    """The sign-in form, ``#username`` pre-filled; any password is accepted."""
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _page(
        "Sign in",
        "<h1>Sign in</h1>"
        f'<p class="muted">to continue to <strong>{escape(client_id)}</strong></p>{problem}'
        '<form method="post" action="authorize" autocomplete="off">'
        f"{_hidden(pending_id, 'sign-in')}"
        '<label for="username">User name</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'maxlength="64" required autofocus>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" placeholder="anything works">'
        '<div class="actions"><button type="submit" id="sign-in">Sign in</button></div>'
        "</form>"
        '<p class="hint">Any user name and password work: the sandbox has no real accounts '
        "and its data are invented.</p>",
    )


def consent_page(
    pending_id: str,
    client_id: str,
    user_name: str,
    scopes: Iterable[str],
    words: Mapping[str, str],
) -> str:
    """The consent form: the requested scopes in words, with Approve and Deny."""
    items = "".join(
        f"<li>{escape(words.get(scope, scope))}<code>{escape(scope)}</code></li>"
        for scope in scopes
    )
    return _page(
        "Allow access?",
        "<h1>Allow access?</h1>"
        f'<p class="muted">Signed in as <strong>{escape(user_name)}</strong></p>'
        f"<p><strong>{escape(client_id)}</strong> asks to:</p>"
        f'<ul class="scopes">{items}</ul>'
        '<form method="post" action="authorize">'
        f"{_hidden(pending_id, 'consent')}"
        '<div class="actions">'
        '<button type="submit" id="deny" name="decision" value="deny" class="secondary">'
        "Deny</button>"
        '<button type="submit" id="approve" name="decision" value="approve">Approve</button>'
        "</div></form>",
    )


def error_page(title: str, message: str) -> str:
    """An error shown in the browser (nothing is sent back to the application)."""
    return _page(
        title,
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"
        '<p class="hint">Nothing was sent back to the application. Start the sign-in again '
        "from the notebook.</p>",
    )


_NOTICES = {
    "approved": "Approved: the notebook signs in at its next poll.",
    "denied": "Denied: the notebook is told the sign-in was refused.",
    "gone": "That request was no longer waiting (answered already, or expired).",
}


def _time_left(seconds: object) -> str:
    whole = seconds if isinstance(seconds, int) else 0
    return f"{whole // 60}:{whole % 60:02d}"


def phone_page(
    number: str,
    requests: Iterable[Mapping[str, object]],
    words: Mapping[str, str],
    *,
    notice: str | None = None,
    xsrf: str | None = None,
) -> str:
    """The sandbox's "phone" for ``number``: each pending sign-in request with Approve / Deny.

    ``requests`` are the control API's views; ``xsrf`` (a Jupyter server's ``_xsrf``) goes in
    every form when the sandbox is mounted there.
    """
    token = f'<input type="hidden" name="_xsrf" value="{escape(xsrf)}">' if xsrf else ""
    cards = []
    for request in requests:
        handle = escape(str(request.get("id", "")))
        message = request.get("binding_message")
        binding = f'<p class="binding">{escape(message)}</p>' if isinstance(message, str) else ""
        scopes = request.get("scopes")
        items = "".join(
            f"<li>{escape(words.get(scope, scope))}<code>{escape(scope)}</code></li>"
            for scope in (scopes if isinstance(scopes, list) else [])
            if isinstance(scope, str)
        )
        cards.append(
            f'<section class="request" id="request-{handle}">{binding}'
            f"<p><strong>{escape(str(request.get('client_id', '')))}</strong> asks to sign "
            f'you in and to:</p><ul class="scopes">{items}</ul>'
            f'<p class="muted">Expires in {_time_left(request.get("expires_in"))}</p>'
            f'<form method="post" autocomplete="off">{token}'
            f'<input type="hidden" name="request" value="{handle}">'
            '<div class="actions">'
            '<button type="submit" name="decision" value="deny" class="secondary" '
            f'id="deny-{handle}">Deny</button>'
            '<button type="submit" name="decision" value="approve" '
            f'id="approve-{handle}">Approve</button>'
            "</div></form></section>"
        )
    said = _NOTICES.get(notice or "")
    shown = f'<p class="notice" role="status">{escape(said)}</p>' if said else ""
    body = "".join(cards) or (
        '<p class="muted" id="nothing">No sign-in request is waiting for this phone.</p>'
    )
    title = f"Phone {number}" if number else "Sign-in by phone"  # a request gone: no number
    return _page(
        title,
        f"<h1>{escape(title)}</h1>{shown}{body}"
        f"<p class=\"hint\">The sandbox's stand-in for the person's phone: sign-in requests "
        f"sent to this number (CIBA) appear here. This page reloads every {PHONE_REFRESH} s.</p>",
        head=f'<meta http-equiv="refresh" content="{PHONE_REFRESH}">',
    )
