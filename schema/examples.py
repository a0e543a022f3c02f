"""The example query GraphiQL opens with: search, facets, a histogram and highlights."""

from __future__ import annotations

EXAMPLE_QUERY = """\
# Search the archive. Try: армії, мигрантов, "war with russia", mobili*, tag:energy -sport
query Search($q: String!, $filter: SearchFilter) {
  search(
    query: $q
    filter: $filter
    first: 5
    facets: { size: 5, dateHistogram: YEAR, timeZone: "Europe/Kyiv" }
    highlight: { fragments: 2, fragmentSize: 140 }
  ) {
    __typename
    ... on ArticleConnection {
      totalCount
      didYouMean
      tookMs
      edges {
        score
        node { id title published language category source tags }
        highlights { title fragments { html } }
      }
      facets { field truncated values { value count selected } }
      dateHistogram { key count }
      pageInfo { hasNextPage endCursor }
    }
    ... on QueryError { kind message position hint }
  }
}
"""

EXAMPLE_VARIABLES = """\
{
  "q": "war with Russia",
  "filter": { "languages": ["en", "uk", "ru"] }
}
"""
