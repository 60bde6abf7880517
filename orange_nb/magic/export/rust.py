"""Rust with reqwest's blocking client."""

from __future__ import annotations

from . import literals as q
from .request import Prepared

# Methods reqwest names as constants; any other token goes through Method::from_bytes.
_NAMED = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "CONNECT", "PATCH", "TRACE")


def reqwest_blocking(p: Prepared) -> str:
    """``reqwest::blocking`` (Cargo: reqwest with the "blocking" feature)."""
    method = (
        f"reqwest::Method::{p.method}"
        if p.method in _NAMED
        else f'reqwest::Method::from_bytes(b"{p.method}")?'
    )
    lines = [
        '// Cargo.toml: reqwest = { version = "0.12", features = ["blocking"] }',
        "fn main() -> Result<(), Box<dyn std::error::Error>> {",
        "    let client = reqwest::blocking::Client::new();",
        "    let response = client",
        f"        .request({method}, {q.rust(p.url)})",
        *(f"        .header({q.rust(n)}, {q.rust(v)})" for n, v in p.headers),
    ]
    if p.body is not None:
        lines.append(f"        .body({q.rust(p.body)})")
    lines += [
        "        .send()?;",
        '    println!("{}", response.status());',
        '    println!("{}", response.text()?);',
        "    Ok(())",
        "}",
    ]
    return "\n".join(lines)
