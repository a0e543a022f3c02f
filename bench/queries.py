"""The fixed query mix, drawn deterministically from a dataset's own articles.

Every query comes from one real document of the dataset ("the anchor"), so it has at least one
hit in every system that tokenizes alike: the words of a word query all occur in the anchor,
a phrase is two adjacent words of it, and a filtered query's language, tag and date window
hold for it.  Words are lower-case letters only (no digits, apostrophes or operators), so the
same text is valid in newsearch's, tantivy's and FTS5's query languages.

Classes (``CLASSES``):

* ``top10``: 1-3 words of mid document frequency (0.2%-5% of the documents, at least 3), AND;
  top-10 by BM25, no facets, no highlights;
* ``phrase``: two adjacent words (each of 3+ letters, at least one below 5% df) in quotes;
* ``filtered``: a word query plus language, a 1-3 year date window and one tag;
* ``facets``: a word query plus the four facets (tag, language, category, source) and a month
  histogram (time zone Europe/Kyiv);
* ``highlight``: a word query with title and body highlights (3 fragments of 160 chars);
* ``full``: the journalist's full query: top-10, four facets, month histogram, highlights;
* ``browse``: no text: language, date window and (half of them) a tag, with the four facets,
  newest first;
* ``deep``: a frequent word (5%-30% df), the page at offset ~200 (20 pages of 10 in);
* ``phrase_common``: two adjacent words (each of 3+ letters) that are both frequent (each in
  more than 5% of the documents: ``has been``, ``the government``), in quotes: long postings and
  long position lists.  Last in ``CLASSES``, so the other classes' queries stay as they were.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.corpus import SOURCE_LANGUAGE

CLASSES = (
    "top10",
    "phrase",
    "filtered",
    "facets",
    "highlight",
    "full",
    "browse",
    "deep",
    "phrase_common",
)
DEEP_OFFSET = 200
DF_SAMPLE = 5000
TOKEN = re.compile(r"[\w'’ʼ`]+")
DATE_FIRST = datetime(2014, 1, 1, tzinfo=UTC)
DATE_LAST = datetime(2026, 7, 1, tzinfo=UTC)


@dataclass(frozen=True)
class QuerySpec:
    """One query, system-neutral; ``text`` is valid newsearch, tantivy and FTS5 syntax."""

    kind: str
    text: str = ""
    words: tuple[str, ...] = ()
    phrase: bool = False
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: datetime | None = None
    date_to: datetime | None = None
    offset: int = 0
    anchor: str = ""
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    def fts5(self) -> str:
        """The FTS5 MATCH expression: quoted words (implicit AND) or one quoted phrase."""
        if self.phrase:
            return '"' + " ".join(self.words) + '"'
        return " ".join(f'"{w}"' for w in self.words)

    def with_offset(self, offset: int) -> QuerySpec:
        return replace(self, offset=offset)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "text": self.text}
        for name in ("languages", "tags"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.date_from is not None and self.date_to is not None:
            out["date_from"] = self.date_from.isoformat()
            out["date_to"] = self.date_to.isoformat()
        if self.offset:
            out["offset"] = self.offset
        return out


@dataclass
class _Doc:
    id: str
    text: str
    language: str
    tags: tuple[str, ...]
    published: datetime


def _tokens(text: str) -> list[str]:
    """Lower-case word tokens; those with apostrophes or digits are kept as blockers."""
    return TOKEN.findall(text.lower())


def _usable(word: str, min_len: int = 3) -> bool:
    return len(word) >= min_len and word.isalpha() and word not in ("and", "not", "near")


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def iter_records(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _sample_docs(path: Path, size: int, rng: random.Random) -> list[_Doc]:
    total = count_lines(path)
    wanted = set(rng.sample(range(total), min(size, total)))
    docs = []
    for i, record in enumerate(iter_records(path)):
        if i in wanted:
            published = datetime.fromisoformat(str(record["published"])).astimezone(UTC)
            docs.append(
                _Doc(
                    id=str(record["id"]),
                    text=f"{record['title']}\n{record['body']}",
                    language=str(record.get("language") or SOURCE_LANGUAGE[str(record["source"])]),
                    tags=tuple(str(t) for t in record.get("tags") or ()),  # type: ignore[attr-defined]
                    published=published,
                )
            )
    return docs


def _window(rng: random.Random, around: datetime | None) -> tuple[datetime, datetime]:
    days = rng.randint(365, 3 * 365)
    if around is None:
        span = (DATE_LAST - DATE_FIRST).days - days
        start = DATE_FIRST + timedelta(days=rng.randint(0, max(span, 0)))
    else:
        start = around - timedelta(days=rng.randint(0, days - 1), seconds=rng.randint(0, 86399))
    start = start.replace(microsecond=0)
    return start, start + timedelta(days=days)


def make_mix(path: Path, per_class: int, seed: int = 1) -> dict[str, list[QuerySpec]]:
    """``per_class`` queries of each class from the JSON Lines dataset ``path``."""
    rng = random.Random(f"newsearch-bench-queries/{seed}")
    docs = _sample_docs(path, DF_SAMPLE, rng)
    n = len(docs)
    df: Counter[str] = Counter()
    doc_tokens = []
    for doc in docs:
        tokens = _tokens(doc.text)
        doc_tokens.append(tokens)
        df.update(set(tokens))
    lo, hi = max(3, 0.002 * n), max(12, 0.05 * n)
    deep_lo, deep_hi = max(5, 0.05 * n), max(20, 0.30 * n)
    mid = {w for w, c in df.items() if lo <= c <= hi and _usable(w)}
    frequent = sorted(w for w, c in df.items() if deep_lo <= c <= deep_hi and _usable(w, 4))
    tag_counts: dict[str, Counter[str]] = {}
    for doc in docs:
        tag_counts.setdefault(doc.language, Counter()).update(doc.tags)
    languages = sorted(tag_counts)
    top_tags = {lang: sorted(c, key=lambda t: (-c[t], t))[:30] for lang, c in tag_counts.items()}

    def anchor_words(k: int) -> tuple[_Doc, tuple[str, ...]]:
        while True:
            i = rng.randrange(n)
            words = sorted({w for w in doc_tokens[i] if w in mid})
            if words:
                return docs[i], tuple(rng.sample(words, min(k, len(words))))

    def word_query(kind: str) -> QuerySpec:
        k = rng.choices((1, 2, 3), weights=(0.4, 0.4, 0.2))[0]
        doc, words = anchor_words(k)
        return QuerySpec(kind, " ".join(words), words, anchor=doc.id)

    def phrase_query(kind: str = "phrase") -> QuerySpec:
        # "phrase": a word in at most 5% of the documents; "phrase_common": both in more.
        common = kind == "phrase_common"
        for attempt in itertools.count():
            i = rng.randrange(n)
            text = docs[i].text.lower()
            pairs = []
            found = list(TOKEN.finditer(text))
            for m1, m2 in itertools.pairwise(found):
                a, b = m1.group(0), m2.group(0)
                gap = text[m1.end() : m2.start()]
                if (
                    gap.strip() == ""
                    and "\n" not in gap
                    and _usable(a)
                    and _usable(b)
                    and (min(df[a], df[b]) > hi if common else min(df[a], df[b]) <= hi)
                ):
                    pairs.append((a, b))
            if pairs:
                a, b = pairs[rng.randrange(len(pairs))]
                return QuerySpec(kind, f'"{a} {b}"', (a, b), phrase=True, anchor=docs[i].id)
            if attempt > 10 * n:  # no document has such a pair (a tiny corpus)
                raise ValueError(f"no {kind} query can be drawn from {path}")
        raise AssertionError("unreachable")

    def filtered_query() -> QuerySpec:
        k = rng.choices((1, 2), weights=(0.6, 0.4))[0]
        doc, words = anchor_words(k)
        start, end = _window(rng, doc.published)
        tags = (doc.tags[rng.randrange(len(doc.tags))],) if doc.tags else ()
        return QuerySpec(
            "filtered",
            " ".join(words),
            words,
            languages=(doc.language,),
            tags=tags,
            date_from=start,
            date_to=end,
            anchor=doc.id,
        )

    def browse_query() -> QuerySpec:
        lang = languages[rng.randrange(len(languages))]
        start, end = _window(rng, None)
        tags: tuple[str, ...] = ()
        if rng.random() < 0.5 and top_tags[lang]:
            tags = (top_tags[lang][rng.randrange(len(top_tags[lang]))],)
        return QuerySpec("browse", languages=(lang,), tags=tags, date_from=start, date_to=end)

    def deep_query() -> QuerySpec:
        pool = frequent or sorted(mid)
        word = pool[rng.randrange(len(pool))]
        return QuerySpec("deep", word, (word,), offset=DEEP_OFFSET)

    def common_phrase_query() -> QuerySpec:
        return phrase_query("phrase_common")

    makers = {
        "top10": lambda: word_query("top10"),
        "phrase": phrase_query,
        "filtered": filtered_query,
        "facets": lambda: word_query("facets"),
        "highlight": lambda: word_query("highlight"),
        "full": lambda: word_query("full"),
        "browse": browse_query,
        "deep": deep_query,
        "phrase_common": common_phrase_query,
    }
    return {kind: [makers[kind]() for _ in range(per_class)] for kind in CLASSES}
