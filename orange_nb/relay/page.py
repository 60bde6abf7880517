"""The relay page: one static HTML file, its script and style inline and allowed by hash.

What the script does is described in ``docs/relay.md``; in short, on ``#go=URL`` it checks
``URL`` (an allowed authorize origin, ``redirect_uri`` = this page, one ``state`` whose
return target is allowed), marks this tab for that exact ``state`` in ``sessionStorage`` and
goes on; on ``?code|error&state`` it returns to the target automatically only when the
target is allowed *and* the mark is there (the mark is used up), shows an interstitial for an
allowed target without the mark, and refuses any other target while offering the address to
paste. It never fetches anything, writes text only through ``textContent`` (the CSP's
``require-trusted-types-for`` would stop any markup sink), and does nothing at all inside a
frame: ``frame-ancestors`` cannot be set from a ``<meta>`` CSP, so the host should also send
the headers of :data:`HEADERS_FILE` (written next to the page for hosts that read it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .patterns import LOOPBACK_PATTERNS, OriginPattern, parse_all

DEFAULT_AUTHORIZE = ("https://api.orange.com",)
"""Where ``#go=`` may continue to unless ``--authorize-origin`` says otherwise: Orange."""
HEADERS_FILE = "_headers"
MARK_PREFIX = "orange_nb.relay:"
MARK_TTL_MS = 15 * 60 * 1000  # a flow lives 10 minutes; a mark a little longer

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 38em; margin: 4em auto; padding: 0 1em;
  color: #222; }
h1 { font-size: 1.4em; }
#detail { color: #555; overflow-wrap: anywhere; }
textarea { width: 100%; font: 13px/1.4 ui-monospace, monospace; }
button { font: inherit; padding: .4em 1.2em; background: #ff7900; color: #000; border: 0;
  border-radius: 4px; cursor: pointer; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var CONFIG = __CONFIG__;
  function el(id) { return document.getElementById(id); }
  function show(view, title, message, detail) {
    document.body.setAttribute("data-view", view);
    el("title").textContent = title;
    el("message").textContent = message;
    el("detail").textContent = detail || "";
    el("detail").hidden = !detail;
  }
  function offerPaste() {
    el("address").value = location.href;
    el("paste").hidden = false;
  }
  function originOf(text) {
    var u;
    try { u = new URL(text); } catch (e) { return null; }
    var scheme = u.protocol.slice(0, -1);
    if (scheme !== "http" && scheme !== "https") { return null; }
    var host = u.hostname;
    if (u.username || u.password || !host || host.split(".").indexOf("") !== -1) { return null; }
    var port = u.port ? Number(u.port) : (scheme === "https" ? 443 : 80);
    return { url: u, scheme: scheme, host: host, port: port };
  }
  function matches(list, o) {
    for (var i = 0; i < list.length; i++) {
      var p = list[i];
      if (p.scheme !== o.scheme || (p.port !== null && p.port !== o.port)) { continue; }
      var suffix = "." + p.host;
      if (p.wildcard ? (o.host.length > suffix.length &&
                        o.host.slice(-suffix.length) === suffix) : o.host === p.host) {
        return true;
      }
    }
    return false;
  }
  function fromB64(s) {
    if (!/^[A-Za-z0-9_-]+$/.test(s)) { return null; }
    var b = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b.length % 4) { b += "="; }
    try {
      var bin = atob(b), bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (e) { return null; }
  }
  // "" when the state names no target (paste), null when it cannot be read.
  function targetOf(state) {
    var dot = state.indexOf(".");
    return dot < 0 ? "" : fromB64(state.slice(dot + 1));
  }
  // The target's parsed origin when it is a plain callback URL, else null.
  function callbackOf(target) {
    var o = originOf(target);
    return o && !o.url.search && !o.url.hash && target.indexOf("#") < 0 ? o : null;
  }
  function hostOf(text) {
    try { return new URL(text).host; } catch (e) { return String(text).slice(0, 200); }
  }
  var here = location.href.split("#")[0];

  function go(text) {
    var o = originOf(text);
    if (!o || !matches(CONFIG.authorize, o)) {
      show("refused", "This sign-in link is not for this page",
           "It does not lead to the sign-in page this relay serves, so it was not followed.");
      return;
    }
    var q = o.url.searchParams, state = q.get("state") || "", back = q.get("redirect_uri");
    var same = false;
    try { same = back !== null && new URL(back).href === here; } catch (e) { same = false; }
    if (q.getAll("state").length !== 1 || !state || !same) {
      show("refused", "This sign-in link is not for this page",
           "It does not come back to this page, so it was not followed.");
      return;
    }
    var target = targetOf(state);
    if (target === null || (target && !(callbackOf(target) &&
                                         matches(CONFIG.allow, callbackOf(target))))) {
      show("refused", "This sign-in would return to a host this page does not serve",
           "This relay only returns sign-ins to the hosts it was built for. Not followed:",
           target ? hostOf(target) : "an unreadable address");
      return;
    }
    try { sessionStorage.setItem(CONFIG.mark + state, String(Date.now())); } catch (e) { }
    show("going", "Signing in\u2026", "Taking you to the sign-in page.");
    location.replace(o.url.href);
  }

  function land(q) {
    var keys = ["state", "code", "error", "error_description", "iss"];
    for (var i = 0; i < keys.length; i++) {
      if (q.getAll(keys[i]).length > 1) {
        show("refused", "This sign-in answer cannot be trusted",
             "It carries \u201c" + keys[i] + "\u201d twice. Run the login cell again.");
        return;
      }
    }
    var state = q.get("state") || "", error = q.get("error") || "";
    var said = error ? "Orange answered \u201c" + error.slice(0, 100) + "\u201d" +
      (q.get("error_description") ? ": " + q.get("error_description").slice(0, 500) : "") : "";
    if (!state) {
      show("refused", "This sign-in answer cannot be used",
           "It carries no state, so it matches no notebook. Run the login cell again.", said);
      return;
    }
    var target = targetOf(state);
    if (target === null) {
      show("refused", "This sign-in answer cannot be used",
           "Its return address cannot be read (it was cut or edited). Run the login cell again.",
           said);
      return;
    }
    if (target === "") {
      show("paste", "Copy this address into your notebook",
           "Your notebook cannot be reached from here. Copy the whole address below and paste " +
           "it into the notebook's sign-in box (or pass it to orange.complete_login).", said);
      offerPaste();
      return;
    }
    var o = callbackOf(target);
    if (!o || !matches(CONFIG.allow, o)) {
      show("refused", "This page does not return sign-ins to that host",
           "The sign-in asks to go back to a host this relay was not built for, so it stays " +
           "here. If you started it from your own notebook, copy this address into the " +
           "notebook's sign-in box instead. The host:", hostOf(target) + (said ? " \u2014 " + said : ""));
      offerPaste();
      return;
    }
    var key = CONFIG.mark + state, mark = null;
    try { mark = sessionStorage.getItem(key); sessionStorage.removeItem(key); } catch (e) { }
    var fresh = mark !== null && Date.now() - Number(mark) < CONFIG.markTtl;
    var dest = target + location.search;
    if (fresh) {
      show("going", "Returning to your notebook\u2026", "Handing the sign-in to " + o.url.host + ".", said);
      location.replace(dest);
      return;
    }
    show("interstitial", "Continue to " + o.url.host + "?",
         "This sign-in was not started in this browser tab, or it was already used. Continue " +
         "only if you started it from your own notebook at this address:",
         o.url.origin + o.url.pathname + (said ? " \u2014 " + said : ""));
    var button = el("continue");
    button.textContent = "Continue to " + o.url.host;
    button.hidden = false;
    button.addEventListener("click", function () { location.replace(dest); });
  }

  if (window.top !== window.self) {
    show("framed", "This page does not work inside another page",
         "Open the sign-in link from your notebook in its own tab.");
    return;
  }
  var hash = location.hash;
  if (hash.indexOf("#go=") === 0) {
    var text = null;
    try { text = decodeURIComponent(hash.slice(4)); } catch (e) { text = null; }
    if (text === null) {
      show("refused", "This sign-in link is broken", "Run the login cell again.");
    } else {
      go(text);
    }
    return;
  }
  var query = new URLSearchParams(location.search);
  if (query.has("state") || query.has("code") || query.has("error")) {
    land(query);
    return;
  }
  show("idle", "Sign in with Orange",
       "This page relays sign-ins back to notebooks. Open it through your notebook's sign-in link.");
})();
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in with Orange</title>
<style>{style}</style>
</head><body data-view="loading">
<main>
<h1 id="title">Sign in with Orange</h1>
<p id="message">This page needs JavaScript to hand the sign-in back to your notebook.</p>
<p id="detail" hidden></p>
<div id="paste" hidden><textarea id="address" readonly rows="5" aria-label="The address to paste into your notebook"></textarea></div>
<p><button id="continue" type="button" hidden>Continue</button></p>
</main>
<script>{script}</script>
</body></html>
"""


def _sha256(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


@dataclass(frozen=True)
class RelayPage:
    """A built relay page: its HTML and the policy the host should also send as headers."""

    html: str
    csp: str
    allow: tuple[OriginPattern, ...]
    authorize: tuple[OriginPattern, ...]

    @property
    def headers(self) -> dict[str, str]:
        """The response headers a host should add (``frame-ancestors`` works only as one)."""
        return {
            "Content-Security-Policy": "frame-ancestors 'none'; " + self.csp,
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }

    def headers_file(self) -> str:
        """The ``_headers`` file of Netlify and Cloudflare Pages for these headers."""
        lines = ["/*"] + [f"  {name}: {value}" for name, value in self.headers.items()]
        return "\n".join(lines) + "\n"


def build_page(
    allow: Sequence[str],
    *,
    authorize: Sequence[str] = DEFAULT_AUTHORIZE,
    loopback: bool = True,
) -> RelayPage:
    """The relay page for return origins ``allow`` (plus loopback unless ``loopback=False``)
    and authorize origins ``authorize``; ``PatternError`` for a pattern that cannot be read."""
    allowed = parse_all(tuple(allow) + (LOOPBACK_PATTERNS if loopback else ()))
    authorizing = parse_all(tuple(authorize))
    config = {
        "allow": [p.as_json() for p in allowed],
        "authorize": [p.as_json() for p in authorizing],
        "mark": MARK_PREFIX,
        "markTtl": MARK_TTL_MS,
    }
    # `<` escaped: the JSON sits inside a <script> element.
    script = _SCRIPT.replace(
        "__CONFIG__", json.dumps(config, sort_keys=True).replace("<", "\\u003c")
    )
    csp = (
        f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(_STYLE)}; "
        "img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'; "
        "require-trusted-types-for 'script'"
    )
    html = _PAGE.format(csp=csp, style=_STYLE, script=script)
    return RelayPage(html, csp, allowed, authorizing)


def write_site(page: RelayPage, out: Path) -> list[Path]:
    """Write ``index.html`` and ``_headers`` into ``out`` (made if needed); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    index, headers = out / "index.html", out / HEADERS_FILE
    index.write_text(page.html, encoding="utf-8")
    headers.write_text(page.headers_file(), encoding="utf-8")
    return [index, headers]
