"""The topic query language: tokens, syntax tree and parser.

Grammar (precedence NOT > NEAR > AND > OR; operators are upper case, lower-case words are terms):

    query   := and ("OR" and)*
    and     := near (["AND"] near)*          adjacency implies AND; `a NOT b` is a AND NOT b
    near    := unary ["NEAR/n" unary]
    unary   := "NOT" unary | primary
    primary := word | word* | "phrase" | 'Exact' | "(" query ")" | field ":" primary
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import RuleSyntaxError
from bot.match.nodes import (
    FIELDS,
    And,
    Exact,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
)
from bot.text import raw_words, words

__all__ = [
    "And", "Exact", "Field", "Near", "Node", "Not", "Or", "Phrase", "Prefix", "Term", "parse_query",
]

MAX_NEAR = 100
MAX_DEPTH = 64
MIN_PREFIX = 3
_START = "a term, phrase or ("
_BARE = re.compile(r"""[^\s()"]+""")
_FIELD = re.compile(r"([A-Za-z]+):")
_NEAR = re.compile(r"NEAR(?:/(\S*))?$")


@dataclass(frozen=True)
class Token:
    kind: str  # TERM, OP (AND/OR/NOT), NEAR, FIELD, LPAREN, RPAREN, END
    value: object
    start: int
    end: int
    text: str


def _where(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Lexer:
    """Splits query text into tokens; raises RuleSyntaxError at the offending character."""

    def __init__(self, text: str):
        self.text = text

    def error(self, offset: int, message: str, expected: str = "") -> RuleSyntaxError:
        return RuleSyntaxError(message, *_where(self.text, offset), expected)

    def tokens(self) -> list[Token]:
        text, pos, out = self.text, 0, []
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos == len(text):
                out.append(Token("END", None, pos, pos, ""))
                return out
            token = self.next_token(pos)
            out.append(token)
            pos = token.end

    def next_token(self, pos: int) -> Token:
        ch = self.text[pos]
        if ch in "()":
            return Token("LPAREN" if ch == "(" else "RPAREN", ch, pos, pos + 1, ch)
        if ch in "\"'":
            return self.quoted(pos, ch)
        field = _FIELD.match(self.text, pos)
        if field:
            return self.field(field)
        bare = _BARE.match(self.text, pos)
        return self.word(bare.group(), pos)

    def quoted(self, pos: int, quote: str) -> Token:
        end = self.text.find(quote, pos + 1)
        if end < 0:
            kind = "phrase" if quote == '"' else "exact-case term"
            raise self.error(pos, f"unterminated {kind}", f"a closing {quote}")
        inner = self.text[pos + 1 : end]
        found = tuple(words(inner) if quote == '"' else raw_words(inner))
        if not found:
            raise self.error(pos, f"empty quotes {quote}{inner}{quote}", "a word between the quotes")
        star = self.phrase_star(inner, pos + 1, quote)
        if quote == "'":
            node: Node = Exact(found)
        elif len(found) == 1:
            node = self.term(found[0] + "*" * star, pos + 1)
        else:
            node = Phrase(found, last_prefix=star)
        return Token("TERM", node, pos, end + 1, self.text[pos : end + 1])

    def phrase_star(self, inner: str, offset: int, quote: str) -> bool:
        """Whether a phrase ends in word* (its last word a prefix); a * anywhere else is an error."""
        star = inner.find("*")
        if star < 0:
            return False
        if quote == '"' and star == len(inner.rstrip()) - 1 and star > 0 and inner[star - 1].isalnum():
            return True
        expected = "* only right after the last word" if quote == '"' else "no * in an exact-case term"
        raise self.error(offset + star, f"misplaced * in {quote}{inner}{quote}", expected)

    def field(self, match: re.Match[str]) -> Token:
        name, end = match.group(1).lower(), match.end()
        if name not in FIELDS:
            raise self.error(match.start(), f"unknown field {match.group(1)}:", "title:, summary:, body: or source:")
        if end == len(self.text) or self.text[end].isspace() or self.text[end] == ")":
            raise self.error(match.start(), f"empty field scope {name}:", f"a term, phrase or ( right after {name}:")
        return Token("FIELD", name, match.start(), end, match.group())

    def word(self, bare: str, pos: int) -> Token:
        end = pos + len(bare)
        if bare in ("AND", "OR", "NOT"):
            return Token("OP", bare, pos, end, bare)
        near = _NEAR.match(bare)
        if near:
            return Token("NEAR", self.near_distance(near.group(1), pos), pos, end, bare)
        return Token("TERM", self.term(bare, pos), pos, end, bare)

    def near_distance(self, digits: str | None, pos: int) -> int:
        if digits is None or not digits.isdigit() or not 1 <= int(digits) <= MAX_NEAR:
            shown = "NEAR" if digits is None else f"NEAR/{digits}"
            raise self.error(pos, f"bad NEAR distance in {shown}", f"NEAR/n with n from 1 to {MAX_NEAR}")
        return int(digits)

    def term(self, bare: str, pos: int) -> Node:
        stem, star = (bare[:-1], True) if bare.endswith("*") else (bare, False)
        if "*" in stem:
            raise self.error(pos + stem.index("*"), f"* inside {bare}", "* only at the end of a word")
        found = words(stem)
        if not found:
            raise self.error(pos, f"{bare} has no letters or digits", _START)
        if not star:
            return Term(found[0]) if len(found) == 1 else Phrase(tuple(found))
        if len(found) > 1:
            raise self.error(pos, f"prefix {bare} spans several words", 'one word before *, or a "quoted phrase*"')
        if len(found[0]) < MIN_PREFIX:
            raise self.error(pos, f"prefix {bare} is too broad", f"at least {MIN_PREFIX} letters before *")
        return Prefix(found[0])


class _Parser:
    """Recursive descent over the token list, one method per precedence level."""

    def __init__(self, text: str, tokens: list[Token]):
        self.text, self.tokens, self.i, self.depth = text, tokens, 0, 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, token: Token, message: str, expected: str) -> RuleSyntaxError:
        return RuleSyntaxError(message, *_where(self.text, token.start), expected)

    def parse(self) -> Node:
        if self.tok.kind == "END":
            raise RuleSyntaxError("empty query", 1, 1, _START)
        node = self.or_expr()
        if self.tok.kind != "END":  # only a stray ")" can stop the loops above early
            raise self.error(self.tok, "unmatched )", "a term, an operator or the end of the query")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.tok.kind == "OP" and self.tok.value == "OR":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.near_expr()]
        while self.starts_operand() or (self.tok.kind == "OP" and self.tok.value == "AND"):
            if self.tok.kind == "OP" and self.tok.value == "AND":
                self.take()
            parts.append(self.near_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def starts_operand(self) -> bool:
        kind = self.tok.kind
        return kind in ("TERM", "FIELD", "LPAREN") or (kind == "OP" and self.tok.value == "NOT")

    def near_expr(self) -> Node:
        left = self.unary()
        if self.tok.kind != "NEAR":
            return left
        op = self.take()
        right = self.unary()
        if self.tok.kind == "NEAR":
            raise self.error(self.tok, "NEAR cannot be chained", "AND between two NEAR expressions")
        scopes = {side.name for side in (left, right) if isinstance(side, Field)}
        if len(scopes) > 1:
            raise self.error(op, f"{op.text} sides are scoped to different fields", "both sides in one field")
        left, right = _unscoped(left), _unscoped(right)
        for side in (left, right):
            if not side.positional:
                raise self.error(op, f"{side} cannot be an operand of {op.text}",
                                 "words, word*, phrases or an OR group of them on both sides")
        near = Near(left, right, int(op.value))
        return Field(scopes.pop(), near) if scopes else near

    def unary(self) -> Node:
        if self.tok.kind == "OP" and self.tok.value == "NOT":
            self.take()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "TERM":
            return token.value
        if token.kind == "LPAREN":
            return self.group(token)
        if token.kind == "FIELD":
            if self.tok.kind not in ("TERM", "LPAREN"):
                raise self.error(self.tok, f"nothing to scope after {token.text}", f"a term, phrase or ( right after {token.text}")
            return Field(str(token.value), self.primary())
        if token.kind == "END":
            last = self.tokens[self.i - 2]
            raise RuleSyntaxError(f"query ends after {last.text}", *_where(self.text, last.end), _START)
        raise self.error(token, f"unexpected {token.text}", _START)

    def group(self, opener: Token) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(opener, "parentheses nested too deep", f"at most {MAX_DEPTH} levels")
        if self.tok.kind == "RPAREN":
            raise self.error(self.tok, "empty parentheses", _START)
        node = self.or_expr()
        if self.tok.kind != "RPAREN":  # said where the ( is: the place to add its )
            raise self.error(opener, f"this ( is not closed (found {self.tok.text or 'the end'} instead of ))", ")")
        self.take()
        self.depth -= 1
        return node


def _unscoped(node: Node) -> Node:
    """`title:x NEAR/n y` means both sides in the title: the scope moves onto the NEAR."""
    return node.child if isinstance(node, Field) else node


def parse_query(text: str) -> Node:
    """Parse query text into a syntax tree; raise RuleSyntaxError with line, column and expectation."""
    node = _Parser(text, _Lexer(text).tokens()).parse()
    if node.empty_value():  # e.g. `NOT film`: true for an item containing none of its terms
        raise RuleSyntaxError("query matches almost everything; add a positive term", 1, 1,
                              "a word or phrase the item must contain")
    return node
