"""Reading one element as feedparser does: its name, its base URI, its attributes, its text."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from typing import Any

from bot.ingest.fastparse.names import (
    _PREFIX,
    _XML,
    Unusual,
    _cp1252,
    _urljoin,
    make_safe_absolute_uri,
)

# ---- names and attributes --------------------------------------------------------------------


def _split(tag: Any) -> tuple[str, str]:
    if not isinstance(tag, str):
        raise Unusual("comment or processing instruction")  # not produced by the default builder
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _is_base(key: str) -> bool:
    ns, local = _split(key)
    return local.lower() == "base" and (key.startswith(_XML) or not _PREFIX.get(ns.lower()))


def _extra(el: ET.Element, allowed: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Attributes other than allowed ones and those that only set the base URI or language."""
    return {k for k in el.attrib.keys() - allowed if not (k.startswith(_XML) or _is_base(k))}


# ---- base URIs -------------------------------------------------------------------------------


def _bases(root: ET.Element) -> dict[ET.Element, str]:
    """Each element's base URI as feedparser tracks it ({} when the document sets none).

    feedparser joins xml:base (or a plain base attribute) onto the base in force, and when an
    element ends it goes back to its parent's base only if that is not empty: without a base
    on the root, one set anywhere stays in force for the rest of the document.
    """
    if not any(el.attrib and _base_attr(el) is not None for el in root.iter()):
        return {}
    bases: dict[ET.Element, str] = {}
    base, stack, todo = "", [], [(root, False)]
    while todo:
        el, leaving = todo.pop()
        if leaving:
            stack.pop()
            base = stack[-1] if stack and stack[-1] else base
            continue
        given = _base_attr(el) or base
        base = (make_safe_absolute_uri(base, given) or base) if base else _urljoin(base, given)
        bases[el] = base
        stack.append(base)
        todo += [(el, True), *((child, False) for child in reversed(el))]
    return bases


def _base_attr(el: ET.Element) -> str | None:
    found = [value for key, value in el.attrib.items() if _is_base(key)]
    if len(found) > 1:
        raise Unusual("two base attributes")  # which one wins depends on attribute order
    return found[0] if found else None


# ---- text ------------------------------------------------------------------------------------


def _raw(el: ET.Element, attrs: bool = False) -> str:
    """Stripped text of an element without children."""
    if len(el) or (not attrs and el.attrib and _extra(el)):
        raise Unusual(f"markup or attributes in {el.tag}")
    return (el.text or "").strip()


def _text(el: ET.Element, attrs: bool = False) -> str:
    """Text as feedparser leaves it: stripped, then repaired."""
    return _fix(_raw(el, attrs))


def _resolved(el: ET.Element, bases: dict, attrs: bool = False) -> str:
    """A URI element's text as feedparser resolves it: joined onto the base URI in force."""
    raw = _raw(el, attrs)
    return _urljoin(bases.get(el, ""), raw) if raw else raw


def _fix(text: str) -> str:
    """feedparser's repairs: UTF-8 read as Latin-1 is re-read; C1 controls become cp1252."""
    if text.isascii():  # both repairs leave ASCII as it is; most text is ASCII
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252)
