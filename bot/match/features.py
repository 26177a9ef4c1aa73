"""What the topic classifier sees of an item: word, bigram and character n-gram TF-IDF.

Every feature is built from bot.text.words tokens, so the classifier folds case, accents and
Arabic letter variants exactly like the rule matcher. Character n-grams are taken inside each
padded token (" drone " -> " dr", "dro", ...): they catch morphology ("strike", "strikes",
"airstrike") and the many spellings of transliterated names ("Zarqawi", "Zarkawi").

A FeatureSpace (vocabulary + IDF of both blocks) is shared by the topics trained together, so
an item is tokenized and weighted once, whatever the number of topics. Each block is TF-IDF with
sublinear tf and its own L2 norm, as scikit-learn's TfidfVectorizer computes it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from bot.match.texts import Tokens, tokens

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

# Bump when the features below change: saved models with another version are retrained.
FEATURES_VERSION = 1
CHAR_SIZES = (3, 4, 5)
TITLE_MARK = "t:"  # title words are features twice: once plain, once marked as from the title
SMALL_CORPUS = 500  # below this many texts every feature is kept; above, features need 2 texts


def word_features(title: list[str], body: list[str]) -> list[str]:
    """Unigrams and bigrams of title + summary, plus the title's unigrams marked as such."""
    seq = title + body
    return seq + [f"{a} {b}" for a, b in zip(seq, seq[1:], strict=False)] + [TITLE_MARK + t for t in title]


@lru_cache(maxsize=100_000)
def char_grams(token: str) -> tuple[str, ...]:
    """Character n-grams of one padded token (cached: news vocabulary repeats)."""
    padded = f" {token} "
    return tuple(padded[i : i + n] for n in CHAR_SIZES for i in range(len(padded) - n + 1))


def char_features(title: list[str], body: list[str]) -> list[str]:
    """Character n-grams of every token."""
    return [g for t in title + body for g in char_grams(t)]


def _identity(doc: list[str]) -> list[str]:
    return doc


@dataclass(eq=False)
class FeatureSpace:
    """Vocabulary and IDF of the word block and the character block; transform() is the one way in."""

    word_vocab: tuple[str, ...]
    char_vocab: tuple[str, ...]
    word_idf: np.ndarray
    char_idf: np.ndarray
    id: str = ""
    _word_index: dict[str, int] = field(init=False, repr=False)
    _char_index: dict[str, int] = field(init=False, repr=False)
    _token_ids: dict[str, list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._word_index = {f: i for i, f in enumerate(self.word_vocab)}
        offset = len(self.word_vocab)
        self._char_index = {f: i + offset for i, f in enumerate(self.char_vocab)}
        self.idf = np.concatenate([self.word_idf, self.char_idf])
        self.id = self.id or space_id(self.word_vocab, self.char_vocab, self.idf)
        self._token_ids = {}

    @property
    def width(self) -> int:
        return len(self.idf)

    def _token_chars(self, token: str) -> list[int]:
        found = self._token_ids.get(token)
        if found is None:
            if len(self._token_ids) > 200_000:  # bounded; refills with the tokens in use
                self._token_ids.clear()
            index = self._char_index
            found = self._token_ids[token] = [index[g] for g in char_grams(token) if g in index]
        return found

    def ids(self, toks: Tokens) -> np.ndarray:
        """Feature ids of a tokenized text, once per occurrence."""
        title, body = toks
        index = self._word_index
        found = [i for f in word_features(title, body) if (i := index.get(f)) is not None]
        for t in title + body:
            found += self._token_chars(t)
        return np.array(found, np.int64)

    def vector(self, text: str | Tokens) -> tuple[np.ndarray, np.ndarray]:
        """One text (or its tokens) as (sorted feature ids, TF-IDF values), each block L2-normalized."""
        ids = self.ids(tokens(text) if isinstance(text, str) else text)
        if ids.size == 0:
            return ids, np.zeros(0)
        ids.sort()
        first = np.empty(ids.size, bool)
        first[0] = True
        np.not_equal(ids[1:], ids[:-1], out=first[1:])
        at = np.flatnonzero(first)
        feats = ids[at]
        ends = np.empty_like(at)
        ends[:-1], ends[-1] = at[1:], ids.size
        values = np.log(ends - at)
        values += 1.0
        values *= self.idf[feats]
        split = feats.searchsorted(len(self.word_vocab))
        for part in (values[:split], values[split:]):
            norm = math.sqrt(part @ part)
            if norm > 0:
                part /= norm
        return feats, values

    def transform(self, texts: Sequence[str | Tokens]) -> csr_matrix:
        """Many texts as a sparse (texts x features) matrix."""
        from scipy.sparse import csr_matrix  # imported when first needed: see classifier.py

        rows = [self.vector(t) for t in texts]
        indptr = np.cumsum([0] + [r[0].size for r in rows])
        indices = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, np.int64)
        data = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
        return csr_matrix((data, indices, indptr), shape=(len(texts), self.width))

    def contributions(self, text: str | Tokens, coef: np.ndarray) -> dict[str, float]:
        """How much each word (unigram, title mark, its character n-grams) and bigram adds to coef . x."""
        title, body = tokens(text) if isinstance(text, str) else text
        index, ids, owners = self._word_index, [], []
        for f in word_features(title, body):
            if (i := index.get(f)) is not None:
                ids.append(i)
                owners.append(f.removeprefix(TITLE_MARK))
        for t in title + body:
            grams = self._token_chars(t)
            ids += grams
            owners += [t] * len(grams)
        feats, values = self.vector((title, body))
        if not ids:
            return {}
        occurrence = np.searchsorted(feats, ids)
        counts = np.bincount(occurrence, minlength=len(feats))
        share = (values * coef[feats] / np.maximum(counts, 1))[occurrence]
        out: dict[str, float] = {}
        for owner, part in zip(owners, share.tolist(), strict=True):
            out[owner] = out.get(owner, 0.0) + part
        return out


def space_id(word_vocab: Sequence[str], char_vocab: Sequence[str], idf: np.ndarray) -> str:
    h = hashlib.sha256(f"{FEATURES_VERSION}".encode())
    for block in (word_vocab, char_vocab):
        h.update("\x00".join(block).encode())
        h.update(b"\x01")
    h.update(np.ascontiguousarray(idf, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def fit_space(texts: Sequence[str]) -> FeatureSpace:
    """Learn both blocks' vocabulary and IDF from texts (labelled or not)."""
    min_df = 1 if len(texts) < SMALL_CORPUS else 2
    split = [tokens(t) for t in texts]
    (wv, wi), (cv, ci) = (_fit_block([build(*s) for s in split], min_df) for build in (word_features, char_features))
    return FeatureSpace(wv, cv, wi, ci)


def _fit_block(docs: list[list[str]], min_df: int) -> tuple[tuple[str, ...], np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=min_df)
    try:
        vec.fit(docs)
    except ValueError:  # no feature left (empty texts, or none seen twice)
        return (), np.zeros(0)
    return tuple(vec.get_feature_names_out()), vec.idf_.astype(np.float64)
