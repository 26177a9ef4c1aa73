"""HTML fragment -> plain text, the cleaning every feed text gets (titles, summaries, bodies).

Decisions worth knowing:
- Only names of HTML elements (or namespaced ones, "o:p", "media:content") are tags: in plain
  text "x<y and a>b" is a comparison and keeps "y and a".
- Only entities with their ';' are decoded: "R&D" and "?a=1&copy=2" stay as written.
- Scripts, styles and comments are dropped with their content; block-level tags become a space.
- Boilerplate endings ("The post X appeared first on Y", "Continue reading") are cut.
The passes are C-level regex scans with the rare work behind a cheap test: a 5 KB article body
is the hot input (every item of a full-content feed).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from bot.textsafe import INVISIBLE_CHARS, strip_invisible

# Content that is never text, up to its closing tag (or the end, as a browser would treat it). An
# inline SVG is drawing instructions (<g>, <path d=...>), not words of the article.
_HIDDEN = ("script", "style", "noscript", "template", "svg")
_HIDDEN_OPEN = re.compile(rf"<({'|'.join(_HIDDEN)})\b|<(!--)", re.I)
_HIDDEN_CLOSE = {name: re.compile(rf"</{name}\s*>", re.I) for name in _HIDDEN}
_HIDDEN_CLOSE["!--"] = re.compile("-->")
# Elements that end a line or a block when rendered: they become a space, not nothing.
_BREAKING = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr td th table blockquote section article header footer "
    "figure figcaption img hr pre dd dt dl iframe".split()
)
_INLINE = frozenset(
    "a abbr acronym address area aside audio b base basefont bdi bdo big blink body button canvas "
    "caption center cite code col colgroup data datalist del details dfn dialog dir em embed fieldset "
    "font form frame frameset head hgroup html i input ins kbd label legend link main map mark marquee "
    "menu meta meter nav nobr noframes noscript object optgroup option output param picture progress q "
    "rp rt ruby s samp script search select small source span strike strong style sub summary sup svg "
    "tbody template textarea tfoot thead time title track tt u var video wbr "
    "math mi mn mo ms mtext mrow msup msub msubsup mfrac msqrt mroot mtable mtr mtd semantics".split()  # MathML: its text stays
)
# One pass over every tag-like run; the callback decides (cheaper than a pass per kind of tag).
_ANY_TAG = re.compile(r"</?([A-Za-z][\w.:-]*)(?=[\s/>])[^<>]*>|<![^<>]*>|<\?[^<>]*>")
# Markup that survives one entity decode: an escaped-HTML summary (&lt;p&gt;) inside HTML.
_ESCAPED_MARKUP = re.compile(
    r"</?(?:p|br|div|span|a|b|i|em|strong|img|ul|ol|li|h[1-6]|font|figure|table|iframe|object|embed)\b[^<>]*>",
    re.I,
)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127, 0x200B, 0xFEFF])
_ASCII_CONTROL = bytes(c for c in _CONTROL if c < 128)
# Controls and invisible characters are rare: one scan finds the text that needs either fix.
_SUSPECT = re.compile("[" + "".join(re.escape(chr(c)) for c in _CONTROL) + INVISIBLE_CHARS + "]")
# Boilerplate endings: (words that must occur near the end, pattern, how far from the end).
_TAILS = (
    (
        ("appeared first on",),
        re.compile(r"The post .{1,300}? appeared first on .{1,200}$", re.S),
        520,
    ),
    (
        ("reading", "Read "),
        re.compile(
            r"(?:Continue|Keep) reading\b.{0,160}$|Read (?:more|(?:the )?full (?:story|article))\b.{0,160}$",
            re.S,
        ),
        200,
    ),
)
_ELLIPSES = ("[…]", "[...]")


def _drop_hidden(markup: str) -> str:
    """Markup without scripts, styles and comments; one forward pass, so linear on any input."""
    kept, pos = [], 0
    while match := _HIDDEN_OPEN.search(markup, pos):
        kept.append(markup[pos : match.start()])
        close = _HIDDEN_CLOSE[(match.group(1) or match.group(2)).lower()].search(
            markup, match.end()
        )
        pos = close.end() if close else len(markup)
    kept.append(markup[pos:])
    return " ".join(kept)


def _tag(m: re.Match[str]) -> str:
    name = m.group(1)
    if name is None or ":" in name or "-" in name:
        return ""  # a comment, doctype, processing instruction or namespaced element
    name = name.lower()
    if name in _BREAKING:
        return " "
    return "" if name in _INLINE else m.group()


def _strip_tags(markup: str) -> str:
    return _ANY_TAG.sub(_tag, _drop_hidden(markup))


@lru_cache(maxsize=4096)
def _entity(ref: str) -> str:
    return html.unescape(ref)


def _decode(text: str) -> str:
    return _ENTITY.sub(lambda m: _entity(m.group()), text)  # an article repeats its few entities


def _drop_controls(text: str) -> str:
    if text.isascii():  # bytes.translate deletes in C: no scan of a 5 KB body in Python's regex
        raw = text.encode("ascii")
        clean = raw.translate(None, _ASCII_CONTROL)
        return text if len(clean) == len(raw) else clean.decode("ascii")
    if not _SUSPECT.search(text):
        return text
    return strip_invisible(text.translate(_CONTROL))  # no bidi/zero-width tricks


def _drop_tail(text: str) -> str:
    """Text without one boilerplate ending ("The post X appeared first on Y", "Read more")."""
    for markers, pattern, window in _TAILS:
        start = max(0, len(text) - window)
        if not any(text.find(marker, start) >= 0 for marker in markers):
            continue  # a substring scan is far cheaper than the regex
        match = pattern.search(text, start)
        if match and (match.start() == 0 or text[match.start() - 1].isspace()):
            return text[: match.start()].rstrip()
    if text.endswith(_ELLIPSES):
        return text[: text.rindex("[")].rstrip() + "…"
    return text


def _drop_tails(text: str) -> str:
    for _ in range(3):  # a WordPress summary can end in "[…] Continue reading → The post ..."
        shorter = _drop_tail(text)
        if shorter == text:
            break
        text = shorter
    return text


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags and scripts gone, entities decoded, spaces folded."""
    text = _strip_tags(markup) if "<" in markup else markup
    if "&" in text:
        text = _decode(text)
        if "<" in text and _ESCAPED_MARKUP.search(text):
            text = _strip_tags(text)
        if "&" in text:  # double-escaped entities (&amp;amp;, &amp;#8217;) are common in feeds
            text = _decode(text)
    return _drop_tails(" ".join(_drop_controls(text).split()))
