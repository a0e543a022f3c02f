"""Relevance judgments for ``bench.relevance``, from the corpora's own entity annotations.

Nothing here calls newsearch's analysis: entities, forms and relevant documents come from the
annotations and from plain token matching, so the judgments stay the same whatever the
analyzer does.  See ``bench.relevance``'s doc for the design (entity identity, query kinds,
what is skipped).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpora import _query_form, entity_key, entity_mentions
from newsearch.search.model import Article

KINDS = ("base", "inflected", "latin")
"""Query kinds of the annotated (uk, ru) names; English names have the kind ``base``."""
MAX_RELEVANT = 100
"""Entities with more relevant documents are too frequent to judge with recall@100."""
MIN_LETTERS = 3
"""Entities whose base form has fewer letters (``ЄС``, ``ТВ``) are too short to judge."""
EN_MIN_DOCS = 2
TITLE_MIN_WORDS = 3
"""Shorter BBC titles make no ``title`` query (too few words to tell articles apart)."""
_TOKEN = re.compile(r"[^\W_]+")
_LETTER = re.compile(r"[^\W\d_]")
_ALTERNATING = frozenset("іїєеоёиыэ")
"""Vowels that alternate inside Ukrainian/Russian name stems: Київ/Києва/Киев, Львів/Львова."""
_SYNTAX = re.compile(r"[^\w\s'’ʼ.-]")
"""Characters a name query leaves out: brackets, quotes, operators of the query language."""
_SURNAME_STEMS = ("ов", "ев", "ин", "ін", "ів", "їв", "ын")
_EN_NAME = re.compile(r"(?<![\w’'-])([A-Z][a-z]+) ([A-Z][a-z]+)(?![\w’'-])")
_EN_CAPITALIZED = re.compile(r"[A-Z][\w’'-]*")
_SENTENCE_STARTERS = """
A An And As At But By For From He Her His How If In It Its Mr Mrs Ms Dr Sir Lord Of On Or She So
The Their Then There These They This Those To We What When Where Which While Who Why With You Our
Your After Before Since Under Over Last Next Both Many Some Most
"""
_EN_NOT_NAMES = frozenset(_SENTENCE_STARTERS.split())
"""Capitalized words that start sentences rather than names (``In London``, ``The Beatles``)."""


def tokens(text: str) -> list[str]:
    """Casefolded runs of letters and digits (``ё`` -> ``е``); punctuation and quotes split."""
    return _TOKEN.findall(text.casefold().replace("ё", "е"))


def query_text(surface: str) -> str:
    """An annotated form as users type it: quotes, brackets and other query-language
    punctuation dropped (``Всесвітнього фонду природи (WWF)`` -> ``... природи WWF``)."""
    return " ".join(_SYNTAX.sub(" ", _query_form(surface)).split())


def alternation_key(key: tuple[str, ...]) -> tuple[str, ...]:
    """``entity_key`` with the last alternating vowel of each 4+ letter stem made ``*``.

    So ``Київ``/``Києва``/``Киев``/``Києві`` (stems київ, києв) are one entity, as are
    ``Львів``/``Львова`` and ``Харків``/``Харкова``.  A surname's instrumental case is not
    an adjective (``Ахметовим``, ``Путиным``: the ``+adj`` mark is dropped after -ов/-ев/-ин),
    nor is a Russian noun's in -ия (``Россией``, ``Германией``, ``Марией``: after -и, where
    no adjective's stem ends).
    """
    if len(key) == 2 and key[1] == "+adj" and key[0].endswith((*_SURNAME_STEMS, "и")):
        key = key[:1]
    out = []
    for stem in key:
        if len(stem) >= 4 and not stem.startswith("+"):
            for i in range(len(stem) - 1, -1, -1):
                if stem[i] in _ALTERNATING:
                    stem = stem[:i] + "*" + stem[i + 1 :]
                    break
        out.append(stem)
    return tuple(out)


@dataclass(frozen=True)
class Query:
    """One judged query: ``text`` typed as plain words; ``relevant`` article ids."""

    language: str
    kind: str
    text: str
    relevant: frozenset[str]
    entity: str
    """The entity's base form (the English name itself): what the query stands for."""


class DocTokens:
    """Every article as casefolded tokens, for whole-word string matching."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.tokens: dict[str, list[str]] = {}
        self.docs_of: dict[str, set[str]] = defaultdict(set)
        for article in articles:
            words = tokens(f"{article.title}\n{article.body}")
            self.tokens[article.id] = words
            for word in words:
                self.docs_of[word].add(article.id)

    def containing(self, form: str) -> set[str]:
        """Articles in which the tokens of ``form`` occur next to each other, in order."""
        want = tokens(form)
        if not want:
            return set()
        candidates = set.intersection(*(self.docs_of.get(w, set()) for w in want))
        return {doc for doc in candidates if _contains(self.tokens[doc], want)}


def _contains(words: Sequence[str], want: Sequence[str]) -> bool:
    n = len(want)
    return any(words[i : i + n] == want for i, w in enumerate(words) if w == want[0])


@dataclass
class Entity:
    """One person, place or organization: its annotated forms and documents, per language."""

    key: tuple[str, ...]
    forms: dict[str, Counter[str]]
    """Language -> query form (quotes dropped) -> mention count."""
    annotated: set[str]


def entities(data: Path | None = None) -> list[Entity]:
    """The PER/LOC/ORG entities of ner-uk (uk) and factRuEval (ru), one per alternation key.

    Mentions of both corpora with the same key are one entity (``Москва``/``Москві``/``Москве``).
    """
    by_key: dict[tuple[str, ...], Entity] = {}
    for language in ("uk", "ru"):
        for mention in entity_mentions(language, data):
            form = query_text(mention.surface)
            if not _LETTER.search(form):
                continue
            key = alternation_key(entity_key(mention.surface))
            entity = by_key.setdefault(key, Entity(key, {}, set()))
            entity.forms.setdefault(language, Counter())[form] += 1
            entity.annotated.add(mention.article_id)
    return [by_key[k] for k in sorted(by_key)]


def base_form(forms: Counter[str]) -> str:
    """The nominative, guessed without a dictionary: the form with the fewest letters (the
    nominative of masculine names and places has no ending: ``Київ`` not ``Києві``,
    ``Ахметов`` not ``Ахметова``), then the most frequent (``Москва`` beside ``Москві``), then
    the smallest string."""
    return min(forms.items(), key=lambda kv: (len(_LETTER.findall(kv[0])), -kv[1], kv[0]))[0]


def inflected_forms(forms: Counter[str]) -> list[str]:
    """The other annotated forms with as many words as the base form, one per casefolded
    spelling (``Києві``, ``Києва`` for ``Київ``; not ``Рінат Ахметов`` for ``Ахметов``)."""
    base = base_form(forms)
    seen = {base.casefold()}
    out = []
    for form in sorted(forms, key=lambda f: (-forms[f], f)):
        if len(form.split()) == len(base.split()) and form.casefold() not in seen:
            seen.add(form.casefold())
            out.append(form)
    return out


def transliterate(text: str, language: str) -> str:
    """Latin spelling by translitua: Ukrainian national 2010 table (KMU), Russian
    international passport 1997 table."""
    from translitua import RussianInternationalPassport1997, UkrainianKMU, translit

    table = UkrainianKMU if language == "uk" else RussianInternationalPassport1997
    return str(translit(text, table))


def entity_queries(found: Sequence[Entity], docs: DocTokens) -> tuple[list[Query], int]:
    """Queries of every kind for every judgeable entity, and how many entities were skipped.

    Relevant = documents annotated with the entity plus documents containing any of its forms
    (of any language) as whole words; a ``latin`` query's also those containing its own text
    as whole words (the base form's Latin spelling is a form too: ``Iran`` in a BBC article,
    as ``Иран`` in a Russian one).  Skipped: base form under ``MIN_LETTERS`` letters, or more
    than ``MAX_RELEVANT`` relevant documents (a ``latin`` query alone, when its own text
    makes it more).
    """
    queries: list[Query] = []
    skipped = 0
    for entity in found:
        relevant = set(entity.annotated)
        for forms in entity.forms.values():
            for form in forms:
                relevant |= docs.containing(form)
        bases = {lang: base_form(forms) for lang, forms in entity.forms.items()}
        if len(relevant) > MAX_RELEVANT or all(
            len(_LETTER.findall(b)) < MIN_LETTERS for b in bases.values()
        ):
            skipped += 1
            continue
        judged = frozenset(relevant)
        for language in sorted(entity.forms):
            base = bases[language]
            if len(_LETTER.findall(base)) < MIN_LETTERS:
                continue

            texts = [("base", base)]
            texts += [("inflected", form) for form in inflected_forms(entity.forms[language])]
            queries += [Query(language, kind, text, judged, base) for kind, text in texts]
            latin = transliterate(base, language)
            # The Latin spelling is a form of the entity as the other kinds' texts are: the
            # documents holding it as whole words are relevant to it (Iran, Martin in BBC).
            spelled = judged | docs.containing(latin)
            if latin != base and len(spelled) <= MAX_RELEVANT:
                queries.append(Query(language, "latin", latin, spelled, base))
    return queries, skipped


def english_queries(articles: Sequence[Article], docs: DocTokens) -> list[Query]:
    """Two-word capitalized names of BBC articles (``Gordon Brown``), as queries.

    A name is a run of exactly two capitalized words (no capitalized word right before or
    after), whose first word is not a sentence starter (``_EN_NOT_NAMES``), found in at least
    ``EN_MIN_DOCS`` BBC articles.  Relevant = articles containing it as whole words.
    """
    seen: dict[str, set[str]] = defaultdict(set)
    for article in articles:
        if not article.id.startswith("bbc/"):
            continue
        text = f"{article.title}\n{article.body}"
        for match in _EN_NAME.finditer(text):
            first, second = match[1], match[2]
            if first in _EN_NOT_NAMES or second in _EN_NOT_NAMES:
                continue
            before = text[: match.start()].split()[-1:]
            after = text[match.end() :].split()[:1]
            if any(_EN_CAPITALIZED.fullmatch(w) for w in before + after):
                continue  # part of a longer capitalized run, or a sentence's first words
            seen[f"{first} {second}"].add(article.id)
    queries = []
    for name in sorted(seen):
        if len(seen[name]) < EN_MIN_DOCS:
            continue
        relevant = docs.containing(name)
        if len(relevant) <= MAX_RELEVANT:
            queries.append(Query("en", "base", name, frozenset(relevant), name))
    return queries


def title_queries(articles: Sequence[Article]) -> list[Query]:
    """English ranking beyond names: each BBC title of ``TITLE_MIN_WORDS``+ words as a question
    whose one answer is its own article (and any article with the same title: a story filed
    twice), kind ``title``.

    Not trivially easy, as a question to a paragraph: the words are searched in the bodies
    only (the title itself is out of play) and OR'ed (``bench.relevance``), so every article
    sharing a word competes, and the article's body need not hold every title word.  The
    query is the title's ``tokens`` (no newsearch analysis)."""
    by_title: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for article in articles:
        words = tuple(tokens(article.title))
        if article.id.startswith("bbc/") and len(words) >= TITLE_MIN_WORDS:
            by_title[words].add(article.id)
    return [
        Query("en", "title", " ".join(words), frozenset(ids), " ".join(words))
        for words, ids in sorted(by_title.items())
    ]


def sample(queries: Sequence[Query], per_kind: int | None) -> list[Query]:
    """At most ``per_kind`` queries per (language, kind), picked by a SHA-256 of the query
    text (a stable, unbiased sample); all of them when ``per_kind`` is None."""
    groups: dict[tuple[str, str], list[Query]] = defaultdict(list)
    for query in queries:
        groups[(query.language, query.kind)].append(query)
    out = []
    for group in sorted(groups):
        ranked = sorted(
            groups[group],
            key=lambda q: (hashlib.sha256(f"{q.kind}|{q.text}".encode()).digest(), q.entity),
        )
        out.extend(ranked if per_kind is None else ranked[:per_kind])
    return out
