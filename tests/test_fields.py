"""The Whoosh schema's fields: the fast term-list path indexes exactly as Whoosh does."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields

from newsearch.search.analysis import LANGUAGES, LEMMA_SEPARATOR, text_analyzer, text_terms
from newsearch.search.fields import NAMES_FIELD
from newsearch.search.storage.whoosh import TermsText, build_schema

_TERMS = st.lists(st.sampled_from(["армія", "війна", "the", "news", "ёж", "a" * 40, "x"]))


def _whoosh(field: TermsText, value: Any, **kwargs: Any) -> list[Any]:
    return list(fields.TEXT.index(field, value, **kwargs))


@settings(max_examples=300)
@given(terms=_TERMS, language=st.sampled_from(LANGUAGES))
def test_term_lists_index_as_whoosh_does(terms: list[str], language: str) -> None:
    field = TermsText(text_analyzer(language))
    # repr: the same types too (a weight of 2.0, not 2).
    assert repr(list(field.index(terms))) == repr(_whoosh(field, terms))


_AMBIGUOUS = st.lists(
    st.sampled_from(["Києві", "Київ", "Ахметова", "Львова", "Лавра", "армії", "у", "і", "Києва"]),
    max_size=30,
).map(" ".join)


@settings(max_examples=200)
@given(text=_AMBIGUOUS, language=st.sampled_from(["uk", "ru"]))
def test_position_terms_index_as_the_analyzer_does(text: str, language: str) -> None:
    # An ambiguous word's position term gives each of its lemmas at its position: what
    # Whoosh makes of the text through the analyzer (which splits it with SplitLemmas).
    field = TermsText(text_analyzer(language))
    position_terms = text_terms(language, text)
    assert repr(list(field.index(position_terms))) == repr(_whoosh(field, text))


def test_an_ambiguous_word_is_each_lemma_at_one_position() -> None:
    field = TermsText(text_analyzer("uk"))
    assert LEMMA_SEPARATOR in text_terms("uk", "Києві")[0]
    postings = {
        t.decode(): (freq, field.format.decode_positions(v))
        for t, freq, _, v in field.index(text_terms("uk", "у Києві і Києві"))
    }
    assert postings["київ"] == postings["кий"] == (2, [1, 3])


def test_long_texts_past_the_cached_positions() -> None:
    # Positions above the one-position table and repeated terms far apart.
    terms = [f"w{i}" for i in range(5000)] + ["w3", "w4500", "tail"]
    field = TermsText(text_analyzer("en"))
    ours = list(field.index(terms))
    assert repr(ours) == repr(_whoosh(field, terms))
    assert ours[-1][0] == b"tail" and ours[-1][1] == 1


def test_strings_and_other_arguments_take_whooshs_path() -> None:
    field = TermsText(text_analyzer("uk"))
    text = "Армії не вистачає армії"
    assert list(field.index(text)) == _whoosh(field, text)
    terms = [t.decode() for t, *_ in field.index(text)]
    assert terms == ["армія", "не", "вистачати"]
    shifted = list(field.index(["a", "b"], start_pos=10))
    assert shifted == _whoosh(field, ["a", "b"], start_pos=10)
    assert shifted != list(field.index(["a", "b"]))
    assert list(field.index(("a", "a"))) == _whoosh(field, ("a", "a"))


def test_schema_uses_the_fast_path_for_titles_bodies_and_names_only() -> None:
    schema = build_schema()
    for name, field in schema.items():
        # The names field is given as position terms too (name keys of title and body).
        fast = name.split("_")[0] in ("title", "body") or name == NAMES_FIELD
        assert isinstance(field, TermsText) is fast, name
