"""GraphiQL's third-party files: the pinned npm packages, their integrity and their folder.

React, ReactDOM and GraphiQL come from the npm registry once, at set-up time
(``scripts/fetch-assets``, see :mod:`newsearch.schema.fetch_assets`), into the git-ignored
``<repo>/.assets/`` folder; this module says what must be there and serves it.  No third-party
file is ever committed.

* :data:`PACKAGES` pins each npm package (name, version, the registry's sha512 ``integrity`` of
  its tarball) and the few files taken from it (path in the tarball, size, sha384).  Both
  hashes are checked: the tarball's after ``npm pack``, each file's after extraction and
  whenever ``fetch_assets`` runs again (it skips what is present and intact).  The page
  (:mod:`newsearch.schema.graphiql`) also gives each ``<script>``/``<link>`` an ``integrity``
  attribute, so the browser checks them too.
* Layout: ``<assets_dir>/<name>@<version>/<file>``, e.g. ``.assets/react@18.3.1/react.production
  .min.js``, served by :func:`assets_app` as ``<assets_prefix>/react@18.3.1/react.production
  .min.js``.  The version in the path makes every URL immutable, so the files are served with a
  one-year cache.

To bump a version: change it and its ``integrity`` (``npm view graphiql@X dist.integrity``), run
``python -m newsearch.schema.fetch_assets --print-pins`` to get the new file sizes and hashes, paste
them, then run the browser test (``tests/test_graphiql.py``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles

if TYPE_CHECKING:
    from starlette.types import Scope

__all__ = [
    "DEFAULT_ASSETS_DIR",
    "FETCH_COMMAND",
    "PACKAGES",
    "SAFE_NAME",
    "AssetFetchError",
    "AssetFile",
    "NpmPackage",
    "asset_path",
    "assets_app",
    "assets_ready",
    "file_intact",
    "matches_sri",
    "sri_digest",
]

DEFAULT_ASSETS_DIR = Path(__file__).resolve().parent.parent / ".assets"
"""``<repo>/.assets``: where ``scripts/fetch-assets`` puts the files in a checkout."""

FETCH_COMMAND = "scripts/fetch-assets"
"""What to run to get the assets, as told to whoever sees the 503 page."""


@dataclass(frozen=True, slots=True)
class AssetFile:
    """One file taken out of an npm tarball.

    ``member`` is its path inside the tarball (``package/...``), ``name`` the plain file name it
    gets under the package's folder, ``size`` its length in bytes and ``sri`` its Subresource
    Integrity string (``sha384-<base64>``), checked after extraction and by the browser.
    """

    member: str
    name: str
    size: int
    sri: str

    def __post_init__(self) -> None:
        if not SAFE_NAME.fullmatch(self.name) or self.name in {".", ".."}:
            raise ValueError(f"asset file name must be a plain file name: {self.name!r}")
        if not self.sri.startswith(("sha256-", "sha384-", "sha512-")):
            raise ValueError(f"unsupported integrity string: {self.sri!r}")


@dataclass(frozen=True, slots=True)
class NpmPackage:
    """A pinned npm package: ``integrity`` is the registry's ``dist.integrity`` of its tarball."""

    name: str
    version: str
    integrity: str
    files: tuple[AssetFile, ...]

    def __post_init__(self) -> None:
        if not SAFE_NAME.fullmatch(self.name) or not SAFE_NAME.fullmatch(self.version):
            raise ValueError(f"unsupported package spec: {self.name}@{self.version}")
        if not self.integrity.startswith("sha512-"):
            raise ValueError(f"tarball integrity must be sha512: {self.integrity!r}")

    @property
    def spec(self) -> str:
        """``name@version``, as given to ``npm pack`` (and the folder/URL segment)."""
        return f"{self.name}@{self.version}"

    def file(self, name: str) -> AssetFile:
        """The pinned file called ``name``."""
        for asset in self.files:
            if asset.name == name:
                return asset
        raise KeyError(f"{self.spec} has no pinned file {name!r}")


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""A plain file or package name: no path separator, no leading dot."""

REACT = NpmPackage(
    name="react",
    version="18.3.1",
    integrity="sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
    files=(
        AssetFile(
            member="package/umd/react.production.min.js",
            name="react.production.min.js",
            size=10751,
            sri="sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
        ),
        AssetFile(
            member="package/LICENSE",
            name="LICENSE",
            size=1086,
            sri="sha384-dIN5gxuW3odCH42AKpxql36fRQlrVsjCi4EJgGC2Ty8Ihkcq9cdrChEZpKhSAfks",
        ),
    ),
)
REACT_DOM = NpmPackage(
    name="react-dom",
    version="18.3.1",
    integrity="sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
    files=(
        AssetFile(
            member="package/umd/react-dom.production.min.js",
            name="react-dom.production.min.js",
            size=131835,
            sri="sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
        ),
        AssetFile(
            member="package/LICENSE",
            name="LICENSE",
            size=1086,
            sri="sha384-dIN5gxuW3odCH42AKpxql36fRQlrVsjCi4EJgGC2Ty8Ihkcq9cdrChEZpKhSAfks",
        ),
    ),
)
GRAPHIQL = NpmPackage(
    name="graphiql",
    version="3.8.3",
    integrity="sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
    files=(
        AssetFile(
            member="package/graphiql.min.js",
            name="graphiql.min.js",
            size=3513580,
            sri="sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
        ),
        AssetFile(
            member="package/graphiql.min.css",
            name="graphiql.min.css",
            size=425367,
            sri="sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
        ),
        AssetFile(
            member="package/LICENSE",
            name="LICENSE",
            size=1077,
            sri="sha384-9JPX1agGTIUB7wtQt2kO3PUO7clmCJp+9e50VMjw1yd8briI77AZnMDBz5VcerBH",
        ),
    ),
)

PACKAGES: tuple[NpmPackage, ...] = (REACT, REACT_DOM, GRAPHIQL)
"""Everything the page needs, in the order the scripts must load (React before GraphiQL)."""

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
"""Content types by file suffix, set explicitly rather than guessed from the OS's mime.types."""

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


class AssetFetchError(RuntimeError):
    """The assets could not be fetched or did not match their pinned hashes."""


# --------------------------------------------------------------------------------------------
# Integrity


def sri_digest(data: bytes, algorithm: str = "sha384") -> str:
    """The Subresource Integrity string (``<algorithm>-<base64 digest>``) of ``data``."""
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"


def matches_sri(data: bytes, sri: str) -> bool:
    """Whether ``data`` has the Subresource Integrity string ``sri`` (any of its algorithms)."""
    algorithm = sri.split("-", 1)[0]
    return sri_digest(data, algorithm) == sri


def asset_path(assets_dir: Path, package: NpmPackage, asset: AssetFile) -> Path:
    """Where ``asset`` of ``package`` lives in ``assets_dir``: ``<name>@<version>/<file>``."""
    return assets_dir / package.spec / asset.name


def file_intact(path: Path, asset: AssetFile, *, verify: bool) -> bool:
    """Whether ``path`` holds ``asset``: its pinned size, and with ``verify`` its sha384."""
    try:
        if not path.is_file() or path.stat().st_size != asset.size:
            return False
        return not verify or matches_sri(path.read_bytes(), asset.sri)
    except OSError:
        return False


def assets_ready(assets_dir: Path, *, verify: bool = False) -> bool:
    """Whether every pinned asset file is in ``assets_dir`` with its pinned size.

    Cheap (a few ``stat`` calls), so the server can ask on every IDE request.  With
    ``verify=True`` each file's sha384 is checked too (reads about 4 MB).
    """
    return all(
        file_intact(asset_path(assets_dir, package, asset), asset, verify=verify)
        for package in PACKAGES
        for asset in package.files
    )


# --------------------------------------------------------------------------------------------
# Serving the folder


class _AssetFiles(StaticFiles):
    """``StaticFiles`` limited to the pinned asset files, with explicit types and long caching.

    Any other path (other files dropped in the folder, the lock file, download leftovers,
    ``..`` tricks) is a 404; starlette's own checks still refuse anything outside the folder.
    """

    def __init__(self, assets_dir: Path) -> None:
        super().__init__(directory=assets_dir, check_dir=False)
        self._allowed = {
            f"{package.spec}/{asset.name}": _MEDIA_TYPES[Path(asset.name).suffix]
            for package in PACKAGES
            for asset in package.files
        }

    async def check_config(self) -> None:
        """Accept a folder that does not exist yet: its files are 404 until fetched."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """404 for anything but a pinned file, else starlette's usual answer."""
        if path.replace(os.sep, "/") not in self._allowed:
            if scope["method"] not in ("GET", "HEAD"):
                raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file with its fixed content type and immutable caching (URLs carry versions)."""
        response = FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            media_type=_MEDIA_TYPES[Path(full_path).suffix],
            headers={
                "cache-control": IMMUTABLE_CACHE_CONTROL,
                "x-content-type-options": "nosniff",
            },
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def assets_app(assets_dir: Path) -> StaticFiles:
    """An ASGI app serving the pinned GraphiQL files of ``assets_dir``; mount it at a prefix.

    ``Mount("/graphiql-assets", app=assets_app(dir))``, then give the same prefix to
    :class:`newsearch.schema.graphiql.OfflineGraphQL`.  The folder may be missing at start-up (404
    until fetched).
    """
    return _AssetFiles(Path(assets_dir))
