"""Highlighting time per 10-hit page: the old highlighter (reference) against ``search.highlight``.

Run from the repository root::

    .venv/bin/python -m bench.highlight_bench [--pages 40] [--repeat 5]

Pages come from the real corpora of ``../shared/data`` (BBC en, ner-uk uk, factRuEval ru).
Queries are drawn deterministically from the corpus' own articles, like ``bench/queries.py``:
1-2 words of an anchor article whose terms occur in 3 to 15% of the articles (AND), and for a
third of the queries two adjacent words as a phrase.  A page is 10 articles holding every query
term, and each hit is highlighted as ``Engine._hit`` does it: ``match_spans`` of title and body,
``mark`` of the title and 3 ``fragments`` of 160 characters of the body.  Both highlighters run
side by side in this process, page by page in alternation; the best of ``--repeat`` runs of each
page is kept (the machine is shared) and the median and mean over pages are printed.  "cold" is
the first pass of the new highlighter over all pages with empty word -> term tables.  Outputs
are compared before anything is timed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import search.highlight as new  # noqa: E402
from bench import corpora  # noqa: E402
from search import analysis  # noqa: E402
from search.analysis import tokens_with_chars  # noqa: E402
from search.highlight import MatchTerms  # noqa: E402
from search.model import Article  # noqa: E402
from tests import test_highlight_equivalence as old  # noqa: E402

CORPORA: dict[str, tuple[str, Callable[[], list[Article]]]] = {
    "bbc": ("en", corpora.bbc_articles),
    "ner-uk": ("uk", corpora.ner_uk_articles),
    "factrueval": ("ru", corpora.factrueval_articles),
}
PAGE = 10
Page = tuple[list[Article], MatchTerms]


def make_pages(language: str, articles: list[Article], count: int, seed: int) -> list[Page]:
    """``count`` pages of 10 articles that hold every term of a query drawn from one of them."""
    rng = random.Random(seed)
    analyzed = [list(tokens_with_chars(language, a.title + "\n" + a.body)) for a in articles]
    holding: dict[str, set[int]] = defaultdict(set)
    for i, tokens in enumerate(analyzed):
        for term, _, _ in tokens:
            holding[term].add(i)
    low, high = 3, max(PAGE, len(articles) * 15 // 100)
    pages: list[Page] = []
    for _ in range(50 * count):
        if len(pages) == count:
            break
        anchor = rng.randrange(len(articles))
        text = articles[anchor].title + "\n" + articles[anchor].body
        usable = [
            i
            for i, (term, s, e) in enumerate(analyzed[anchor])
            if text[s:e].isalpha() and len(text[s:e]) >= 3 and low <= len(holding[term]) <= high
        ]
        if not usable:
            continue
        first = rng.choice(usable)
        if rng.random() < 1 / 3 and first + 1 < len(analyzed[anchor]):
            phrase = tuple(t for t, _, _ in analyzed[anchor][first : first + 2])
            match = MatchTerms(frozenset(), (phrase,))
            wanted = set(phrase)
        else:
            chosen = {analyzed[anchor][i][0] for i in rng.sample(usable, min(2, len(usable)))}
            # As search/compile.py does: each query word analyzed on its own.
            match = MatchTerms(frozenset(chosen), ())
            wanted = chosen
        hits = sorted(set.intersection(*(holding[t] for t in wanted)))
        if len(hits) >= PAGE:
            pages.append(([articles[i] for i in rng.sample(hits, PAGE)], match))
    return pages


def highlight_page(module: Any, language: str, page: Page) -> list[Any]:
    """What ``Engine._hit`` computes for each hit of the page."""
    articles, match = page
    out = []
    for article in articles:
        title_spans = module.match_spans(article.title, language, match)
        body_spans = module.match_spans(article.body, language, match)
        out.append(
            (
                module.mark(article.title, title_spans),
                title_spans,
                module.fragments(article.body, body_spans, 3, 160),
                body_spans,
            )
        )
    return out


class _Reference:
    """The highlighter with ``match_spans`` as it was (``mark``/``fragments`` did not change)."""

    match_spans = staticmethod(old.reference_match_spans)
    mark = staticmethod(new.mark)
    fragments = staticmethod(new.fragments)


def page_ms(module: Any, language: str, page: Page) -> float:
    started = time.perf_counter()
    highlight_page(module, language, page)
    return (time.perf_counter() - started) * 1000


def summary(values: Sequence[float]) -> str:
    return f"p50 {statistics.median(values):6.2f}  mean {statistics.fmean(values):6.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=40, help="pages per corpus")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per page (best kept)")
    args = parser.parse_args(argv)
    corpora.data_dir()  # FileNotFoundError with a hint when the corpora are absent

    print(f"{'corpus':<11}{'lang':<5}{'pages':>5}  {'body chars':>10}  ms per 10-hit page")
    all_old: list[float] = []
    all_new: list[float] = []
    for name, (language, load) in CORPORA.items():
        pages = make_pages(language, load(), args.pages, seed=len(name))
        for page in pages:  # same output, and the analyzer's own caches warm for both
            assert highlight_page(new, language, page) == highlight_page(_Reference, language, page)
        analysis.forget_terms()  # cold: no word seen yet by the fast path
        cold = [page_ms(new, language, page) for page in pages]
        best_old, best_new = [float("inf")] * len(pages), [float("inf")] * len(pages)
        for _ in range(args.repeat):
            for i, page in enumerate(pages):
                best_old[i] = min(best_old[i], page_ms(_Reference, language, page))
                best_new[i] = min(best_new[i], page_ms(new, language, page))
        chars = statistics.median(len(a.body) for p in pages for a in p[0])
        ratio = statistics.median(best_old) / statistics.median(best_new)
        print(f"{name:<11}{language:<5}{len(pages):>5}  {chars:>10.0f}")
        print(f"{'':>33}before {summary(best_old)}")
        print(f"{'':>33}after  {summary(best_new)}   (cold: {summary(cold)})")
        print(f"{'':>33}ratio  {ratio:.1f}x (p50)")
        all_old += best_old
        all_new += best_new
    ratio = statistics.median(all_old) / statistics.median(all_new)
    print(f"all pages: before {summary(all_old)}; after {summary(all_new)}; ratio {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
