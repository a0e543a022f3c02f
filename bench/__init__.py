"""Benchmarks of newsearch against its own targets and two peers (tantivy, SQLite FTS5).

Entry point: ``scripts/bench`` (``python -m bench.run``); see ``bench/run.py``.
"""
