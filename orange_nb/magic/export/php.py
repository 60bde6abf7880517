"""PHP with its cURL extension."""

from __future__ import annotations

from . import literals as q
from .request import Prepared


def curl_extension(p: Prepared) -> str:
    """``curl_setopt_array``; single-quoted strings, so ``$`` stays literal."""
    options = [f"    CURLOPT_URL => {q.php(p.url)},"]
    if p.method == "HEAD":
        options.append("    CURLOPT_NOBODY => true,")
    elif p.method != "GET":
        options.append(f"    CURLOPT_CUSTOMREQUEST => {q.php(p.method)},")
    if p.headers:
        options += [
            "    CURLOPT_HTTPHEADER => [",
            *(f"        {q.php(line)}," for line in p.header_lines()),
            "    ],",
        ]
    if p.body is not None:
        options.append(f"    CURLOPT_POSTFIELDS => {q.php(p.body)},")
    options.append("    CURLOPT_RETURNTRANSFER => true,")
    return "\n".join(
        [
            "<?php",
            "",
            "$curl = curl_init();",
            "curl_setopt_array($curl, [",
            *options,
            "]);",
            "$response = curl_exec($curl);",
            "if ($response === false) {",
            "    echo 'Error: ' . curl_error($curl) . PHP_EOL;",
            "} else {",
            "    echo curl_getinfo($curl, CURLINFO_RESPONSE_CODE) . PHP_EOL . $response . PHP_EOL;",
            "}",
            "curl_close($curl);",
        ]
    )
