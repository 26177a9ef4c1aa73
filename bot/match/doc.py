"""The searchable text of one item: each field tokenized once, indexed lazily for the query nodes
(bot/match/nodes.py) to test against."""

from __future__ import annotations

from bot.text import raw_words, words

FIELDS = ("title", "summary", "body", "source")


class FieldText:
    """One field of an item: folded tokens; distinct tokens, sorted keys and positions built lazily.

    Positions are found per word on demand (list.index scans in C): a 5 KB body has ~800 tokens,
    and indexing them all in Python would cost more than the rest of matching.
    """

    __slots__ = ("text", "tokens", "_vocab", "_keys", "_at", "_raw", "_raw_at")

    def __init__(self, text: str):
        self.text, self.tokens = text, words(text)
        self._vocab: frozenset[str] | None = None
        self._keys: list[str] | None = None
        self._at: dict[str, list[int]] = {}
        self._raw: list[str] | None = None
        self._raw_at: dict[str, list[int]] = {}

    @property
    def vocab(self) -> frozenset[str]:
        """The distinct tokens: what a word or prefix test needs."""
        if self._vocab is None:
            self._vocab = frozenset(self.tokens)
        return self._vocab

    @property
    def keys(self) -> list[str]:
        if self._keys is None:
            self._keys = sorted(self.vocab)
        return self._keys

    def at(self, word: str) -> list[int]:
        """Positions of a folded token."""
        found = self._at.get(word)
        if found is None:
            found = self._at[word] = _find_all(self.tokens, word) if word in self.vocab else []
        return found

    def raw_at(self, word: str) -> list[int]:
        """Positions of a token as written (case kept), for exact-case terms."""
        if self._raw is None:
            self._raw = raw_words(self.text)  # aligned token-for-token with words()
        found = self._raw_at.get(word)
        if found is None:
            found = self._raw_at[word] = _find_all(self._raw, word)
        return found


def _find_all(tokens: list[str], word: str) -> list[int]:
    out, i = [], -1
    try:
        while True:
            i = tokens.index(word, i + 1)
            out.append(i)
    except ValueError:
        return out


class Doc:
    """The searchable fields of one item, tokenized once."""

    __slots__ = ("fields",)

    def __init__(self, title: str = "", summary: str = "", source: str = "", body: str = ""):
        self.fields = {"title": FieldText(title), "summary": FieldText(summary), "body": FieldText(body),
                       "source": FieldText(source)}

    def all_tokens(self) -> list[str]:
        return [t for f in self.fields.values() for t in f.tokens]
