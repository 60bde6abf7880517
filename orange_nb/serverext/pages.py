"""The small HTML pages the browser sees at the end of a sign-in. Every inserted text is escaped.

They are styled (light and dark) by one static style block and may run one static script,
both allowed by hash in :data:`CSP`: nothing inline that is not ours ever runs or styles.
The "Signed in" page tries to close its tab; browsers allow that only for a tab a script
opened, so where the tab stays the page says so plainly instead of promising it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from html import escape

_STYLE = """
:root { color-scheme: light dark; --fg: #1a1a1a; --muted: #595959; --bg: #f6f6f6;
  --card: #fff; --line: #ddd; --accent: #ff7900; --ok: #228722; --bad: #cd3c14; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #eee; --muted: #b3b3b3; --bg: #141414; --card: #1f1f1f; --line: #333;
    --ok: #66cc66; --bad: #ff6b4a; }
}
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 34em; margin: 12vh auto 0; padding: 1.5em 2em 1.75em; background: var(--card);
  border: 1px solid var(--line); border-top: 4px solid var(--accent); border-radius: 6px; }
h1 { font-size: 1.35em; margin: 0 0 0.5em; }
h1::before { content: "\\25CF\\00A0"; }
.ok h1::before { color: var(--ok); }
.bad h1::before { color: var(--bad); }
p { margin: 0.5em 0 0; }
p.next { color: var(--muted); }
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<main class="{tone}">
<h1>{title}</h1>
<p>{message}</p>
<p class="next" id="orange-nb-next">{next}</p>
</main>
{script}</body>
</html>
"""

CLOSE_TAB = "Close this tab to return to your notebook."
CANNOT_CLOSE = (
    "This tab could not close itself (a browser lets a page close only a tab that a script "
    "opened): close it to return to your notebook."
)

# Closes the tab where the browser allows it; where it does not, the page says so.
_CLOSE_TAB_JS = (
    "window.close();setTimeout(function(){if(!window.closed){"
    "document.getElementById('orange-nb-next').textContent="
    + json.dumps(CANNOT_CLOSE)
    + ";}},400);"
)
_CLOSE_TAB = f"<script>{_CLOSE_TAB_JS}</script>\n"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = (
    f"default-src 'none'; style-src {_sha256(_STYLE)}; script-src {_sha256(_CLOSE_TAB_JS)}; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""These pages' Content-Security-Policy: only the style and the script above, no framing."""

RUN_AGAIN = "Run the login cell in your notebook again."

# The same instruction the notebook gives for a refusal (orange_nb.oauth.flow's advice), so
# the tab and the widget tell one story.
REFUSED = (
    "The sign-in was refused (Deny on the consent page, or the account may not use this "
    "application). Sign in again and approve to continue."
)


def page(
    title: str, message: str, *, next_step: str = "", tone: str = "bad", close_tab: bool = False
) -> str:
    """A page with a heading, one paragraph and, below it, what to do next."""
    return _PAGE.format(
        title=escape(title),
        message=escape(message),
        next=escape(next_step or CLOSE_TAB),
        tone="ok" if tone == "ok" else "bad",
        style=_STYLE,
        script=_CLOSE_TAB if close_tab else "",
    )


def signed_in() -> str:
    """The page after a successful sign-in: closes itself where the browser allows it."""
    return page(
        "Signed in",
        "Your notebook is signed in and carries on by itself.",
        tone="ok",
        close_tab=True,
    )


def refused(params: Mapping[str, str]) -> str:
    """The page for an answer carrying an OAuth ``error`` (or no code at all)."""
    error = params.get("error", "")
    description = params.get("error_description", "")
    if error == "access_denied":
        sentence = REFUSED
    elif error:
        said = f" ({description})" if description else ""
        sentence = (
            f"Orange answered “{error}”{said}, so the notebook was not signed in. "
            "Your notebook says what to do next."
        )
    else:
        sentence = (
            "Orange's answer carried no authorization code, so the notebook was not signed in. "
            f"{RUN_AGAIN}"
        )
    return page("Sign-in failed", sentence)


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
