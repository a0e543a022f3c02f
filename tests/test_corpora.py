"""The real-corpus converters of bench/corpora.py (skipped when ../shared/data is absent)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from bench import corpora
from newsearch.search.model import Article

EXPECTED_COUNTS = {
    "bbc": {"business": 500, "entertainment": 365, "politics": 397, "sport": 500, "tech": 333},
    "ner-uk": {"bruk": 262, "ng": 298},
    "factrueval": {"devset": 122, "testset": 132},
}
corpus = pytest.mark.corpus
WORD = re.compile(r"[^\W\d_]+(?:['’ʼ`][^\W\d_]+)*")


@pytest.fixture(scope="module")
def data() -> Path:
    return corpora.require_shared()


@pytest.fixture(scope="module")
def articles(data: Path) -> list[Article]:
    return corpora.all_corpus_articles(data)


def _fields(a: Article) -> tuple[object, ...]:
    """Everything a source gives, with the datetime as written (offset included)."""
    return (
        a.id,
        a.title,
        a.body,
        a.tags,
        a.category,
        a.source,
        a.published.isoformat(),
        a.language,
        a.url,
    )


# --------------------------------------------------------------------------- no data needed


def test_require_shared_skips_without_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(corpora.ENV_VAR, str(tmp_path))
    assert corpora.shared_dir() is None
    with pytest.raises(pytest.skip.Exception, match="absent"):
        corpora.require_shared()
    (tmp_path / "data").mkdir()
    assert corpora.shared_dir() == tmp_path


@pytest.mark.parametrize(
    ("tokenized", "expected"),
    [
        ("Вода становить 75 % маси .", "Вода становить 75 % маси."),
        ("вод , які ( нижче ) : так ; ні !", "вод, які (нижче): так; ні!"),
        ("ТОВ « Альфа » і « Бета »", "ТОВ «Альфа» і «Бета»"),
        ("академіком В . І . Вернадським", "академіком В. І. Вернадським"),
        ('прийти до " батьківського дому " , а', 'прийти до "батьківського дому", а'),
        ("руці .. а ?.. ні ...", "руці.. а?.. ні..."),
        ("ПАТ «Укртрансгаз» 29 квітня – угода", "ПАТ «Укртрансгаз» 29 квітня – угода"),
        ("рядок один .\n\nрядок два .", "рядок один.\n\nрядок два."),
    ],
)
def test_detokenize(tokenized: str, expected: str) -> None:
    assert corpora.detokenize(tokenized) == expected


def test_entity_key_crude_lemma() -> None:
    key = corpora.entity_key
    assert key("Лужкова") == key("Лужков") == key("Лужковым")[:1] == ("лужков",)
    assert key("Москвы") == key("Москве") == key("Москва") == ("москв",)
    assert key("Тараса Шевченка") == key("Тарас Шевченко")
    assert key("Росії") == key("Росія") == key("Росією")
    assert key("Петров") != key("Петро")  # -ов is a surname, not a case ending
    assert key("Донецкой") != key("Донецке")  # a one-word adjective is not the noun
    assert key("Роскосмоса") != key("Роскомнадзора")
    assert key("В'ячеслав") == key("В’ячеслав")


def test_true_language() -> None:
    assert corpora.true_language("bbc/tech/x.txt") == "en"
    assert corpora.true_language("ner-uk/ng/x.txt") == "uk"
    assert corpora.true_language("factrueval/devset/book_1.txt") == "ru"
    with pytest.raises(KeyError):
        corpora.true_language("other/x.txt")


def test_write_article_files_refuses_unsafe_ids(tmp_path: Path) -> None:
    published = datetime(2024, 9, 15, 4, 17, 16, tzinfo=ZoneInfo("Europe/Kyiv"))
    for bad in ("../escape.txt", "/abs.txt", "noext", "x.json"):
        article = Article(id=bad, title="T", body="B", published=published)
        with pytest.raises(ValueError, match="relative path"):
            corpora.write_article_files([article], tmp_path)


# --------------------------------------------------------------------------- converters


@corpus
def test_counts(data: Path) -> None:
    groups = {
        "bbc": corpora.bbc_articles(data),
        "ner-uk": corpora.ner_uk_articles(data),
        "factrueval": corpora.factrueval_articles(data),
    }
    for prefix, expected in EXPECTED_COUNTS.items():
        found = Counter(a.id.split("/")[1] for a in groups[prefix])
        assert dict(found) == expected, prefix
        assert all(a.id.startswith(prefix + "/") for a in groups[prefix])
    assert [len(groups[p]) for p in EXPECTED_COUNTS] == [2095, 560, 254]


@corpus
def test_ids_unique_and_fields_present(articles: list[Article]) -> None:
    assert len(articles) == 2909
    assert len({a.id for a in articles}) == len(articles)
    for a in articles:
        assert a.id.endswith(".txt")
        assert a.title.strip() == a.title and a.title and "\n" not in a.title, a.id
        assert a.body.strip() and a.body == a.body.strip(), a.id
        assert "\n\n\n" not in a.body and "  " not in a.body, a.id
        assert all(p.strip() == p and p for p in a.body.split("\n\n")), a.id
        assert a.language == "" and not a.language_detected and a.url is None
        assert a.category and a.source and a.tags, a.id


@corpus
def test_deterministic(data: Path, articles: list[Article]) -> None:
    for cached in (corpora._bbc, corpora._ner_uk, corpora._factrueval):
        cached.cache_clear()
    again = corpora.all_corpus_articles(data)
    assert [_fields(a) for a in again] == [_fields(a) for a in articles]


@corpus
def test_categories_sources_and_tags(articles: list[Article]) -> None:
    by_prefix: dict[str, set[tuple[str, str]]] = {}
    for a in articles:
        prefix = "/".join(a.id.split("/")[:2])
        by_prefix.setdefault(prefix, set()).add((a.category, a.source))
        if a.id.startswith("bbc/"):
            assert a.tags == (a.id.split("/")[1],) == (a.category,)
        else:
            assert 1 <= len(a.tags) <= corpora.MAX_TAGS and len(set(a.tags)) == len(a.tags)
            assert all(corpora._tag_safe(t) for t in a.tags), a.tags
    assert by_prefix == {
        **{f"bbc/{c}": {(c, "BBC News")} for c in EXPECTED_COUNTS["bbc"]},
        "ner-uk/ng": {("Investigations", "Nashi Groshi")},
        "ner-uk/bruk": {("Texts", "Brown-UK")},
        "factrueval/devset": {("News", "factRuEval")},
        "factrueval/testset": {("News", "factRuEval")},
    }


@corpus
def test_uk_ru_titles_come_from_the_text(articles: list[Article]) -> None:
    for a in articles:
        if a.id.startswith("bbc/"):
            continue
        words = a.title.removesuffix("…").split()
        assert 1 <= len(words) <= corpora.TITLE_MAX_WORDS, a.title
        assert " ".join(words[:3]) in a.body, a.id


@corpus
def test_synthetic_dates(articles: list[Article]) -> None:
    years: Counter[int] = Counter()
    for a in articles:
        zone = ZoneInfo(corpora.ZONES[corpora.true_language(a.id)])
        local = a.published.astimezone(zone)
        assert a.published.utcoffset() == local.utcoffset(), a.id  # the zone's real offset
        assert (2014, 1, 1) <= (local.year, local.month, local.day) <= (2026, 6, 30), a.id
        years[local.year] += 1
    assert set(years) == set(range(2014, 2027))
    offsets = {
        lang: {a.published.utcoffset() for a in articles if corpora.true_language(a.id) == lang}
        for lang in ("en", "uk", "ru")
    }
    hours = {lang: {o // timedelta(hours=1) for o in found if o} for lang, found in offsets.items()}
    assert hours == {"en": {1}, "uk": {2, 3}, "ru": {3, 4}}  # Moscow was +04:00 until 2014-10
    assert timedelta(0) in offsets["en"]


# --------------------------------------------------------------------------- annotations


@corpus
def test_ner_uk_ann_offsets_refer_to_the_tokenized_text(data: Path) -> None:
    checked = 0
    for ann in sorted((data / "ner-uk").glob("*/*.ann")):
        raw = ann.with_suffix(".txt").read_text(encoding="utf-8")
        for line in ann.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) == 5 and fields[0].startswith("T"):
                start, end = int(fields[2]), int(fields[3])
                assert raw[start:end].startswith(fields[4]), (ann.name, line)
                checked += 1
    assert checked > 21_000


@corpus
@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_mentions_are_in_the_bodies(data: Path, lang: str) -> None:
    bodies = {a.id: a.body for a in corpora.all_corpus_articles(data)}
    mentions = corpora.entity_mentions(lang, data)
    assert len(mentions) > {"uk": 14_000, "ru": 6_500}[lang]
    assert {m.kind for m in mentions} == {"PER", "ORG", "LOC"}
    for m in mentions:
        body = bodies[m.article_id]
        if lang == "uk":  # one span, detokenized like the body
            assert m.surface in body, m
        else:  # the name spans of an object, which need not be adjacent
            words = set(WORD.findall(body))
            assert all(w in words for w in WORD.findall(m.surface)), m


@corpus
@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_entity_judgments(data: Path, lang: str) -> None:
    judged = corpora.entity_judgments(lang, data)
    assert judged == corpora.entity_judgments(lang, data)
    assert 150 <= len(judged) <= corpora.JUDGMENT_LIMIT
    queries = [q for q, _ in judged]
    assert len(set(queries)) == len(queries)
    sizes = [len(ids) for _, ids in judged]
    assert sizes == sorted(sizes, reverse=True)
    assert all(corpora.JUDGMENT_MIN_DOCS <= n <= corpora.JUDGMENT_MAX_DOCS for n in sizes)
    assert any(len(q.split()) > 1 for q in queries)  # multi-word names too

    # Self-check of the crude matching: every judged document has every query word's key.
    keys = {
        a.id: {corpora.word_key(w) for w in set(WORD.findall(f"{a.title}\n{a.body}"))}
        for a in corpora.all_corpus_articles(data)
        if corpora.true_language(a.id) == lang
    }
    for query, ids in judged:
        assert query and query[0].isalnum() and query[-1].isalnum(), query
        assert not set(query) & set('«»"„“”'), query
        wanted = {corpora.word_key(w) for w in WORD.findall(query)}
        for article_id in ids:
            assert wanted <= keys[article_id], (query, article_id)


@corpus
def test_no_judgments_for_english(data: Path) -> None:
    with pytest.raises(ValueError, match="only 'uk' and 'ru'"):
        corpora.entity_judgments("en", data)


# --------------------------------------------------------------------------- round trips


def _parser() -> ModuleType:
    if not (corpora.REPO / "indexer" / "parse.py").exists():
        pytest.skip("indexer/parse.py (iter_sources) is not written yet")
    from newsearch.indexer import parse

    return parse


@corpus
def test_round_trip_article_files(articles: list[Article], tmp_path: Path) -> None:
    parse = _parser()
    paths = corpora.write_article_files(articles, tmp_path)
    assert len(paths) == len(articles)
    back = list(parse.iter_sources([tmp_path]))
    errors = [str(item) for item in back if not isinstance(item, Article)]
    assert errors == []
    assert sorted(_fields(a) for a in back) == sorted(_fields(a) for a in articles)
    assert all(a.headline is None for a in back)


@corpus
def test_round_trip_jsonl(articles: list[Article], tmp_path: Path) -> None:
    parse = _parser()
    path = corpora.write_jsonl(articles, tmp_path / "corpora.jsonl")
    back = list(parse.iter_sources([path]))
    errors = [str(item) for item in back if not isinstance(item, Article)]
    assert errors == []
    assert [_fields(a) for a in back] == [_fields(a) for a in articles]


def test_jsonl_keeps_a_given_language_and_url(tmp_path: Path) -> None:
    parse = _parser()
    published = datetime(2024, 9, 15, 4, 17, 16, tzinfo=ZoneInfo("Europe/Kyiv"))
    article = Article(
        id="x", title="T", body="B", published=published, language="uk", url="https://e.x/1"
    )
    path = corpora.write_jsonl([article], tmp_path / "one.jsonl")
    (back,) = parse.iter_sources([path])
    assert isinstance(back, Article)
    assert (back.language, back.url, back.published.isoformat()) == (
        "uk",
        "https://e.x/1",
        "2024-09-15T04:17:16+03:00",
    )
