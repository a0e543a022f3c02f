"""A scaled news corpus, generated deterministically from real sentences of the shared corpora.

Each generated article is built from *sentences* (not whole articles) of its language, so no
two documents are the same while the words, their frequencies and their morphology stay real:

* language mix ``LANGUAGE_MIX`` (45% uk from ner-uk, 30% ru from factRuEval, 25% en from BBC);
* body 2.0-3.5 KB of UTF-8: about half of the sentences come from one real "base" article (so
  a document has a topic and query words co-occur as in news), the rest are drawn from the
  whole language pool; paragraphs of 2-4 sentences;
* title: a 5-16 word sentence of the base article (else of the pool), end punctuation dropped;
* tags: 1-5 per article, Zipf-like (s = 1.07) over a per-language vocabulary (~2,000 tags in
  all): annotated entity names of ner-uk/factRuEval, capitalized names of BBC, and words;
* 12 categories and 40 fictional sources (18 uk, 12 ru, 10 en), both Zipf-like;
* ``published``: a day uniform over 2014-01-01 .. 2026-06-30, an hour weighted to the working
  day, in Europe/Kyiv (uk), Europe/Moscow (ru) or Europe/London (en), written with the offset
  that zone had then (``+02:00``/``+03:00``, ``+00:00``/``+01:00``);
* ids ``scaled/000001`` ...; ``language`` is *not* written, so the indexer detects it as it does
  for the real corpora (the language of a generated article is ``SOURCE_LANGUAGE[source]``).

The English corpus ``scaled-en`` (``ENGLISH``) is made the same way from the BBC sentences only:
every article English (ids ``scaled-en/000001`` ...), so at the same size every English word's
postings are about four times longer than in the mixed corpus and phrases of frequent words
(``has been``, ``the government``) have long position lists.

The same (articles, size, seed) always give byte-identical JSON Lines: one ``random.Random``
seeded with a string, no set iteration, no hash() of strings.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from newsearch.search.model import Article

LANGUAGE_MIX = (("uk", 0.45), ("ru", 0.30), ("en", 0.25))
ENGLISH_MIX = (("en", 1.0),)


@dataclass(frozen=True)
class Variant:
    """A scaled corpus: its dataset name (also the id prefix) and language mix."""

    name: str
    mix: tuple[tuple[str, float], ...]


MIXED = Variant("scaled", LANGUAGE_MIX)
ENGLISH = Variant("scaled-en", ENGLISH_MIX)
VARIANTS = {v.name: v for v in (MIXED, ENGLISH)}
ZONES = {"uk": "Europe/Kyiv", "ru": "Europe/Moscow", "en": "Europe/London"}
FIRST_DAY = date(2014, 1, 1)
LAST_DAY = date(2026, 6, 30)
BODY_MIN_BYTES = 2048
BODY_MAX_BYTES = 3584
TAG_VOCABULARY = {"uk": 800, "ru": 500, "en": 700}
"""Tags per language (half entity names, half words where enough names exist): 2,000 in all."""
ZIPF_S = 1.07
TAGS_PER_ARTICLE = ((1, 0.15), (2, 0.30), (3, 0.30), (4, 0.15), (5, 0.10))
CATEGORIES = (
    "politics",
    "world",
    "economy",
    "society",
    "war",
    "business",
    "regions",
    "culture",
    "sport",
    "technology",
    "health",
    "science",
)
SOURCES = {
    "uk": (
        "Київський вісник",
        "Новини Полтавщини",
        "Дніпровська хвиля",
        "Львівський кур'єр",
        "Одеський оглядач",
        "Харківські новини",
        "Подільський час",
        "Волинська газета",
        "Буковинський тиждень",
        "Черкаська правда",
        "Запорізький експрес",
        "Житомирський край",
        "Карпатський огляд",
        "Сумський дзвін",
        "Рівненські вісті",
        "Чернігівська нива",
        "Херсонський маяк",
        "Тернопільський ранок",
    ),
    "ru": (
        "Вечерний курьер",
        "Деловой обозреватель",
        "Северная газета",
        "Столичные ведомости",
        "Городской вестник",
        "Волжская неделя",
        "Уральский репортёр",
        "Сибирское время",
        "Балтийский обзор",
        "Южный экспресс",
        "Новости Приокья",
        "Региональный телеграф",
    ),
    "en": (
        "Daily Ledger",
        "Morning Courier",
        "Evening Standard-Bearer",
        "Northern Chronicle",
        "Metro Dispatch",
        "Weekly Observer",
        "City Gazette",
        "Coastal Herald",
        "Midland Post",
        "Global Wire",
    ),
}
SOURCE_LANGUAGE = {s: lang for lang, names in SOURCES.items() for s in names} | {
    "BBC News": "en",
    "Nashi Groshi": "uk",
    "Brown-UK": "uk",
    "factRuEval": "ru",
}
"""The language of every source of the generated and the real corpora."""
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 10, 10, 10, 10, 9, 9, 8, 7, 6, 4, 3, 2)

_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'»”)]*\s+(?=[\"'«„“(]?[A-ZА-ЯЁІЇЄҐ0-9])")
_ABBREVIATION = re.compile(r"(?:^|[\s(«])(?:[^\W\d_]|[^\W\d_A-ZА-ЯЁІЇЄҐ]{1,3})[.]$")
_SENTENCE_END = re.compile(r"[.!?…][\"'»”)]*$")
_LOWER_WORD = re.compile(r"[^\W\d_]{3,}")
_NAME = re.compile(r"(?<![.!?…]\s)(?<!^)\b[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,}){0,2}\b")
_TAG_BAD = re.compile(r"[.!?…:;,][\"'’”»)\]]*(\s|$)|,")


@dataclass(frozen=True)
class _Pool:
    """One language's material: sentences, base articles (sentence indices), tags."""

    sentences: tuple[str, ...]
    bases: tuple[tuple[int, ...], ...]
    titles: tuple[tuple[int, ...], ...]
    """Per base: indices of its sentences fit for a title (5-16 words)."""
    tags: tuple[str, ...]
    tag_cum: tuple[float, ...]


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph: end punctuation, then a capital; not after an abbreviation
    or an initial (``м.``, ``вул.``, ``Дж.``), which would leave a fragment."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(paragraph):
        if _ABBREVIATION.search(paragraph, max(0, match.start() - 8), match.start()):
            continue
        out.append(paragraph[start : match.start()].strip())
        start = match.end()
    out.append(paragraph[start:].strip())
    return [s for s in out if s]


def _good_sentence(sentence: str) -> bool:
    words = sentence.split()
    return (
        4 <= len(words) <= 45
        and len(sentence.encode("utf-8")) <= 600
        and _SENTENCE_END.search(sentence) is not None
        and sum(ch.isalpha() for ch in sentence) >= len(sentence) // 2
        and sentence[0].isupper()
        and sentence.count("(") == sentence.count(")")
        and sentence.count("«") == sentence.count("»")
        and sentence.count('"') % 2 == 0
    )


def _tag_ok(tag: str) -> bool:
    return (
        1 < len(tag) <= 64
        and len(tag.split()) <= 6
        and not _TAG_BAD.search(tag)
        and any(ch.isalpha() for ch in tag)
    )


def _zipf_cum(n: int) -> tuple[float, ...]:
    return tuple(itertools.accumulate(1.0 / (rank + 1) ** ZIPF_S for rank in range(n)))


def _interleave(a: Sequence[str], b: Sequence[str], size: int) -> list[str]:
    """Alternate the two ranked lists (names, words), dropping case-insensitive repeats."""
    seen: dict[str, str] = {}
    for item in itertools.chain.from_iterable(itertools.zip_longest(a, b)):
        if item is not None and item.casefold() not in seen:
            seen[item.casefold()] = item
            if len(seen) >= size:
                break
    return list(seen.values())


def _word_ranking(sentences: Sequence[str]) -> list[str]:
    """Lower-case content words by frequency (most first), skipping the 300 most common
    (function words) and words mostly written capitalized (names: those come as names)."""
    counts: Counter[str] = Counter()
    for s in sentences:
        counts.update(_LOWER_WORD.findall(s))
    lowered: Counter[str] = Counter()
    for word, n in counts.items():
        lowered[word.lower()] += n
    ranked = sorted(lowered, key=lambda w: (-lowered[w], w))
    return [
        w for w in ranked[300:] if len(w) >= 6 and lowered[w] >= 3 and counts[w] * 2 > lowered[w]
    ]


def _entity_names(language: str, articles: Sequence[Article], data: Path | None) -> list[str]:
    """Entity names by mention count: annotated names for uk/ru (one surface form per crude
    lemma key, its most frequent), capitalized names for en."""
    counts: Counter[str] = Counter()
    if language in ("uk", "ru"):
        from bench.corpora import entity_key, entity_mentions

        forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
        for mention in entity_mentions(language, data):
            forms[entity_key(mention.surface)][" ".join(mention.surface.split())] += 1
        for form in forms.values():
            best = min(form.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            counts[best] = sum(form.values())
    else:
        lowered: Counter[str] = Counter()
        for article in articles:
            lowered.update(_LOWER_WORD.findall(article.body))
        for article in articles:
            for paragraph in article.body.split("\n\n"):
                for match in _NAME.finditer(paragraph):
                    name = match.group(0)
                    if lowered[name.split()[0].lower()] < 3:
                        counts[name] += 1
    return [n for n in sorted(counts, key=lambda n: (-counts[n], n)) if _tag_ok(n)]


def build_pools(
    articles: Sequence[Article],
    data: Path | None = None,
    mix: Sequence[tuple[str, float]] = LANGUAGE_MIX,
) -> dict[str, _Pool]:
    """Per-language sentence pools, base articles and tag vocabularies of the real corpora,
    for the languages of ``mix``."""
    from bench.corpora import true_language

    by_language: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_language[true_language(article.id)].append(article)
    pools = {}
    for language, _ in mix:
        sentences: list[str] = []
        index: dict[str, int] = {}
        bases: list[tuple[int, ...]] = []
        titles: list[tuple[int, ...]] = []
        for article in by_language[language]:
            own: list[int] = []
            for paragraph in article.body.split("\n\n"):
                for sentence in split_sentences(paragraph):
                    if not _good_sentence(sentence):
                        continue
                    if sentence not in index:
                        index[sentence] = len(sentences)
                        sentences.append(sentence)
                    own.append(index[sentence])
            if len(own) >= 3:
                bases.append(tuple(own))
                titles.append(tuple(i for i in own if 5 <= len(sentences[i].split()) <= 16))
        size = TAG_VOCABULARY[language]
        names = _entity_names(language, by_language[language], data)[: size // 2]
        tags = _interleave(names, _word_ranking(sentences), size)
        pools[language] = _Pool(
            tuple(sentences), tuple(bases), tuple(titles), tuple(tags), _zipf_cum(len(tags))
        )
    return pools


def _published(rng: random.Random, language: str) -> str:
    days = (LAST_DAY - FIRST_DAY).days
    day = FIRST_DAY + timedelta(days=rng.randrange(days + 1))
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    local = datetime(
        day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
        tzinfo=ZoneInfo(ZONES[language]),
    )  # fmt: skip
    return local.isoformat()  # the zone's offset at that instant: +02:00 / +03:00 ...


def _title(rng: random.Random, pool: _Pool, base: int) -> str:
    candidates = pool.titles[base]
    if candidates:
        sentence = pool.sentences[candidates[rng.randrange(len(candidates))]]
    else:
        sentence = pool.sentences[rng.randrange(len(pool.sentences))]
    return sentence.rstrip(".!?…").strip()


def _body(rng: random.Random, pool: _Pool, base: int) -> str:
    # Sizes count 2 bytes of separator per sentence (a paragraph break is 2, a space 1), so
    # the body never exceeds the maximum; the target starts high enough to clear the minimum.
    target = rng.randint(BODY_MIN_BYTES + 100, BODY_MAX_BYTES)
    own = [i for i in pool.bases[base] if rng.random() < 0.5]
    chosen: list[int] = []
    size = 0
    stream = iter(own)
    misses = 0
    while size < target and misses < 50:
        pick = next(stream, None)
        from_base = pick is not None
        if pick is None:
            pick = rng.randrange(len(pool.sentences))
        length = len(pool.sentences[pick].encode("utf-8")) + 2
        if size + length > BODY_MAX_BYTES:
            misses += 1
            continue
        if from_base:
            chosen.append(pick)
        else:  # pool sentences go anywhere between the base article's
            chosen.insert(rng.randrange(len(chosen) + 1), pick)
        size += length
    paragraphs: list[str] = []
    i = 0
    while i < len(chosen):
        take = rng.randint(2, 4)
        paragraphs.append(" ".join(pool.sentences[j] for j in chosen[i : i + take]))
        i += take
    body = "\n\n".join(paragraphs)
    while len(body.encode("utf-8")) < BODY_MIN_BYTES:  # rare: many misses near the maximum
        short = min((pool.sentences[rng.randrange(len(pool.sentences))] for _ in range(5)), key=len)
        body += " " + short
    return body


def _cum(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, cum: Sequence[float]) -> int:
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def generate(
    pools: dict[str, _Pool], size: int, seed: int = 1, variant: Variant = MIXED
) -> Iterator[dict[str, object]]:
    """``size`` article records (JSON-ready dicts, field order fixed), deterministic in seed."""
    # The mixed corpus keeps its original seed string (its articles stay byte-identical).
    salt = "" if variant is MIXED else f"{variant.name}/"
    rng = random.Random(f"newsearch-bench-corpus/{salt}{seed}")
    mix = variant.mix
    lang_cum = _cum([w for _, w in mix])
    category_cum = _cum([1.0 / (r + 1) ** 0.8 for r in range(len(CATEGORIES))])
    source_cum = {
        lang: _cum([1.0 / (r + 1) for r in range(len(names))]) for lang, names in SOURCES.items()
    }
    tag_counts = [n for n, _ in TAGS_PER_ARTICLE]
    tag_count_cum = _cum([w for _, w in TAGS_PER_ARTICLE])
    for number in range(1, size + 1):
        language = mix[_pick(rng, lang_cum)][0]
        pool = pools[language]
        base = rng.randrange(len(pool.bases))
        title = _title(rng, pool, base)
        body = _body(rng, pool, base)
        wanted = tag_counts[_pick(rng, tag_count_cum)]
        tags: list[str] = []
        for _ in range(wanted * 3):
            tag = pool.tags[_pick(rng, pool.tag_cum)]
            if tag not in tags:
                tags.append(tag)
            if len(tags) == wanted:
                break
        yield {
            "id": f"{variant.name}/{number:06d}",
            "title": title,
            "body": body,
            "tags": tags,
            "category": CATEGORIES[_pick(rng, category_cum)],
            "source": SOURCES[language][_pick(rng, source_cum[language])],
            "published": _published(rng, language),
        }


def write_scaled(
    path: Path,
    articles: Sequence[Article],
    size: int,
    seed: int = 1,
    data: Path | None = None,
    variant: Variant = MIXED,
) -> Path:
    """Generate ``size`` articles of ``variant`` from ``articles`` (the real corpora) into
    JSON Lines ``path``."""
    pools = build_pools(articles, data, variant.mix)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as out:
        for record in generate(pools, size, seed, variant):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def code_digest() -> str:
    """A digest of this generator's source: a change invalidates kept scaled corpora."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
