"""The read side of newsearch: the shared article model, analysis, and the search engine."""
