"""Repairs of feed bytes that otherwise crash the parsers, applied before any of them. Pure.

- Surrogate character references: `&#55357;&#56832;` is how some CMSs write an emoji (its UTF-16
  pair). feedparser turns each reference into a lone surrogate and fails to encode it; expat
  refuses them. A valid high+low pair becomes the one reference it stands for (`&#128512;`); a
  lone surrogate reference is dropped.
- The encoding declaration: a name with non-ASCII bytes, a NUL or thousands of characters, or a
  codec that is no document encoding (`undefined`, `idna`, `punycode`, the escape codecs) makes
  feedparser raise instead of falling back. Such a declaration loses its encoding, so the body is
  read as an undeclared document (UTF-8, else feedparser's fallbacks).

UTF-16 and UTF-32 bodies are decoded, repaired as text and encoded again the same way.
"""

from __future__ import annotations

import codecs
import re

# Codecs whose decoding raises something other than UnicodeDecodeError, or that are not a way to
# store a document: never honoured as a declared encoding.
_REFUSED_CODECS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})
_MAX_NAME = 40  # the longest IANA charset name is 45 with the "cs" aliases; Python's are shorter

_REF = r"&#(?:[xX]0*([dD][89a-fA-F][0-9a-fA-F]{2})|0*(5[5-7][0-9]{3}));"
# A run of them; starting with the literal "&#" lets the regex engine skip to candidates quickly.
_RUN = f"{_REF}(?:{_REF})*"
_REFS = {str: re.compile(_RUN), bytes: re.compile(_RUN.encode())}
_ONE = {str: re.compile(_REF), bytes: re.compile(_REF.encode())}
_DECL = {
    str: re.compile(r"""^(\s*<\?xml\b[^>]*?)\s+encoding\s*=\s*(?:"([^"]*)"|'([^']*)')"""),
    bytes: re.compile(rb"""^(\s*<\?xml\b[^>]*?)\s+encoding\s*=\s*(?:"([^"]*)"|'([^']*)')"""),
}
_NAME = re.compile(rb"[A-Za-z][A-Za-z0-9._:-]*")
# First bytes -> (codec, length of the byte order mark): the wide encodings feedparser detects.
_WIDE = (
    (b"\x00\x00\xfe\xff", "utf-32-be", 4), (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\xfe\xff", "utf-16-be", 2), (b"\xff\xfe", "utf-16-le", 2),
    (b"\x00\x00\x00\x3c", "utf-32-be", 0), (b"\x3c\x00\x00\x00", "utf-32-le", 0),
    (b"\x00\x3c\x00\x3f", "utf-16-be", 0), (b"\x3c\x00\x3f\x00", "utf-16-le", 0),
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_feed_bytes(body: bytes) -> bytes:
    """The body with surrogate references and an unusable encoding declaration repaired."""
    wide = _wide(body)
    if wide is None:
        return _repair(body)
    codec, bom = wide
    try:
        text = body[bom:].decode(codec)
    except UnicodeDecodeError:
        return body  # not really that encoding: the parsers' own fallbacks decide
    fixed = _repair(text)
    return body if fixed == text else body[:bom] + fixed.encode(codec, "surrogatepass")


def _wide(body: bytes) -> tuple[str, int] | None:
    for start, codec, bom in _WIDE:
        if body.startswith(start):
            return codec, bom
    return None


def _repair(doc):
    if ("&#" if isinstance(doc, str) else b"&#") in doc:
        doc = _REFS[type(doc)].sub(_join_refs, doc)
    return _drop_bad_declaration(doc)


def _join_refs(run: re.Match) -> str | bytes:
    """A run of surrogate references: each valid pair as one reference, lone halves dropped."""
    units = [int(h, 16) if h else int(d) for h, d in _ONE[type(run.group())].findall(run.group())]
    out, i = [], 0
    while i < len(units):
        high, low = units[i], units[i + 1] if i + 1 < len(units) else 0
        if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
            out.append(f"&#{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)};")
            i += 2
        else:
            if not 0xD800 <= high <= 0xDFFF:  # 55000-55295 and 57344-57999 match the pattern too
                out.append(f"&#{high};")
            i += 1
    text = "".join(out)
    return text if isinstance(run.group(), str) else text.encode("ascii")


def _drop_bad_declaration(doc):
    match = _DECL[type(doc)].match(doc)
    if match is None:
        return doc
    name = match.group(2) if match.group(2) is not None else match.group(3)
    if usable_encoding(name if isinstance(name, bytes) else name.encode("utf-8", "replace")):
        return doc
    return match.group(1) + doc[match.end():]


def usable_encoding(name: bytes) -> bool:
    """False for a name that makes feedparser raise: not short ASCII, or a codec that does not read
    documents (see _REFUSED_CODECS). A name Python does not know is usable: feedparser skips it
    and flags the feed as malformed, as it should."""
    if len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        return False
    try:
        info = codecs.lookup(name.decode("ascii"))
    except LookupError:
        return True
    return info._is_text_encoding and info.name.replace("_", "-") not in _REFUSED_CODECS


def scrub_text(text: str) -> str:
    """Text without lone surrogates (JSON allows "\\ud800"); a split pair is joined."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


# Namespaces whose feedparser handlers fail on unusual but harmless input; we read nothing in them.
_FRAGILE_NS = (b"opengis.net/gml", b"georss.org", b"podlove.org/simple-chapters")
_FRAGILE_PREFIXES = (b"gml", b"georss", b"psc")
_BINDING = re.compile(rb"""xmlns:([A-Za-z_][\w.-]*)\s*=\s*["']([^"']*)["']""")


def neutralize_extensions(body: bytes) -> bytes:
    """The body with GML, GeoRSS and Podlove chapter elements renamed (`gml:pos` -> `gml-pos`),
    so feedparser treats them as unknown elements. Used only after feedparser failed."""
    prefixes = set(_FRAGILE_PREFIXES)
    prefixes.update(p for p, uri in _BINDING.findall(body) if any(ns in uri for ns in _FRAGILE_NS))
    names = b"|".join(re.escape(p) for p in sorted(prefixes))
    return re.sub(rb"(</?)(" + names + rb"):", rb"\1\2-", body)
