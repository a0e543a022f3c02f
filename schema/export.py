"""Export the GraphQL schema as SDL: ``python -m newsearch.schema.export [--check]``.

``schema/schema.graphql`` is committed so that API changes show up in review;
``--check`` (run by scripts/check and the test suite) fails when it drifted.
"""

from __future__ import annotations

import sys
from pathlib import Path

from newsearch.schema.api import make_schema
from newsearch.schema.settings import Settings

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"


def sdl() -> str:
    """The schema's SDL, as committed."""
    return make_schema(Settings(index_dir=Path("."))).as_str() + "\n"


def main(argv: list[str]) -> int:
    """Write the SDL, or with --check compare it; returns the exit code."""
    current = sdl()
    if "--check" in argv:
        committed = SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""
        if committed != current:
            print(
                f"{SDL_PATH} is out of date: run `python -m newsearch.schema.export`",
                file=sys.stderr,
            )
            return 1
        return 0
    SDL_PATH.write_text(current, encoding="utf-8")
    print(f"wrote {SDL_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
