"""The journalist's query language, parsed into a small syntax tree.

Grammar (all words are required unless joined by OR)::

    query   := or_expr
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*
    unary   := ("-" | "NOT") unary | primary
    primary := "(" or_expr ")" | [FIELD ":"] (["="] WORD | ["="] "phrase" | PREFIX* | WORD~[N])

``=word`` matches that word's surface form only (``exact.py``), ``="a phrase"`` every
word of the phrase so, and inside quotes ``"=Львова університет"`` the words of a
whitespace-separated piece starting with ``=``.  An ``=`` elsewhere inside a word
(``E=mc2``) is punctuation, as before.  A stray ``=`` (alone, ``==x``, before a
parenthesis, a non-word character, a prefix ``=mobil*`` or a fuzzy word ``=word~``,
before a field name ``=title:x`` or after ``category:``/``source:``/``language:``)
is a ``QuerySyntaxError``.

FIELD is one of FIELD_ORDER: title, body, tag, category, source, language.  A word with a
``name:`` prefix that is not a field (``Yukos:court``) is searched as its words
(``Yukos court``, grouped), and so is a pasted link (``http://bbc.co.uk``: ``bbc co
uk``); ``parse`` says so in its warnings.  Every mistake raises
``QuerySyntaxError`` with the 0-based character position and a hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsearch.search.analysis import words as split_text
from newsearch.search.catalog import VALUE_QUERY_FIELDS
from newsearch.search.fields import QUERY_KINDS
from newsearch.search.types import SearchWarning, WarningKind

FIELD_ORDER = (*(f for f in QUERY_KINDS if f is not None), *VALUE_QUERY_FIELDS)
"""The query language's fields: those searching text (``fields.QUERY_KINDS``: title, body,
tag), then those matching whole values (``catalog.VALUE_QUERY_FIELDS``)."""
FIELDS = frozenset(FIELD_ORDER)
OPERATORS = frozenset({"OR", "AND", "NOT"})
"""Words read as operators when written in capitals (``energy OR grid``)."""
MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 64
MAX_DEPTH = 32
"""Nested parentheses and negations, at most (deeper would exhaust Python's stack)."""
MIN_PREFIX = 2
MAX_FUZZY = 2


@dataclass(frozen=True)
class Word:
    """A word; ``field`` None means title, body and tags; ``exact``: its surface form only
    (``=word``, ``pos`` then is where the word starts, after the ``=``)."""

    text: str
    field: str | None
    pos: int
    exact: bool = False


@dataclass(frozen=True)
class Phrase:
    """Consecutive words in quotes; ``exact`` says which words (``analysis.words`` of
    ``text``) match their surface form only (empty: none)."""

    text: str
    field: str | None
    pos: int
    exact: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Prefix:
    """``word*``: any word starting with ``text``."""

    text: str
    field: str | None
    pos: int


@dataclass(frozen=True)
class Fuzzy:
    """``word~`` or ``word~N``: words within ``distance`` edits."""

    text: str
    field: str | None
    distance: int
    pos: int


@dataclass(frozen=True)
class Not:
    """Exclusion: ``-word`` or ``NOT word``."""

    child: Node
    pos: int


@dataclass(frozen=True)
class And:
    """All children required."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any child."""

    children: tuple[Node, ...]


Node = Word | Phrase | Prefix | Fuzzy | Not | And | Or
Leaf = Word | Phrase | Prefix | Fuzzy


class QuerySyntaxError(ValueError):
    """A query that cannot be understood: where, what, and how to fix it."""

    def __init__(self, position: int, message: str, hint: str) -> None:
        super().__init__(f"at position {position}: {message} ({hint})")
        self.position = position
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class ParsedQuery:
    """A query's syntax tree (None: no words, a browse) and what was read other than
    as written."""

    node: Node | None
    warnings: tuple[SearchWarning, ...]


@dataclass(frozen=True)
class _Tok:
    kind: str  # LP RP OR AND NOT MINUS TERM PHRASE WORDS
    text: str
    pos: int
    field: str | None = None
    parts: tuple[tuple[str, int], ...] = ()
    """For WORDS: the (word, position) pairs searched instead of the token."""
    exact: bool = False
    """``=`` before the term or phrase (a PHRASE's own ``=`` pieces are in its text)."""


# A term runs until whitespace, a parenthesis or a quote.
_TERM = re.compile(r'[^\s()"]+')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _tokens(text: str, notes: list[SearchWarning]) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok("LP" if c == "(" else "RP", c, i))
            i += 1
        elif c == '"':
            i = _phrase(text, i, None, False, toks)
        elif c == "=":
            i = _exact(text, i, None, toks, notes)
        elif (
            c == "-"
            and (
                (i + 1 < n and not text[i + 1].isspace() and (not toks or _after_space(text, i)))
                # A lone trailing minus is an operator missing its term, not a dash.
                or (_after_space(text, i) and not text[i + 1 :].strip())
            )
        ):
            toks.append(_Tok("MINUS", c, i))
            i += 1
        else:
            m = _TERM.match(text, i)
            assert m is not None
            word = m.group()
            field, sep, rest = word.partition(":")
            if sep and field.lower() in FIELDS:
                name = field.lower()
                value_pos = i + len(field) + 1
                if rest.startswith("="):
                    if name in VALUE_QUERY_FIELDS:
                        raise QuerySyntaxError(
                            value_pos,
                            f"= does not apply to {name}:",
                            f"{name}: always matches the whole value; write {name}:value",
                        )
                    i = _exact(text, value_pos, name, toks, notes)
                    continue
                if rest:
                    toks.append(_Tok("TERM", rest, value_pos, name))
                elif value_pos < n and text[value_pos] == '"':
                    i = _phrase(text, value_pos, name, False, toks)
                    continue
                else:
                    raise QuerySyntaxError(
                        i, f"{name}: has no value", f'write {name}:word or {name}:"several words"'
                    )
            elif word in OPERATORS:
                toks.append(_Tok(word, word, i))
            elif sep and (found := _as_words(word, i, text[m.end() : m.end() + 1], notes)):
                toks.append(found)
            else:
                toks.append(_Tok("TERM", word, i))
            i = m.end()
    return toks


_NEGATION_HINTS = {
    "NOT": "put the word to leave out after NOT, as in sanctions NOT oil; "
    'to search for the word itself, write "NOT"',
    "-": "put the word to leave out right after -, as in sanctions -oil",
}
"""Hints for a ``NOT`` or ``-`` with nothing to negate."""


_LINK = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_NAME = re.compile(r"[^\W\d_][\w-]*")
"""What an intended field name looks like (``10:30`` and ``:)`` are not one)."""
_LINK_WORD = re.compile(r"[^\W_]+")


def _as_words(word: str, pos: int, following: str, notes: list[SearchWarning]) -> _Tok | None:
    """A term with a ``name:`` prefix that is not a field, or a link, as the words it is
    searched as (noted in ``notes``); None for any other term."""
    link = _LINK.match(word)
    if link:
        parts = tuple((m.group(), pos + m.start()) for m in _LINK_WORD.finditer(word, link.end()))
        if not parts:
            return None
        shown = " ".join(p for p, _ in parts)
        notes.append(
            SearchWarning(
                WarningKind.LINK,
                f"{word} looks like a link: it was searched as the words {shown}",
                "to find a publisher's articles, use source: or the sources filter; "
                "to search the address as written, put it in quotes",
                pos,
            )
        )
        return _Tok("WORDS", word, pos, parts=parts)
    name, _, rest = word.partition(":")
    if not _NAME.fullmatch(name) or not (rest.strip(":") or following == '"'):
        return None
    found, at = [], pos
    for piece in word.split(":"):
        if piece:
            found.append((piece, at))
        at += len(piece) + 1
    parts = tuple(found)
    shown = " ".join(p for p, _ in parts)
    searched = f"the words {shown}" if len(parts) > 1 else f"the word {shown}"
    notes.append(
        SearchWarning(
            WarningKind.UNKNOWN_FIELD,
            f"{name}: is not a field, so {word} was searched as {searched}",
            f"fields are {', '.join(FIELD_ORDER)}; "
            f"write {shown} to search the words without this warning",
            pos,
        )
    )
    return _Tok("WORDS", word, pos, parts=parts)


_WORD_START = re.compile(r"\w")
_EXACT_HINT = "write =word (=Львова) to match that form of the word only"


def _phrase(text: str, i: int, field: str | None, exact: bool, toks: list[_Tok]) -> int:
    """Read the quoted phrase whose opening quote is at ``i`` into ``toks`` (``exact``:
    written ``="..."``); the position after its closing quote."""
    end = text.find('"', i + 1)
    if end < 0:
        raise QuerySyntaxError(i, "unclosed quote", 'add a closing " or remove this one')
    toks.append(_Tok("PHRASE", text[i + 1 : end], i, field, exact=exact))
    return end + 1


def _exact(
    text: str, i: int, field: str | None, toks: list[_Tok], notes: list[SearchWarning]
) -> int:
    """Read ``=word`` or ``="phrase"`` (the ``=`` at ``i``) into ``toks``; the position
    after it.  Anything else after the ``=`` is a QuerySyntaxError."""
    n = len(text)
    nxt = text[i + 1] if i + 1 < n else ""
    if nxt == '"':
        return _phrase(text, i + 1, field, True, toks)
    _check_exact(text[i:], i)
    m = _TERM.match(text, i + 1)
    assert m is not None
    word = m.group()
    name, sep, _ = word.partition(":")
    if sep and name.lower() in FIELDS:
        raise QuerySyntaxError(
            i, "= before a field name", f"put = after the field: {name.lower()}:=word"
        )
    if field is None and sep and (found := _as_words(word, i + 1, text[m.end() :][:1], notes)):
        toks.append(_Tok("WORDS", found.text, found.pos, parts=found.parts, exact=True))
    else:
        toks.append(_Tok("TERM", word, i + 1, field, exact=True))
    return m.end()


def _check_exact(text: str, i: int) -> None:
    """That ``text``, the query from an ``=`` at position ``i`` on, has a word (a letter,
    digit or ``_``) right after the ``=``."""
    nxt = text[1] if len(text) > 1 else ""
    if not nxt or nxt.isspace() or nxt == ")":
        raise QuerySyntaxError(i, "= needs a word right after it", _EXACT_HINT)
    if nxt == "=":
        raise QuerySyntaxError(i, "== is not an operator", "write a single =: =Львова")
    if nxt == "(":
        raise QuerySyntaxError(
            i,
            "= applies to a word or a quoted phrase, not to parentheses",
            'put = before each word (=a =b), or quote them: ="a b"',
        )
    if not _WORD_START.match(nxt):
        raise QuerySyntaxError(i, f"= followed by {nxt!r}, not a word", _EXACT_HINT)


def phrase_exact(text: str, pos: int, every: bool) -> tuple[bool, ...]:
    """Which words of a phrase's ``text`` (its quote at ``pos``) are exact: those of a
    whitespace-separated piece starting with ``=``, or all (``every``); () for none."""
    flags: list[bool] = []
    for piece in re.finditer(r"\S+", text):
        marked = piece.group().startswith("=")
        if marked:
            _check_exact(piece.group(), pos + 1 + piece.start())
        flags += [every or marked] * len(split_text(piece.group()))
    return tuple(flags) if any(flags) else ()


def _after_space(text: str, i: int) -> bool:
    return i == 0 or text[i - 1].isspace() or text[i - 1] == "("


class _Parser:
    def __init__(self, toks: list[_Tok], length: int) -> None:
        self.toks = toks
        self.i = 0
        self.length = length
        self.clauses = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            assert tok.kind == "RP"
            raise QuerySyntaxError(tok.pos, "unmatched )", "remove it or add a ( before it")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            if self.peek() is None or self.peek().kind in ("OR", "RP"):  # type: ignore[union-attr]
                raise QuerySyntaxError(tok.pos, "OR needs a term after it", "write a OR b")
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RP"):
            if tok.kind == "AND":
                self.take()
                if not parts or self.peek() is None or self.peek().kind in ("OR", "AND", "RP"):  # type: ignore[union-attr]
                    raise QuerySyntaxError(
                        tok.pos, "AND needs a term on both sides", "write a AND b"
                    )
                continue
            parts.append(self.unary())
        if not parts:
            tok = self.peek()
            pos = tok.pos if tok is not None else self.length
            if tok is not None and tok.kind == "OR":
                raise QuerySyntaxError(pos, "OR needs a term before it", "write a OR b")
            if tok is not None and tok.kind == "RP":
                raise QuerySyntaxError(pos, "unmatched )", "remove it or add a ( before it")
            raise QuerySyntaxError(pos, "expected a word here", "add a word or remove the operator")
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def nested(self, tok: _Tok) -> Node:
        """The operand of a ``-``/``NOT`` or the inside of a ``(``."""
        if tok.kind in ("MINUS", "NOT"):
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", "RP"):
                raise QuerySyntaxError(
                    tok.pos, f"{tok.text} needs a term after it", _NEGATION_HINTS[tok.text]
                )
            return Not(self.unary(), tok.pos)
        if tok.kind == "LP":
            if (nxt := self.peek()) is None:
                raise QuerySyntaxError(tok.pos, "unclosed (", "add a ) or remove this (")
            if nxt.kind == "RP":
                raise QuerySyntaxError(
                    tok.pos, "empty parentheses", "put words inside or remove them"
                )
            node = self.or_expr()
            close = self.peek()
            if close is None or close.kind != "RP":
                raise QuerySyntaxError(tok.pos, "unclosed (", "add a ) or remove this (")
            self.take()
            return node
        raise AssertionError(tok.kind)

    def count_clause(self, pos: int) -> None:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise QuerySyntaxError(pos, f"more than {MAX_CLAUSES} terms", "shorten the query")

    def unary(self) -> Node:
        tok = self.take()
        if tok.kind in ("MINUS", "NOT", "LP"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError(
                    tok.pos,
                    f"more than {MAX_DEPTH} nested parentheses or negations",
                    "simplify the query",
                )
            try:
                return self.nested(tok)
            finally:
                self.depth -= 1
        if tok.kind == "RP":
            raise QuerySyntaxError(tok.pos, "unmatched )", "remove it or add a ( before it")
        if tok.kind == "WORDS":
            words = []
            for text, pos in tok.parts:
                self.count_clause(pos)
                words.append(_leaf(_Tok("TERM", text, pos, exact=tok.exact)))
            return words[0] if len(words) == 1 else And(tuple(words))
        self.count_clause(tok.pos)
        if tok.kind == "PHRASE":
            if not tok.text.strip():
                raise QuerySyntaxError(tok.pos, "empty phrase", "put words between the quotes")
            return Phrase(tok.text, tok.field, tok.pos, phrase_exact(tok.text, tok.pos, tok.exact))
        return _leaf(tok)


def _leaf(tok: _Tok) -> Leaf:
    text = tok.text
    if tok.exact and (text.endswith("*") or re.fullmatch(r".+~\d*", text)):
        kind = "prefix" if text.endswith("*") else "fuzzy word"
        raise QuerySyntaxError(
            tok.pos - 1,
            f"= does not apply to a {kind}",
            "=word matches the one form typed; remove the = or the " + text[-1:],
        )
    if text.endswith("*"):
        stem = text.rstrip("*")
        if "*" in stem or "?" in stem:
            raise QuerySyntaxError(
                tok.pos, "* is only allowed at the end of a word", "write mobili*"
            )
        letters = sum(1 for c in stem if c.isalnum())
        if letters < MIN_PREFIX:
            raise QuerySyntaxError(
                tok.pos,
                f"prefix {text!r} is too short",
                f"give at least {MIN_PREFIX} letters before *; "
                "to list everything, search without text",
            )
        return Prefix(stem, tok.field, tok.pos)
    m = re.fullmatch(r"(.+?)~(\d*)", text)
    if m and any(c.isalnum() for c in m.group(1)):
        distance = int(m.group(2)) if m.group(2) else 1
        if distance > MAX_FUZZY or distance < 1:
            raise QuerySyntaxError(
                tok.pos, f"fuzzy distance {distance} out of range", "use word~1 or word~2"
            )
        return Fuzzy(m.group(1), tok.field, distance, tok.pos)
    return Word(text, tok.field, tok.pos, tok.exact)


def parse(text: str) -> ParsedQuery:
    """Parse a query string: its tree (None when it has no words: a browse) and warnings
    for what was searched other than as written (an unknown ``name:``, a link).

    Control characters count as spaces; a query over MAX_QUERY_CHARS is refused.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            MAX_QUERY_CHARS, f"query longer than {MAX_QUERY_CHARS} characters", "shorten it"
        )
    cleaned = _CONTROL.sub(" ", text)
    notes: list[SearchWarning] = []
    toks = _tokens(cleaned, notes)
    if not toks:
        return ParsedQuery(None, ())
    return ParsedQuery(_Parser(toks, len(cleaned)).parse(), tuple(notes))


def parse_query(text: str) -> Node | None:
    """The tree of ``parse`` (its warnings dropped)."""
    return parse(text).node


def leaves(node: Node) -> list[Leaf]:
    """Leaf nodes in order, negated ones included."""
    if isinstance(node, Not):
        return leaves(node.child)
    if isinstance(node, And | Or):
        return [leaf for child in node.children for leaf in leaves(child)]
    return [node]
