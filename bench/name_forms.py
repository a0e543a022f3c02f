"""Names in their grammatical cases on the real corpora: found, missed and wrongly found.

    .venv/bin/python -m bench.name_forms            # the issue's name examples, on an index
    .venv/bin/python -m bench.name_forms --unknown  # Russian words the dictionary lacks:
                                                     # pymorphy3's guesser against Snowball

The first part builds an index of ner-uk, factRuEval and bbc-news in a temporary folder and
searches each example name in its base form: *relevant* are the articles holding any of its
case forms (a regular expression over title and body), *wrong* are hits holding none of them.
The second part takes the Russian names (surname, name, place, organization) annotated in
factRuEval that the dictionary knows, groups their forms by the dictionary's lemma (the gold
standard), and asks how pymorphy3's guesser (its suffix predictor alone, as for an unknown
word) and Snowball would have grouped them: pairs of forms of one lemma that share a term
(recall) and pairs sharing a term that belong to one lemma (precision).  Both are bounded:
one build of ~2,900 articles, a few thousand words.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

EXAMPLES: list[tuple[str, str]] = [
    # (query, regular expression of its forms)
    ("Медведев", r"Медведев(?:а|у|ым|е)?\b"),
    ("Лужков", r"Лужков(?:а|у|ым|е)?\b"),
    ("Лавров", r"Лавров(?:а|у|ым|е)?\b"),
    ("Путин", r"Путин(?:а|у|ым|е)?\b"),
    ("Киев", r"Киев(?:а|у|ом|е)?\b"),
    ("Китай", r"Кита(?:й|я|ю|ем|е)\b"),
    ("Москва", r"Москв(?:а|ы|е|у|ой)\b"),
    ("Київ", r"Ки(?:їв|єва|єву|євом|єві)\b"),
    ("Ахметов", r"Ахметов(?:а|у|им|і|ові)?\b"),
    ("Львів", r"Льв(?:ів|ова|ову|овом|ові)\b"),
    ("Україна", r"Україн(?:а|и|і|у|ою)\b"),
]


def examples() -> None:
    """Found / relevant and wrong hits of each example, on an index of the real corpora."""
    from bench.corpora import bbc_articles, factrueval_articles, ner_uk_articles, write_jsonl
    from newsearch.indexer.build import build
    from newsearch.search.engine import Engine
    from newsearch.search.types import SearchRequest

    articles = ner_uk_articles() + factrueval_articles() + bbc_articles()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build([write_jsonl(articles, root / "all.jsonl")], root / "index", workers=2)
        engine = Engine(root / "index")
        print("| query | relevant | found | missed | wrong hits |")
        print("|---|---|---|---|---|")
        for query, pattern in EXAMPLES:
            forms = re.compile(pattern)
            relevant = {a.id for a in articles if forms.search(a.title + "\n" + a.body)}
            hits: set[str] = set()
            after = None
            for _ in range(20):  # every hit, 100 a page (bounded)
                page = engine.search(
                    SearchRequest(query=query, highlight=False, first=100, after=after)
                )
                hits |= {h.article.id for h in page.hits}
                if not page.has_next_page:
                    break
                after = page.end_cursor
            found = len(hits & relevant)
            wrong = sorted(hits - relevant)[:3]
            print(
                f"| {query} | {len(relevant)} | {found} | {len(relevant) - found} "
                f"| {len(hits - relevant)} of {len(hits)} {' '.join(wrong)} |"
            )


def _pairs(groups: dict[str, set[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for forms in groups.values() for p in combinations(sorted(forms), 2)}


def unknown() -> None:
    """Guesser against Snowball on dictionary names treated as unknown words."""
    import pymorphy3
    from pymorphy3 import units

    from bench.corpora import _root
    from newsearch.search.analysis import _choose, morph, stem

    kinds = {"surname", "name", "loc_name", "org_name"}
    words: set[str] = set()
    for spans in (_root(None) / "factrueval-ru").glob("*/*.spans"):
        for line in spans.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) > 1 and parts[1] in kinds and "#" in parts:
                for w in parts[parts.index("#") + 2 :]:
                    if w.isalpha() and w[:1].isupper():
                        words.add(w)
    ru = morph("ru")
    guesser = pymorphy3.MorphAnalyzer(lang="ru", units=[units.KnownSuffixAnalyzer()])
    gold: dict[str, set[str]] = defaultdict(set)
    for w in words:
        parses = ru.parse(w.lower())
        if parses and ru.word_is_known(w.lower()):
            gold[parses[0].normal_form.replace("ё", "е")].add(w)

    def guessed(word: str) -> set[str]:
        parses: list[Any] = guesser.parse(word.lower())
        if not parses:
            return {word.lower()}
        return {f.replace("ё", "е") for f in _choose(parses, True, False)}

    methods = {
        "pymorphy3 guesser": guessed,
        "Snowball": lambda w: {stem("russian", w.lower().replace("ё", "е"))},
    }
    forms = sorted({w for ws in gold.values() for w in ws})
    truth = _pairs(gold)
    print(f"{len(forms)} name forms of {len(gold)} lemmas, {len(truth)} same-lemma pairs")
    print("| method | recall (same-lemma pairs sharing a term) | precision (sharing pairs) |")
    print("|---|---|---|")
    for label, terms_of in methods.items():
        by_term: dict[str, set[str]] = defaultdict(set)
        for w in forms:
            for t in terms_of(w):
                by_term[t].add(w)
        shared = _pairs(by_term)
        recall = len(shared & truth) / max(1, len(truth))
        precision = len(shared & truth) / max(1, len(shared))
        print(f"| {label} | {recall:.3f} | {precision:.3f} |")


def main() -> None:
    """Run the examples, or with ``--unknown`` the guesser/Snowball comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unknown", action="store_true", help="guesser against Snowball")
    if parser.parse_args().unknown:
        unknown()
    else:
        examples()


if __name__ == "__main__":
    main()
