"""Our own analysis pipeline types: a tokenizer and filters composed with ``|``.

The shapes are Whoosh's (``tokenizer | filter | filter``, a ``Token`` reused for every word,
the tokenizer's ``positions``/``chars``/``start_pos`` keywords), so the analyzers of
``analysis.py`` read like Whoosh's and the Whoosh door (``storage/whoosh.py``) hands them to
Whoosh's schema through a small adapter, without Whoosh's classes here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any


class Token:
    """One word of a text as a pipeline carries it: its term ``text``, position ``pos``,
    characters ``startchar:endchar`` and Whoosh's ``boost``/``stopped``.

    A tokenizer hands every word of a text in one Token, changed in place (as Whoosh's
    does): a consumer reads each word before asking for the next.
    """

    def __init__(self) -> None:
        self.text = ""
        self.pos = 0
        self.startchar = 0
        self.endchar = 0
        self.boost = 1.0
        self.stopped = False


Tokens = Iterator[Token]


class Filter:
    """A step of a pipeline: tokens in, tokens out; ``a | b`` chains filters."""

    is_morph = False
    """Whether the filter changes a word's form (a stemmer, a lemmatizer)."""

    def __call__(self, tokens: Tokens) -> Tokens:
        raise NotImplementedError

    def __or__(self, other: Filter) -> Filters:
        return Filters((*_filters_of(self), *_filters_of(other)))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, *sorted(vars(self).items())))

    def __repr__(self) -> str:
        state = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({state})"


class Filters(Filter):
    """Filters applied one after the other."""

    def __init__(self, items: tuple[Filter, ...]) -> None:
        self.items = items

    def __call__(self, tokens: Tokens) -> Tokens:
        for item in self.items:
            tokens = item(tokens)
        return tokens


def _filters_of(item: Filter) -> tuple[Filter, ...]:
    return item.items if isinstance(item, Filters) else (item,)


class Tokenizer:
    """The start of a pipeline: a text's words as tokens; ``tokenizer | filters`` makes a
    ``Pipeline``.  Keywords are Whoosh's: ``positions`` and ``chars`` ask for ``pos`` and
    ``startchar``/``endchar`` (counted from ``start_pos`` and ``start_char``); without
    ``tokenize`` the whole value is one token."""

    def __call__(
        self,
        value: str,
        *,
        positions: bool = False,
        chars: bool = False,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        **kwargs: object,
    ) -> Tokens:
        raise NotImplementedError

    def __or__(self, other: Filter) -> Pipeline:
        return Pipeline(self, _filters_of(other))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)


class RegexTokenizer(Tokenizer):
    """Each match of ``pattern`` is a word (Whoosh's ``RegexTokenizer`` without gaps)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.expression = re.compile(pattern)

    def __repr__(self) -> str:
        return f"RegexTokenizer({self.pattern!r})"

    def __call__(
        self,
        value: str,
        *,
        positions: bool = False,
        chars: bool = False,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        **kwargs: object,
    ) -> Tokens:
        t = Token()
        if not tokenize:
            t.text = value
            t.pos = start_pos
            t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        for pos, match in enumerate(self.expression.finditer(value)):
            t.text = match.group(0)
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t


class Pipeline:
    """A tokenizer followed by filters: text in, analyzed tokens out (``pipeline(text)``,
    with the tokenizer's keywords); ``no_morph`` leaves out the ``is_morph`` filters."""

    def __init__(self, tokenizer: Tokenizer, filters: tuple[Filter, ...]) -> None:
        self.tokenizer = tokenizer
        self.filters = filters

    @property
    def items(self) -> list[Tokenizer | Filter]:
        """The tokenizer, then each filter."""
        return [self.tokenizer, *self.filters]

    def __call__(self, value: str, no_morph: bool = False, **kwargs: Any) -> Tokens:
        tokens = self.tokenizer(value, **kwargs)
        for item in self.filters:
            if not (no_morph and item.is_morph):
                tokens = item(tokens)
        return tokens

    def __or__(self, other: Filter) -> Pipeline:
        return Pipeline(self.tokenizer, (*self.filters, *_filters_of(other)))

    def has_morph(self) -> bool:
        """Whether a filter changes words' forms."""
        return any(f.is_morph for f in self.filters)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and other.items == self.items

    def __hash__(self) -> int:
        return hash(tuple(map(type, self.items)))

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.items))
