"""Why a judged query ranks as it does: its top hits, judged or not, with the words matched.

``scripts/relevance --worst N`` prints, for newsearch's N worst queries of each language x
kind (lowest precision@10, then recall@100), the query, its judged relevant count, and for
each of its top 10 hits whether it is judged relevant, its id and title, and the words the
highlighter marked in it with a little context (``…у [Києві] відбулася…``).  The hits come
from ``newsearch.search.engine.Engine`` with highlights on: the marks are the query's own matches
(its lemmas, name keys across scripts), so a wrong hit shows which word brought it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.relevance_judgments import Query

TOP = 10
CONTEXT = 24
"""Characters of text shown each side of a marked word."""
MATCHES = 4
"""Marked words shown per hit, at most (title first, then body)."""


@dataclass(frozen=True)
class ExplainedHit:
    """One hit of a query: judged relevant or not, its title, its marked words in context."""

    rank: int
    id: str
    relevant: bool
    title: str
    matches: tuple[str, ...]
    """Each marked word as ``…before [word] after…`` (title marks, then body marks)."""


def in_context(text: str, start: int, end: int, context: int = CONTEXT) -> str:
    """``text[start:end]`` in brackets with up to ``context`` characters each side, on one
    line (``…у [Києві] відбулася…``)."""
    before = text[max(0, start - context) : start]
    after = text[end : end + context]
    line = (
        ("…" if start > context else "")
        + before
        + f"[{text[start:end]}]"
        + after
        + ("…" if end + context < len(text) else "")
    )
    return " ".join(line.split())


def explain_query(engine: Any, query: Query, top: int = TOP) -> list[ExplainedHit]:
    """The top ``top`` hits of ``query`` on ``engine`` (a ``newsearch.search.engine.Engine``), each
    with its judgment and the words the highlighter marked in it."""
    from bench.relevance import newsearch_query
    from newsearch.search.types import SearchRequest

    text = newsearch_query(query.text, query.kind == "title")
    request = SearchRequest(query=text, first=top, facets=(), highlight=True)
    out = []
    for rank, hit in enumerate(engine.search(request).hits, 1):
        article = hit.article
        matches: list[str] = []
        if hit.highlights is not None:
            for text, spans in (
                (article.title, hit.highlights.title_spans),
                (article.body, hit.highlights.body_spans),
            ):
                matches += [in_context(text, s.start, s.end) for s in spans]
        out.append(
            ExplainedHit(
                rank=rank,
                id=article.id,
                relevant=article.id in query.relevant,
                title=" ".join(article.title.split()),
                matches=tuple(matches[:MATCHES]),
            )
        )
    return out


def explain_lines(index_dir: Path, worst: Sequence[Query], top: int = TOP) -> list[str]:
    """The report of ``scripts/relevance --worst``: each query of ``worst`` with its hits."""
    from newsearch.search.engine import Engine

    engine = Engine(index_dir, check_interval=3600.0)
    lines = []
    for query in worst:
        lines.append(
            f"## {query.language} {query.kind}: {query.text!r} (entity {query.entity!r}, "
            f"{len(query.relevant)} judged relevant)"
        )
        for hit in explain_query(engine, query, top):
            mark = "+" if hit.relevant else "-"
            lines.append(f"  {hit.rank:2} {mark} {hit.id}  {hit.title[:70]}")
            lines += [f"         {m}" for m in hit.matches]
    return lines
