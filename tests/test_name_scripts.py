"""Names across scripts: a Latin name finds its Cyrillic articles and the reverse.

Name keys are checked for the issue's spellings, the names field of an analyzed
article for what it holds (names, not sentence-initial common words), then a real
index built in tmp_path: Kyiv/Kiev/Київ/Киев, Zelensky/Зеленський/Зеленский and
Khodorkovsky/Ходорковский find each other on both scoring paths with the same
scores, an own-script match ranks above an other-script one, highlights mark the
name as the text spells it, and mixed-script input never raises.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from newsearch.indexer.prepare import analyzed_document
from newsearch.search.analysis import lemmas_of
from newsearch.search.compile import word_analyses
from newsearch.search.engine import Engine
from newsearch.search.highlight import MatchTerms, match_spans
from newsearch.search.model import Article
from newsearch.search.names import SPELLING, name_key, query_name_keys, spelling_key, typed_names
from newsearch.search.types import MatchMode, SearchError, SearchRequest
from tests.test_names import index_of


@pytest.mark.parametrize(
    "spellings",
    [
        (("uk", "Київ"), ("ru", "Киев"), ("en", "Kyiv"), ("en", "Kiev")),
        (("uk", "Зеленський"), ("ru", "Зеленский"), ("en", "Zelensky"), ("en", "Zelenskyy")),
        (("ru", "Ходорковский"), ("en", "Khodorkovsky"), ("en", "Khodorkovskiy")),
        (("uk", "Харків"), ("ru", "Харьков"), ("en", "Kharkiv"), ("en", "Kharkov")),
        (("uk", "Львів"), ("ru", "Львов"), ("en", "Lviv")),
        (("uk", "Путін"), ("ru", "Путин"), ("en", "Putin")),
        (("uk", "Олександр"), ("ru", "Александр"), ("en", "Oleksandr")),
    ],
)
def test_spellings_of_a_name_share_its_key(spellings: tuple[tuple[str, str], ...]) -> None:
    keys = {name_key(lang, word) for lang, word in spellings}
    assert len(keys) == 1, [(word, name_key(lang, word)) for lang, word in spellings]


def test_different_names_keep_different_keys() -> None:
    names = ["Київ", "Харків", "Львів", "Путін", "Зеленський", "Ахметов", "Медведев"]
    assert len({name_key("uk", n) for n in names}) == len(names)


_WHEN = datetime.fromisoformat("2024-05-01T10:00:00+03:00")


def _names_field(language: str, title: str, body: str) -> set[str]:
    article = Article(id="a", title=title, body=body, published=_WHEN, language=language)
    terms = analyzed_document(article).document.get("names", [])
    return {key for term in terms if term for key in lemmas_of(term)}


def test_the_names_field_holds_names_not_sentence_initial_words() -> None:
    held = _names_field("en", "Talks Resume In Kyiv", "The talks in Kyiv went on. Grain is sold.")
    # "Talks", "Resume", "The", "Grain": capitalized at a sentence or a title's start only.
    assert held == {name_key("en", "Kyiv"), spelling_key("en", "Kyiv")}
    held = _names_field("uk", "Війна", "Учора у Києві відбулася зустріч. Зеленський заявив.")
    # Зеленський starts a sentence and is still a name: pymorphy3 reads it as a surname.
    assert {name_key("uk", "Київ"), name_key("uk", "Зеленський")} <= held
    # A verb ends a name's lowercase words (відбулася зустріч, заявив are not held).
    common = ("Учора", "відбулася", "зустріч", "заявив", "Війна")
    assert held.isdisjoint(name_key("uk", w) for w in common), held
    # A name's lowercase words are held: Ukrainian and Russian capitalize only the first.
    held = _names_field("ru", "Суд", "Вчера Мировой суд Центрального района вынес решение.")
    assert {name_key("ru", w) for w in ("Мировой", "суд", "Центрального", "района")} <= held
    assert held.isdisjoint(name_key("ru", w) for w in ("Вчера", "вынес", "решение"))


def test_abbreviations_and_names_after_an_initial_are_names() -> None:
    """An all-caps word is an abbreviation, a name even where a sentence starts; a period after
    a one-letter word (an initial, ``м.`` for місто) ends no sentence."""
    held = _names_field(
        "uk", "Угода", "ПАТ «Укртранснафта» уклало угоду. Райсуд м. Дніпро відмовив. Суд ухвалив."
    )
    assert {name_key("uk", w) for w in ("ПАТ", "Укртранснафта", "Дніпро")} <= held
    # A common word at a sentence start is still no name, unless a name follows it.
    assert name_key("uk", "Суд") not in held, held


def test_a_sentence_that_starts_with_a_name_holds_its_first_words() -> None:
    """A capitalized noun or adjective that starts a sentence, and the lowercase words after
    it, belong to the name that follows them with only spaces between (Ukrainian and Russian
    capitalize a name's first word alone); without a name after them, they are no name."""
    held = _names_field(
        "uk",
        "Рішення",
        "Господарський суд Дніпропетровської області відмовив. Приморський районний суд "
        "м. Одеси погодився.",
    )
    names = ("Господарський", "суд", "Дніпропетровської", "Приморський", "районний", "Одеси")
    assert {name_key("uk", w) for w in names} <= held
    # Районний суд: no name follows; Вирішив: a verb starts no name.
    held = _names_field("uk", "Рішення", "Районний суд відмовив. Вирішив суд Києва.")
    assert held == {name_key("uk", "Києва"), *(spelling_key("uk", w) for w in ("Києва", "київ"))}


_ARTICLES = [
    ("uk1", "uk", "Зустріч у Києві", "Учора у Києві відбулася зустріч. Зеленський заявив."),
    ("ru1", "ru", "Визит в Киев", "Премьер прибыл в Киев. Зеленский встретился с Ходорковским."),
    ("en1", "en", "Talks In Kyiv", "The talks in Kyiv went on. President Zelensky met him."),
    ("en2", "en", "Exile", "He met Mikhail Khodorkovsky in London."),
    ("en3", "en", "War", "War goes on. The war with Russia goes on."),
    ("uk2", "uk", "Війна", "Війна триває, каже Петро. Вар'єте закрите."),
]


@pytest.fixture(scope="module")
def scripts_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_of(tmp_path_factory.mktemp("scripts"), _ARTICLES)


def _ranked(engine: Engine, query: str) -> list[str]:
    page = engine.search(SearchRequest(query=query, highlight=False, first=50))
    return [h.article.id for h in page.hits]


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Kyiv", {"uk1", "ru1", "en1"}),
        ("kiev", {"uk1", "ru1", "en1"}),
        ("Київ", {"uk1", "ru1", "en1"}),
        ("Киеве", {"uk1", "ru1", "en1"}),
        ("Zelensky", {"uk1", "ru1", "en1"}),
        ("Зеленский", {"uk1", "ru1", "en1"}),
        ("Khodorkovsky", {"ru1", "en2"}),
        ("Ходорковский", {"ru1", "en2"}),
        ("Zelenskyy Kyiv", {"uk1", "ru1", "en1"}),
        ('"Mikhail Khodorkovsky"', {"en2"}),
        ("war", {"en3"}),
        ("вар", set()),  # a common word matches no name: War starts its sentence
    ],
)
def test_a_name_is_found_in_every_script(
    scripts_index: Path, accelerated: bool, query: str, found: set[str]
) -> None:
    assert set(_ranked(Engine(scripts_index, accelerated=accelerated), query)) == found


@pytest.mark.parametrize(("query", "first"), [("Київ", "uk1"), ("Киев", "ru1"), ("Kyiv", "en1")])
def test_a_name_in_its_own_script_ranks_first(scripts_index: Path, query: str, first: str) -> None:
    assert _ranked(Engine(scripts_index), query)[0] == first


@pytest.mark.parametrize("query", ["Kyiv", "Зеленский Kyiv", "Kiev OR Ходорковский", "-Kyiv"])
def test_both_paths_score_names_alike(scripts_index: Path, query: str) -> None:
    fast = Engine(scripts_index).search(SearchRequest(query=query, highlight=False, first=50))
    slow = Engine(scripts_index, accelerated=False).search(
        SearchRequest(query=query, highlight=False, first=50)
    )
    assert [h.article.id for h in fast.hits] == [h.article.id for h in slow.hits]
    for a, b in zip(fast.hits, slow.hits, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-5)


def test_highlights_mark_the_name_as_the_text_spells_it(scripts_index: Path) -> None:
    page = Engine(scripts_index).search(SearchRequest(query="Kyiv Zelensky", first=50))
    marked = {
        hit.article.id: {hit.article.body[s.start : s.end] for s in hit.highlights.body_spans}
        for hit in page.hits
        if hit.highlights is not None
    }
    assert marked["uk1"] == {"Києві", "Зеленський"}
    assert marked["ru1"] == {"Киев", "Зеленский"}


def test_highlights_mark_names_only_where_the_names_field_holds_them() -> None:
    """A common word that starts a sentence is not a name (the index leaves it out), so a
    name key does not mark it either; the same word inside a sentence is marked."""
    key = name_key("uk", "Вар")
    text = "War broke out. The War Office answered."
    spans = match_spans(
        text, "en", MatchTerms(terms=frozenset(), phrases=(), names=frozenset({key}))
    )
    assert [(s.start, s.end) for s in spans] == [(19, 22)]


@pytest.mark.parametrize(
    "query",
    [
        *("Kиїв", "Київi", "Kyiv2024", "Zelenskyy-Зеленський", '"Kyiv Київ"', "K", "Ь", "'"),
        *("Kyiv" * 250, "і и", "Б.А. Pokrovskogo"),
    ],
)
def test_mixed_script_input_never_raises(scripts_index: Path, query: str) -> None:
    for accelerated in (True, False):
        try:
            page = Engine(scripts_index, accelerated=accelerated).search(SearchRequest(query=query))
        except SearchError as exc:  # a typed error, for a query with nothing to search only
            assert exc.kind == "syntax", exc
        else:
            assert page.total >= 0


def test_a_name_spelled_alike_keeps_its_spelling_key_where_the_name_key_is_shared() -> None:
    """Kitay, Kytai, Китай and Китае share one spelling key; Kite and City share the name key
    ``ket`` with them (the coarse key joins short names) but not the spelling key."""
    china = {
        spelling_key(lang, word)
        for lang, word in (("en", "Kitay"), ("en", "Kytai"), ("ru", "китай"), ("uk", "Китай"))
    }
    assert len(china) == 1
    assert {name_key("en", w) for w in ("Kite", "City", "Kitay")} == {name_key("ru", "Китай")}
    assert china.isdisjoint({spelling_key("en", "Kite"), spelling_key("en", "City")})
    # Spelling keys never collide with name keys (the names field holds both).
    assert spelling_key("en", "Kan").startswith(SPELLING)
    assert not name_key("en", "Kan").startswith(SPELLING)


_SHORT_NAMES = [
    ("ru1", "ru", "Переговоры", "Делегация прибыла в Китай вчера вечером."),
    ("en1", "en", "Football", "Manchester City won. City fans cheered. City is top."),
    ("en2", "en", "Court", "Ann Kite told the court. Ms Kite left."),
    ("uk1", "uk", "Погода", "Учора йшов дощ."),
]


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize("query", ["Kitay", "Kytai", "Китаї"])
def test_a_name_spelled_as_the_query_spells_it_ranks_above_a_shared_skeleton(
    tmp_path: Path, accelerated: bool, query: str
) -> None:
    """City and Kite share Китай's name key, so all three match (a name in another script is
    found by its key), but the article spelling the name as the query does ranks first,
    though City and Kite are there more often; both scoring paths agree."""
    engine = Engine(index_of(tmp_path, _SHORT_NAMES), accelerated=accelerated)
    ranked = _ranked(engine, query)
    assert ranked[0] == "ru1", ranked
    assert set(ranked) == {"ru1", "en1", "en2"}


_RUNS = [
    # The name's words apart, one of them three times, in a short text: without the bonus,
    # these rank first.
    ("uk1", "uk", "Рейс", "Північний вітер дув з гір. Море хвилювалося, море шуміло, море."),
    ("uk2", "uk", "Рейс", "Кораблі вийшли у Північне море вчора після довгої підготовки "
     "екіпажу та перевірки всіх систем у порту."),
    ("uk3", "uk", "Сесія", "Рада зібралася. Потім Верховний суд відповів, і Рада погодилась. "
     "Рада."),
    ("uk4", "uk", "Сесія", "Засідання Верховної Ради відбулося вчора, Петро Іваненко, Олена "
     "Коваль і Тарас Бойко виступили."),
    *(("f" + str(i), "uk", "Погода", "Учора йшов дощ.") for i in range(6)),
]  # fmt: skip


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Північне море", "uk2"),  # a Cyrillic name's lowercase words belong to it
        ("Північного моря", "uk2"),
        ("Verkhovnoi Rady", "uk4"),  # side by side in the names field: another script
    ],
)
def test_a_name_side_by_side_outranks_its_words_apart(
    tmp_path: Path, accelerated: bool, query: str, first: str
) -> None:
    """Ukrainian and Russian capitalize only a name's first word, so a Cyrillic capitalized
    word and the lowercase words after it score once more as a phrase; a Latin name's words
    score so in the names field (their name keys side by side).  The bonus adds only: the
    article holding the words apart still matches."""
    engine = Engine(index_of(tmp_path, _RUNS), accelerated=accelerated)
    ranked = _ranked(engine, query)
    assert ranked[0] == first, ranked
    assert len(ranked) == 2


_LATIN = [
    ("ru1", "ru", "Театр", "Вчера в театре прошла премьера новой пьесы, которую поставил "
     "режиссёр Марлоу вместе с труппой из Лондона и Парижа после долгих репетиций."),
    ("en1", "en", "Reggae", "Bob Marley sang. Marley fans came. Marley."),
    *(("f" + str(i), "en", "Weather", "Rain again in the north.") for i in range(6)),
]  # fmt: skip


@pytest.mark.parametrize("accelerated", [True, False])
def test_a_latin_name_finds_its_cyrillic_spelling_first(tmp_path: Path, accelerated: bool) -> None:
    """A Latin word has no Cyrillic field: the article that spells it exactly in Cyrillic
    (Marlou, Марлоу) ranks above an English one sharing only its name key (Marley, three times
    in a short text), as the same word in an English body would; both still match."""
    engine = Engine(index_of(tmp_path, _LATIN), accelerated=accelerated)
    assert _ranked(engine, "Marlou") == ["ru1", "en1"]


_COMMON = [
    ("en1", "en", "Prison", "Prisoners left the jail on Monday. The old jail will close."),
    ("en2", "en", "Talks", "Talks resumed in July. Officials met in Yale again."),
    ("uk1", "uk", "Зустріч", "Учора у Києві відбулася зустріч з Ахметовим."),
    ("en3", "en", "Exile", "He met Mikhail Khodorkovsky in London."),
]


@pytest.fixture(scope="module")
def common_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_of(tmp_path_factory.mktemp("common"), _COMMON)


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(
    ("query", "found"),
    [
        # A common word typed in lower case finds no name sharing its skeleton (July, Yale
        # share jail's key) ...
        ("jail", {"en1"}),
        # ... but typed capitalized it is taken for a name.
        ("Jail", {"en1", "en2"}),
        # Names typed in lower case: the archive has no English kyiv (a name of another
        # script), pymorphy3 reads ахметов as a surname, khodorkovsky is mostly a name here.
        ("kyiv", {"uk1"}),
        ("ахметов", {"uk1"}),
        ("khodorkovsky", {"en3"}),
        ("ходорковский", {"en3"}),
    ],
)
def test_a_word_typed_in_lower_case_is_looked_up_as_a_name_only_when_it_is_one(
    common_index: Path, accelerated: bool, query: str, found: set[str]
) -> None:
    assert set(_ranked(Engine(common_index, accelerated=accelerated), query)) == found


def test_a_hit_without_the_name_in_its_names_field_gets_no_name_marks(tmp_path: Path) -> None:
    """An English title capitalizes every word, so a title word the body never names is not
    held as a name (``name_positions``); a hit found by another word then marks no name in
    it either: marks follow what the names field holds."""
    index = index_of(
        tmp_path,
        [
            ("en1", "en", "Talks In Kyiv", "The talks went on for hours."),
            ("uk1", "uk", "Зустріч", "Учора у Києві відбулася зустріч."),
        ],
    )
    page = Engine(index).search(SearchRequest(query="Київ OR talks", first=10))
    marked = {
        hit.article.id: (
            {hit.article.title[s.start : s.end] for s in hit.highlights.title_spans},
            {hit.article.body[s.start : s.end] for s in hit.highlights.body_spans},
        )
        for hit in page.hits
        if hit.highlights is not None
    }
    assert marked == {"en1": ({"Talks"}, {"talks"}), "uk1": (set(), {"Києві"})}


@pytest.mark.parametrize(
    ("word", "name"), [("міністрів", False), ("ахметов", True), ("путин", True)]
)
def test_a_lower_case_word_is_read_as_a_name_in_its_own_language_only(
    word: str, name: bool
) -> None:
    """Міністрів is Ukrainian by its і: the Russian guesser's surname reading does not count.
    Here the archive holds each word often and never as a name, so only a proper-noun
    reading in the word's own language makes it one."""
    analyses = word_analyses(word)
    keys = query_name_keys(word, analyses)
    kept = typed_names(word, analyses, keys, lambda field, key: 0 if field == "names" else 10)
    assert bool(kept[0]) is name, kept


_BONUS = [
    ("en1", "en", "Nova Poshta", "The company Nova Poshta delivered parcels."),
    ("uk9", "uk", "Нова", "Нова влада у столиці."),
    ("uk1", "uk", "Новини", "Президент Володимир Зеленський виступив."),
    ("en2", "en", "Talk", "Volodymyr spoke. Later, Zelensky left."),
    *((f"u{i}", "uk", "Село", f"Сьогодні пошта працювала {i} годин, і пошта закрилась.")
      for i in range(12)),
]  # fmt: skip


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(
    ("query", "mode", "found"),
    [
        # пошта typed in lower case is no name (the archive writes it lower case), so the
        # side-by-side bonus may not bring in en1 through the names field either.
        ("Нова пошта", MatchMode.ANY_SCRIPT, set()),
        ("Нова пошта", MatchMode.FORMS, set()),
        # FORMS searches no other script, in the words' clauses or in the bonus.
        ("Volodymyr Zelensky", MatchMode.FORMS, {"en2"}),
        ("Volodymyr Zelensky", MatchMode.ANY_SCRIPT, {"en2", "uk1"}),
    ],
)
def test_the_side_by_side_bonus_adds_no_document_the_words_do_not_match(
    tmp_path: Path, accelerated: bool, query: str, mode: MatchMode, found: set[str]
) -> None:
    engine = Engine(index_of(tmp_path, _BONUS), accelerated=accelerated)
    page = engine.search(SearchRequest(query=query, match=mode, highlight=False, first=50))
    assert {hit.article.id for hit in page.hits} == found
