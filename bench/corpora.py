"""The real corpora of ``../shared/data``, read in place, as ``Article`` objects.

Used by tests and benchmarks; never copy the corpora into the repository.  Where the data is:
the ``NEWSEARCH_SHARED`` environment variable names the shared folder (the one holding
``data/``), else ``<repo>/../shared``.  ``require_shared()`` skips a test when it is absent.

Conversion (deterministic: the same files always give the same articles):

* **bbc-news** (English): id ``bbc/<category>/<file>.txt``; title = line 1, body = the rest;
  category = the folder name (``business`` ...); source ``BBC News``; tags = ``(category,)``.
* **ner-uk** (Ukrainian): id ``ner-uk/<ng|bruk>/<file>.txt``; the text is tokenized (spaces
  around punctuation), so it is detokenized (``detokenize``); the ``.ann`` offsets refer to the
  *tokenized* text, so entities are cut from the raw text and then detokenized.  Category
  ``Investigations`` (``ng``, source ``Nashi Groshi``) or ``Texts`` (``bruk``, ``Brown-UK``).
* **factRuEval-2016** (Russian): id ``factrueval/<devset|testset>/<file>.txt``; category
  ``News``, source ``factRuEval``.  ``testset/list.txt`` is a file-name list, not an article
  (it has no ``.spans``/``.objects``), so it is skipped: 254 articles, not 255.

For ner-uk and factRuEval the title is the first sentence of the first line with at least three
words, cut to its first 12 words (plus ``…``) when longer than 16 words; the body is the whole
text.  Bodies of all corpora are normalized to one paragraph per non-empty source line
(whitespace collapsed), paragraphs separated by a blank line, so they survive the article file
format unchanged.  Tags of ner-uk/factRuEval articles are the (up to) three most mentioned
organization/location names of the article (surface form as written, counted by the crude
lemma key below), else the category.  ``published``: the corpora have no dates, so each article
gets a synthetic instant, from a SHA-256 of its id, uniform over 2014-01-01 .. 2026-06-30 local
time, with the offset the corpus' capital had at that instant (Europe/London, Europe/Kyiv,
Europe/Moscow), stored as a fixed offset.  ``language`` is left empty for the indexer to detect;
``true_language(article_id)`` knows the truth.

Relevance judgments (``entity_judgments``): every annotated person/organization/location
mention (ner-uk PERS/ORG/LOC; factRuEval Person/Org/Location/LocOrg, as the text of their name
spans) gets a *crude lemma key*, computed from the surface form alone:

1. lower-case, ``ё`` -> ``е``, apostrophes ``’ ʼ `` -> ``'``; split into words (runs of letters,
   apostrophes inside; digits and punctuation dropped, so ``вул. Лаврська, 12`` -> 2 words);
2. from each word strip ONE Russian/Ukrainian case ending (longest match of a fixed list such as
   ``-ами -ого -ою -ові -ий -ая -а -я -о -у -і -и -ь``), only if at least 4 letters remain;
   ``-ов -ев -ин -ів`` are never stripped (``Петров`` is not ``Петро``);
3. a one-word name that lost an adjective ending is marked apart (``Донецкой`` != ``Донецке``).

So ``Лужкова``/``Лужков`` -> ``лужков``, ``Москвы``/``Москве``/``Москва`` -> ``москв``,
``Тараса Шевченка``/``Тарас Шевченко`` -> ``тарас шевченк``, ``Росії``/``Росія``/``Росією`` ->
``росі``.  All mentions with the same key, in any document of the language, are one entity
(the annotation type is ignored: what counts is that the words are in the document).  The query
is the entity's most frequent surface form, quotes dropped (``ДП НАЕК Енергоатом``).

Why not "the first 5 letters of each word", the first idea: it merged different entities
(Роскосмос/Роскомнадзор, Чернігів/Чернівці, Берлин/Берлускони, Маріо/Маріуполь), which makes
judgments *wrong*; stripping one ending only over-splits (``Київ``/``Києва``, ``Юрій``/``Юрія``
are two entities), which merely makes a judged set smaller.  A judged set is therefore a lower
bound of the documents mentioning the entity — fit for recall checks ("searching for the name
finds these documents"), not for precision.  Mentions glued to a neighbouring word in the
source (``зареєструвативМВС``: a missing space; ``_Ріната Ахметова_``: markdown emphasis) or
spanning a line break are left out.  Residual noise, checked with pymorphy3 lemmas: 9 of the
2,355 (query, document) pairs have no form of the query's words in the document (``Наталя``/
``Наталія``, ``Маріо``/``Марія``, ``Білорусь``/``Білорусії``, ``Christie's``/``Christie’s``),
so recall checks should allow about 1% misses.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # tests and scripts import the project from the repo root
    sys.path.insert(0, str(REPO))

from newsearch.search.model import Article  # noqa: E402

ENV_VAR = "NEWSEARCH_SHARED"

BBC_SOURCE = "BBC News"
NER_UK_SOURCES = {"ng": ("Investigations", "Nashi Groshi"), "bruk": ("Texts", "Brown-UK")}
FACTRUEVAL_CATEGORY = "News"
FACTRUEVAL_SOURCE = "factRuEval"

ID_PREFIXES = {"bbc/": "en", "ner-uk/": "uk", "factrueval/": "ru"}
ZONES = {"en": "Europe/London", "uk": "Europe/Kyiv", "ru": "Europe/Moscow"}
DATE_FIRST = (2014, 1, 1)
DATE_LAST = (2026, 6, 30)

TITLE_MAX_WORDS = 16
TITLE_CUT_WORDS = 12
MAX_TAGS = 3
JUDGMENT_MIN_DOCS = 2
JUDGMENT_MAX_DOCS = 30
JUDGMENT_LIMIT = 200


# --------------------------------------------------------------------------- locating the data


def shared_dir() -> Path | None:
    """The shared folder (holding ``data/``): ``$NEWSEARCH_SHARED`` or ``<repo>/../shared``.

    None when its ``data`` folder does not exist (e.g. a fresh clone).
    """
    configured = os.environ.get(ENV_VAR)
    base = Path(configured).expanduser() if configured else REPO.parent / "shared"
    return base if (base / "data").is_dir() else None


def data_dir() -> Path:
    """``<shared>/data``; FileNotFoundError when absent (tests use ``require_shared``)."""
    shared = shared_dir()
    if shared is None:
        raise FileNotFoundError(
            f"../shared/data is absent: set {ENV_VAR} to the folder that holds data/"
        )
    return shared / "data"


def require_shared() -> Path:
    """``<shared>/data``, or skip the calling test when it is absent."""
    import pytest

    shared = shared_dir()
    if shared is None:
        pytest.skip(
            f"../shared/data is absent (a fresh clone): set {ENV_VAR} to the folder that "
            "holds data/ (bbc-news, ner-uk, factrueval-ru) to run the real-corpus tests"
        )
    return shared / "data"


def true_language(article_id: str) -> str:
    """The known language (``en``/``uk``/``ru``) of a corpus article, from its id."""
    for prefix, language in ID_PREFIXES.items():
        if article_id.startswith(prefix):
            return language
    raise KeyError(f"not a corpus article id: {article_id!r}")


# --------------------------------------------------------------------------- text helpers

_CLOSING = frozenset(",.:;!?)]}»”…")
_OPENING = frozenset("([{«„“")
_STRAIGHT_QUOTES = frozenset("\"'")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"'»”)]*\s+(?=[\"'«„“(]?[^\W\d_]|\d)")
_PROSE_STARTS = frozenset("«\"„“'—–-(.…[")
_ABBREVIATION_END = re.compile(r"(?:^|[\s(«])(?:[^\W\d_]|[^\W\d_A-ZА-ЯЁІЇЄҐ]{1,3})\.$")
"""Ends in an abbreviation (``м.``, ``вул.``, ``обл.``, ``грн.``) or an initial (``М.``)."""
_QUOTES = str.maketrans("", "", '«»"„“”')
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ`][^\W\d_]+)*")
_APOSTROPHES = str.maketrans("’ʼ`", "'''")
# Case and number endings of Russian and Ukrainian nouns, adjectives and names, longest
# first.  Not -ов/-ев/-ин/-ів: those end surnames and place names (Петров is not Петро).
_ENDINGS = sorted(
    [
        *("ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ією", "ові", "еві", "єві"),
        *("ою", "ею", "єю", "ой", "ей", "ом", "ем", "ам", "ям", "ах", "ях", "ых", "их", "ым"),
        *("им", "ий", "ый", "ій", "ая", "яя", "ое", "ее", "ые", "ие", "ую", "юю", "ія", "ію"),
        *("ії", "ої", "а", "я", "о", "е", "є", "у", "ю", "ы", "и", "і", "ї", "й", "ь"),
    ],
    key=len,
    reverse=True,
)
_ADJECTIVE_ENDINGS = frozenset(
    [
        *("ого", "его", "ому", "ему", "ыми", "ими", "ой", "ей", "ый", "ий", "ій", "ая"),
        *("яя", "ое", "ее", "ые", "ие", "ую", "юю", "ых", "их", "ым", "им", "ої"),
    ]
)
"""A one-word name stripped of one of these is keyed apart (``Донецкой`` is not ``Донецке``)."""
_MIN_STEM = 4


def detokenize(text: str) -> str:
    """Undo the ner-uk tokenization line by line: ``Слово , «інше» ( так ) .`` ->
    ``Слово, «інше» (так).``.

    No space before a token made only of ``, . : ; ! ? ) ] } » ” …`` and none after one made
    only of ``( [ { « „ “``; a lone straight quote opens and closes in turn.  Line breaks and
    already untokenized text (ng) are kept.
    """
    return "\n".join(_detokenize_line(line) for line in text.split("\n"))


def _detokenize_line(line: str) -> str:
    out: list[str] = []
    glue_next = False
    quote_open = {q: False for q in _STRAIGHT_QUOTES}
    for token in line.split(" "):
        if not token:
            continue
        closing = all(c in _CLOSING for c in token)
        opening = all(c in _OPENING for c in token)
        if token in _STRAIGHT_QUOTES:
            opening = not quote_open[token]
            closing = not opening
            quote_open[token] = opening
        if out and not glue_next and not closing:
            out.append(" ")
        out.append(token)
        glue_next = opening
    return "".join(out)


def _paragraphs(text: str) -> list[str]:
    """One paragraph per non-empty line, whitespace collapsed."""
    return [p for p in (" ".join(line.split()) for line in text.split("\n")) if p]


def _title_from(paragraphs: Sequence[str]) -> str:
    """The first sentence of the text, at most ~12 words (see the module doc).

    It starts at the first line of at least three words that starts like prose (not an editor's
    note such as ``_ (додано пояснення прес-служби) _``).  ng's lines are sentences split also
    at abbreviations (``... офісу в Сімферополі (пр.`` / ``Кірова ...``): a line ending in an
    abbreviation is joined with the next, and no sentence ends at an abbreviation.
    """
    starts = [
        i
        for i, p in enumerate(paragraphs)
        if len(p.split()) >= 3 and (p[0].isalnum() or p[0] in _PROSE_STARTS)
    ]
    i = starts[0] if starts else 0
    text = paragraphs[i]
    while _ABBREVIATION_END.search(text) and i + 1 < len(paragraphs):
        i += 1
        text += " " + paragraphs[i]
    sentence = text
    for match in _SENTENCE_BREAK.finditer(text):
        candidate = text[: match.start() + 1]
        # Skip initials and abbreviations at the start, and breaks after an abbreviation.
        if len(candidate.split()) >= 4 and not _ABBREVIATION_END.search(candidate):
            sentence = candidate
            break
    words = sentence.split()
    if len(words) > TITLE_MAX_WORDS:
        return " ".join(words[:TITLE_CUT_WORDS]).rstrip(",;:—–-.") + "…"
    return sentence


def _synthetic_published(article_id: str, language: str) -> datetime:
    """A deterministic instant in 2014-01-01 .. 2026-06-30 (local), with the local offset."""
    zone = ZoneInfo(ZONES[language])
    first = datetime(*DATE_FIRST, tzinfo=zone)
    last = datetime(*DATE_LAST, 23, 59, 59, tzinfo=zone)
    span = int((last - first).total_seconds()) + 1
    digest = int.from_bytes(hashlib.sha256(article_id.encode("utf-8")).digest()[:8], "big")
    local = (first.astimezone(UTC) + timedelta(seconds=digest % span)).astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=timezone(offset))


def word_key(word: str) -> str:
    """The crude lemma of one word: lower-cased, one case ending stripped (see module doc)."""
    return _split_ending(word)[0]


def _split_ending(word: str) -> tuple[str, str]:
    lowered = word.lower().replace("ё", "е").translate(_APOSTROPHES)
    for ending in _ENDINGS:
        if lowered.endswith(ending) and len(lowered) - len(ending) >= _MIN_STEM:
            return lowered[: -len(ending)], ending
    return lowered, ""


def entity_key(surface: str) -> tuple[str, ...]:
    """The crude lemma key of an entity surface form: one ``word_key`` per word.

    A one-word name with an adjective ending gets a ``+adj`` word appended, so that it is not
    the noun it comes from (``Донецкой`` -> ``донецк +adj``, ``Донецке`` -> ``донецк``).
    """
    parts = [_split_ending(w) for w in _WORD.findall(surface)]
    key = tuple(stem for stem, _ in parts)
    if len(parts) == 1 and parts[0][1] in _ADJECTIVE_ENDINGS:
        return (*key, "+adj")
    return key


def _tag_safe(surface: str) -> bool:
    """Would the article format's tags line keep this tag whole (see indexer/parse.py)?"""
    return (
        bool(surface)
        and "," not in surface
        and len(surface) <= 64
        and len(surface.split()) <= 6
        and re.search(r"[.!?…][\"'’”»)\]]*(\s|$)", surface) is None
    )


# --------------------------------------------------------------------------- entity mentions


def _glued(text: str, start: int, end: int) -> bool:
    """Does the span touch a word character outside it (``зареєструвативМВС``: a missing
    space; ``_Ріната Ахметова_``: markdown emphasis)?  Such a mention is not a word of its own
    for a tokenizer, so it can't be searched."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return any(ch.isalnum() or ch == "_" for ch in before + after)  # \w, as tokenizers see it


@dataclass(frozen=True, slots=True)
class Mention:
    """One annotated entity mention: ``kind`` is PER, ORG or LOC; ``surface`` as in the body."""

    article_id: str
    kind: str
    surface: str
    start: int
    """Offset in the source file's (for ner-uk: tokenized) text, for ordering."""

    @property
    def key(self) -> tuple[str, ...]:
        return entity_key(self.surface)


_NER_UK_KINDS = {"PERS": "PER", "ORG": "ORG", "LOC": "LOC"}
_ANN_LINE = re.compile(r"^T\d+\t(\S+)\t(\d+)\t(\d+)\t", re.MULTILINE)


def _ner_uk_mentions(article_id: str, raw: str, ann: str) -> list[Mention]:
    """PERS/ORG/LOC entities of a brat ``.ann`` file (tab-separated: id, type, start, end, text).

    The text column of an entity that spans a line break continues on the next line of the
    ``.ann`` file, so entities are cut from the tokenized text by offset; those spanning a line
    break are skipped.
    """
    mentions = []
    for match in _ANN_LINE.finditer(ann):
        kind = _NER_UK_KINDS.get(match[1])
        start, end = int(match[2]), int(match[3])
        piece = raw[start:end]
        if kind is None or "\n" in piece or _glued(raw, start, end):
            continue
        surface = " ".join(detokenize(piece).split())
        if surface:
            mentions.append(Mention(article_id, kind, surface, start))
    return mentions


_RU_KINDS = {"Person": "PER", "Org": "ORG", "Location": "LOC", "LocOrg": "LOC"}
_RU_NAME_SPANS = {
    "PER": {"name", "surname", "patronymic", "nickname"},
    "ORG": {"org_name"},
    "LOC": {"loc_name"},
}
_RU_SURFACE_SPANS = {"name", "surname", "patronymic", "nickname", "org_name", "loc_name"}


def _factrueval_mentions(article_id: str, text: str, spans: str, objects: str) -> list[Mention]:
    """Person/Org/Location/LocOrg objects, as the text of their name spans.

    ``.spans``: ``id type start length token_id n_tokens # token_ids... text``; ``.objects``:
    ``id Type span_ids... # text``.  Descriptor spans (``мэрии``, ``компания``) are left out; an
    object needs a span of its own kind's name (an Org needs an ``org_name``), so
    ``мэрии Москвы`` is not an organization mention (it is a LocOrg ``Москвы`` already).
    """
    by_id: dict[str, tuple[str, int, int]] = {}
    for line in spans.splitlines():
        fields = line.partition("#")[0].split()
        if len(fields) >= 4:
            by_id[fields[0]] = (fields[1], int(fields[2]), int(fields[3]))
    mentions = []
    for line in objects.splitlines():
        fields = line.partition("#")[0].split()
        if len(fields) < 3 or (kind := _RU_KINDS.get(fields[1])) is None:
            continue
        parts = [by_id[s] for s in fields[2:] if s in by_id]
        parts = sorted((p for p in parts if p[0] in _RU_SURFACE_SPANS), key=lambda p: p[1])
        if not any(p[0] in _RU_NAME_SPANS[kind] for p in parts):
            continue
        pieces: list[list[int]] = []  # [start, end] runs: overlapping or only punctuation apart
        for _, start, length in parts:
            if pieces and not any(c.isalnum() for c in text[pieces[-1][1] : start]):
                pieces[-1][1] = max(pieces[-1][1], start + length)
            else:
                pieces.append([start, start + length])
        if any(_glued(text, s, e) for s, e in pieces):
            continue
        surface = " ".join(" ".join(text[s:e].split()) for s, e in pieces)
        mentions.append(Mention(article_id, kind, surface, parts[0][1]))
    return mentions


# --------------------------------------------------------------------------- converters


@dataclass(frozen=True, slots=True)
class _Doc:
    article: Article
    mentions: tuple[Mention, ...]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").removeprefix("\ufeff").replace("\r\n", "\n")


def _entity_tags(mentions: Iterable[Mention], fallback: str) -> tuple[str, ...]:
    """The most mentioned ORG/LOC names (count desc, then first mention), else ``fallback``."""
    counts: Counter[tuple[str, ...]] = Counter()
    forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    first: dict[tuple[str, ...], int] = {}
    for m in sorted(mentions, key=lambda m: m.start):
        key = m.key
        if m.kind not in ("ORG", "LOC") or not key or not _tag_safe(m.surface):
            continue
        counts[key] += 1
        forms[key][m.surface] += 1
        first.setdefault(key, m.start)
    ranked = sorted(counts, key=lambda k: (-counts[k], first[k]))[:MAX_TAGS]
    tags = [min(forms[k].items(), key=lambda kv: (-kv[1], kv[0]))[0] for k in ranked]
    tags = list(dict.fromkeys(tags))
    return tuple(tags) if tags else (fallback,)


def _annotated_article(
    article_id: str, text: str, mentions: list[Mention], category: str, source: str
) -> _Doc:
    language = true_language(article_id)
    paragraphs = _paragraphs(text)
    article = Article(
        id=article_id,
        title=_title_from(paragraphs),
        body="\n\n".join(paragraphs),
        published=_synthetic_published(article_id, language),
        category=category,
        source=source,
        tags=_entity_tags(mentions, category),
    )
    return _Doc(article, tuple(mentions))


@lru_cache(maxsize=4)
def _bbc(root: Path) -> tuple[_Doc, ...]:
    docs = []
    for path in sorted((root / "bbc-news" / "news").glob("*/*.txt")):
        category = path.parent.name
        article_id = f"bbc/{category}/{path.name}"
        lines = _read(path).split("\n")
        docs.append(
            _Doc(
                Article(
                    id=article_id,
                    title=" ".join(lines[0].split()),
                    body="\n\n".join(_paragraphs("\n".join(lines[1:]))),
                    published=_synthetic_published(article_id, "en"),
                    category=category,
                    source=BBC_SOURCE,
                    tags=(category,),
                ),
                (),
            )
        )
    return tuple(docs)


@lru_cache(maxsize=4)
def _ner_uk(root: Path) -> tuple[_Doc, ...]:
    docs = []
    for folder, (category, source) in sorted(NER_UK_SOURCES.items()):
        for path in sorted((root / "ner-uk" / folder).glob("*.txt")):
            article_id = f"ner-uk/{folder}/{path.name}"
            raw = _read(path)
            ann_path = path.with_suffix(".ann")
            ann = _read(ann_path) if ann_path.exists() else ""
            mentions = _ner_uk_mentions(article_id, raw, ann)
            docs.append(_annotated_article(article_id, detokenize(raw), mentions, category, source))
    return tuple(docs)


@lru_cache(maxsize=4)
def _factrueval(root: Path) -> tuple[_Doc, ...]:
    docs = []
    for folder in ("devset", "testset"):
        for path in sorted((root / "factrueval-ru" / folder).glob("*.txt")):
            spans_path, objects_path = path.with_suffix(".spans"), path.with_suffix(".objects")
            if not spans_path.exists() or not objects_path.exists():
                continue  # testset/list.txt: a list of file names, not an article
            article_id = f"factrueval/{folder}/{path.name}"
            text = _read(path)
            mentions = _factrueval_mentions(
                article_id, text, _read(spans_path), _read(objects_path)
            )
            docs.append(
                _annotated_article(
                    article_id, text, mentions, FACTRUEVAL_CATEGORY, FACTRUEVAL_SOURCE
                )
            )
    return tuple(docs)


def _root(data: Path | None) -> Path:
    return (data if data is not None else data_dir()).resolve()


def bbc_articles(data: Path | None = None) -> list[Article]:
    """The 2,095 BBC News articles (English), sorted by id."""
    return [d.article for d in _bbc(_root(data))]


def ner_uk_articles(data: Path | None = None) -> list[Article]:
    """The 560 ner-uk texts (Ukrainian): ``bruk`` then ``ng``, each sorted by file name."""
    return [d.article for d in _ner_uk(_root(data))]


def factrueval_articles(data: Path | None = None) -> list[Article]:
    """The 254 factRuEval-2016 articles (Russian): ``devset`` then ``testset``."""
    return [d.article for d in _factrueval(_root(data))]


def all_corpus_articles(data: Path | None = None) -> list[Article]:
    """All corpora: BBC, ner-uk, factRuEval (2,909 articles)."""
    return bbc_articles(data) + ner_uk_articles(data) + factrueval_articles(data)


def entity_mentions(lang: str, data: Path | None = None) -> list[Mention]:
    """Every PER/ORG/LOC mention of the ``uk`` (ner-uk) or ``ru`` (factRuEval) corpus."""
    if lang == "uk":
        docs = _ner_uk(_root(data))
    elif lang == "ru":
        docs = _factrueval(_root(data))
    else:
        raise ValueError(f"no entity annotations for language {lang!r} (only 'uk' and 'ru')")
    return [m for d in docs for m in d.mentions]


def _query_form(surface: str) -> str:
    """A surface form as a search query: quotes dropped, punctuation trimmed from the ends
    (``ДП «НАЕК «Енергоатом»`` -> ``ДП НАЕК Енергоатом``, ``Yahoo!`` -> ``Yahoo``)."""
    words = surface.translate(_QUOTES).split()
    query = " ".join(words)
    start = next((i for i, ch in enumerate(query) if ch.isalnum()), 0)
    end = next((i for i in range(len(query), 0, -1) if query[i - 1].isalnum()), len(query))
    return query[start:end]


def entity_judgments(lang: str, data: Path | None = None) -> list[tuple[str, set[str]]]:
    """``(query, relevant article ids)`` for ``uk`` or ``ru``: see the module doc.

    Entities mentioned in 2-30 documents, with at least two letters in the key; ordered by
    document count (most first), then query; at most 200.  The query is the most frequent
    surface form (ties: the smallest string).
    """
    docs_of: dict[tuple[str, ...], set[str]] = defaultdict(set)
    forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for mention in entity_mentions(lang, data):
        key = mention.key
        if sum(len(w) for w in key if not w.startswith("+")) < 2:
            continue
        docs_of[key].add(mention.article_id)
        forms[key][mention.surface] += 1
    judged = []
    for key, ids in docs_of.items():
        if JUDGMENT_MIN_DOCS <= len(ids) <= JUDGMENT_MAX_DOCS:
            query = min(forms[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
            judged.append((_query_form(query), set(ids)))
    judged.sort(key=lambda qi: (-len(qi[1]), qi[0]))
    return judged[:JUDGMENT_LIMIT]


# --------------------------------------------------------------------------- writers


def write_jsonl(articles: Iterable[Article], path: Path) -> Path:
    """Write JSON Lines (id, title, body, tags, category, source, published, language?, url?)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for a in articles:
            record: dict[str, object] = {
                "id": a.id,
                "title": a.title,
                "body": a.body,
                "tags": list(a.tags),
                "category": a.category,
                "source": a.source,
                "published": a.published.isoformat(),
            }
            if a.language and not a.language_detected:
                record["language"] = a.language
            if a.url is not None:
                record["url"] = a.url
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def article_text(article: Article) -> str:
    """An article in the article file format (README.md, "Article files").

    The headline block is always written (the title again when there is none), so that a body
    whose first paragraph resembles the title is not taken for the headline.  An article without
    tags whose first paragraph is a short comma-separated line would be read back with that line
    as tags: the format can't say "no tags" (the corpus converters always give tags).
    """
    for name, value in (("title", article.title), ("category", article.category)):
        if "\n" in value or "\r" in value:
            raise ValueError(f"{article.id}: the {name} must be one line")
    if "\n" in article.source or any("," in t or "\n" in t for t in article.tags):
        raise ValueError(f"{article.id}: source must be one line, tags free of commas")
    header = f"{article.category} {article.published.isoformat()}".lstrip()
    blocks = [f"{header}\n{article.source}\n{article.title}", article.headline or article.title]
    if article.tags:
        blocks.append(", ".join(article.tags))
    blocks.append(article.body)
    return "\n\n".join(blocks) + "\n"


def write_article_files(articles: Iterable[Article], directory: Path) -> list[Path]:
    """Write each article to ``directory/<id>`` (ids are relative paths ending in ``.txt``,
    so the parser gives them back as ids when it reads ``directory``)."""
    paths = []
    for article in articles:
        rel = Path(article.id)
        if rel.is_absolute() or ".." in rel.parts or rel.suffix != ".txt":
            raise ValueError(f"id {article.id!r} is not a relative path ending in .txt")
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(article), encoding="utf-8", newline="\n")
        paths.append(path)
    return paths
