"""The distribution installs one import package, ``newsearch``: the card's folders ``search``,
``schema`` and ``indexer`` shadow no other distribution's packages (PyPI's ``schema`` is
installed beside it in the test environment), and generations written before the move, whose
Whoosh schemas name classes ``search.…``, still open.

The checks run in subprocesses started outside the repository, as a user's program would run:
inside it, the checkout's folders are importable from the working directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from newsearch.indexer.build import build
from newsearch.search.engine import Engine
from newsearch.search.storage.layout import Layout
from newsearch.search.types import SearchRequest
from tests.conftest import DEMO, REPO


def _python(code: str, cwd: Path) -> str:
    """Run ``code`` in a fresh interpreter of this environment, in ``cwd``; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pypi_schema_and_newsearch_import_side_by_side(tmp_path: Path) -> None:
    out = _python(
        "import json, importlib.util\n"
        "top = [n for n in ('search', 'indexer') if importlib.util.find_spec(n)]\n"
        "import schema, newsearch.schema.cli as cli\n"
        "print(json.dumps({'schema': schema.__file__, 'Schema': hasattr(schema, 'Schema'),\n"
        "  'cli': cli.__file__, 'top': top}))",
        tmp_path,
    )
    seen = json.loads(out)
    assert "site-packages" in seen["schema"] and seen["Schema"], seen
    assert Path(seen["cli"]) == REPO / "schema" / "cli.py"
    assert seen["top"] == []


def test_the_console_script_runs_outside_the_checkout(tmp_path: Path) -> None:
    newsearch = Path(sys.executable).with_name("newsearch")
    done = subprocess.run(
        [str(newsearch), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout


def test_a_generation_pickled_under_the_old_package_names_is_served(tmp_path: Path) -> None:
    """Whoosh pickled the schema's classes by module path; before the move that path was
    ``search.analysis``, ``search.pipeline``, ``search.storage.whoosh``.  Such a generation opens
    and searches, in a process outside the checkout (where no ``search`` folder is importable)."""
    index = tmp_path / "index"
    build([DEMO], index, workers=1)
    expected = Engine(index, check_interval=0).search(SearchRequest(query="армії", first=3))
    toc = next(Layout(index).whoosh_dir(Layout(index).require_current()).glob("_MAIN_*.toc"))
    assert b"cnewsearch.search.analysis\n" in toc.read_bytes()
    # The TOC written anew with every class of ours named by its old path (pickle checks that
    # the path leads back to the class: done outside the checkout, where it does).
    _python(
        "import importlib, sys\n"
        "from whoosh.filedb.filestore import FileStorage\n"
        "from whoosh.index import TOC\n"
        "import newsearch.search.storage.whoosh\n"
        f"storage = FileStorage({str(toc.parent)!r})\n"
        "toc = TOC.read(storage, 'MAIN')\n"
        "for name, module in list(sys.modules.items()):\n"
        "    if not name.startswith('newsearch.search'):\n"
        "        continue\n"
        "    for value in list(vars(module).values()):\n"
        "        if isinstance(value, type) and value.__module__ == name:\n"
        "            value.__module__ = name.removeprefix('newsearch.')\n"
        f"storage.delete_file({toc.name!r})\n"
        "toc.write(storage, 'MAIN')\n",
        tmp_path,
    )
    pickled = toc.read_bytes()
    assert b"newsearch" not in pickled
    for old in (b"csearch.analysis\n", b"csearch.pipeline\n", b"csearch.storage.whoosh\n"):
        assert old in pickled
    out = _python(
        "import json, sys\n"
        "from newsearch.search.engine import Engine\n"
        "from newsearch.search.types import SearchRequest\n"
        f"result = Engine({str(index)!r}, check_interval=0).search("
        "SearchRequest(query='армії', first=3))\n"
        "print(json.dumps([result.total, [h.article.id for h in result.hits],\n"
        "  sys.modules['search.analysis'] is sys.modules['newsearch.search.analysis']]))",
        tmp_path,
    )
    assert json.loads(out) == [expected.total, [h.article.id for h in expected.hits], True]
