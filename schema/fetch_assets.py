"""Fetch GraphiQL's pinned npm packages into the assets folder (``scripts/fetch-assets``).

:func:`fetch_assets` runs ``npm pack`` for the packages of :data:`newsearch.schema.assets.PACKAGES`
that are missing or corrupt, checks each tarball's sha512, then copies out exactly the pinned files,
checking each one's size and sha384.  ``python -m newsearch.schema.fetch_assets`` is the command
line (``--check`` verifies only, ``--print-pins`` prints the hashes for a version bump).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from newsearch.schema.assets import (
    DEFAULT_ASSETS_DIR,
    PACKAGES,
    SAFE_NAME,
    AssetFetchError,
    NpmPackage,
    asset_path,
    assets_ready,
    file_intact,
    matches_sri,
    sri_digest,
)

__all__ = ["fetch_assets", "main"]

NPM_TIMEOUT_SECONDS = 600.0
"""Upper bound for one ``npm pack`` run (it retries on network errors by itself)."""


@contextlib.contextmanager
def _locked(dest: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``dest`` so concurrent fetches do not interleave."""
    with (dest / ".fetch.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _npm_error_summary(stdout: str, stderr: str) -> str:
    """The most useful line(s) of a failed ``npm pack --json`` run."""
    try:
        payload = json.loads(stdout)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        parts = [str(error.get(key)) for key in ("code", "summary") if error.get(key)]
        if parts:
            return ": ".join(parts)
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "\n".join(lines[-5:]) or "(npm printed nothing)"


def _npm_pack(npm: str, packages: Sequence[NpmPackage], workdir: Path) -> dict[str, Path]:
    """Run ``npm pack`` for ``packages`` into ``workdir``; map each spec to its tarball."""
    specs = [package.spec for package in packages]
    command = [
        npm,
        "pack",
        *specs,
        "--pack-destination",
        str(workdir),
        "--json",
        "--ignore-scripts",
        "--loglevel=error",
        "--no-fund",
        "--no-audit",
        "--no-update-notifier",
        "--fetch-retry-maxtimeout=10000",
    ]
    try:
        # cwd=workdir: no package.json of ours is read, nothing is written into the repo.
        result = subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssetFetchError(
            f"`npm pack {' '.join(specs)}` did not finish in {NPM_TIMEOUT_SECONDS:.0f} s: "
            "is the npm registry reachable from this machine (npm's registry/proxy config)?"
        ) from exc
    except OSError as exc:
        raise AssetFetchError(f"could not run npm ({npm}): {exc}") from exc
    if result.returncode != 0:
        raise AssetFetchError(
            f"`npm pack {' '.join(specs)}` failed (exit {result.returncode}); is the npm "
            "registry reachable from this machine (npm's registry/proxy config)?\n"
            f"npm said: {_npm_error_summary(result.stdout, result.stderr)}"
        )
    try:
        entries = json.loads(result.stdout)
        by_spec = {f"{entry['name']}@{entry['version']}": entry for entry in entries}
    except (ValueError, KeyError, TypeError) as exc:
        raise AssetFetchError(f"unexpected output from `npm pack --json`: {exc}") from exc
    tarballs: dict[str, Path] = {}
    for package in packages:
        entry = by_spec.get(package.spec)
        if entry is None:
            raise AssetFetchError(f"`npm pack` did not produce {package.spec}")
        filename = str(entry.get("filename", ""))
        if not SAFE_NAME.fullmatch(filename):
            raise AssetFetchError(f"`npm pack` reported an odd file name: {filename!r}")
        tarballs[package.spec] = workdir / filename
    return tarballs


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _install_from_tarball(tarball: Path, package: NpmPackage, dest: Path) -> None:
    """Check the tarball's sha512, then copy out exactly the pinned members, checking each.

    Nothing is extracted by the member's own name: each file's bytes are read through
    ``extractfile`` and written to a path built from the pinned, validated ``AssetFile.name``,
    so a hostile tarball cannot write outside ``dest`` (no ``..``, absolute paths or links).
    """
    data = tarball.read_bytes()
    if not matches_sri(data, package.integrity):
        raise AssetFetchError(
            f"{package.spec}: tarball integrity {sri_digest(data, 'sha512')} does not match "
            f"the pinned {package.integrity}"
        )
    with tarfile.open(tarball, mode="r:gz") as archive:
        for asset in package.files:
            try:
                member = archive.getmember(asset.member)
            except KeyError as exc:
                raise AssetFetchError(f"{package.spec}: no {asset.member} in tarball") from exc
            if not member.isreg():
                raise AssetFetchError(f"{package.spec}: {asset.member} is not a regular file")
            extracted = archive.extractfile(member)
            if extracted is None:  # pragma: no cover - isreg() members always have data
                raise AssetFetchError(f"{package.spec}: cannot read {asset.member}")
            with extracted:
                content = extracted.read()
            if len(content) != asset.size or not matches_sri(content, asset.sri):
                raise AssetFetchError(
                    f"{package.spec}: {asset.member} is {len(content)} bytes with "
                    f"{sri_digest(content, asset.sri.split('-', 1)[0])}; pinned: "
                    f"{asset.size} bytes with {asset.sri}"
                )
            _write_atomically(asset_path(dest, package, asset), content)


def fetch_assets(dest: Path, *, npm: str | None = None) -> None:
    """Download the pinned packages with ``npm pack`` and install their files into ``dest``.

    Idempotent: a package whose files are all present with their pinned sizes and sha384 is
    skipped, so a second run makes no network access.  The tarballs go to a temporary folder
    inside ``dest`` that is removed afterwards.  Raises :class:`AssetFetchError` with a clear
    message when npm is missing, the registry is unreachable or a hash does not match.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with _locked(dest):
        missing = [
            package
            for package in PACKAGES
            if not all(
                file_intact(asset_path(dest, package, asset), asset, verify=True)
                for asset in package.files
            )
        ]
        if not missing:
            return
        npm_path = npm or shutil.which("npm")
        if npm_path is None:
            raise AssetFetchError(
                "npm was not found on PATH; install Node.js with npm (Debian: "
                "`apt-get install npm`) and run scripts/fetch-assets again"
            )
        with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
            tarballs = _npm_pack(npm_path, missing, Path(tmp))
            for package in missing:
                _install_from_tarball(tarballs[package.spec], package, dest)


# --------------------------------------------------------------------------------------------
# Command line (scripts/fetch-assets)


def _print_pins(npm: str | None = None) -> None:
    """Download the pinned versions and print each file's size and sha384, for a bump.

    Only the tarballs' sha512 is checked (against :data:`newsearch.schema.assets.PACKAGES`), not the
    per-file pins, which are what this prints.
    """
    npm_path = npm or shutil.which("npm")
    if npm_path is None:
        raise AssetFetchError("npm was not found on PATH")
    with tempfile.TemporaryDirectory(prefix="graphiql-pins-") as tmp:
        tarballs = _npm_pack(npm_path, PACKAGES, Path(tmp))
        for package in PACKAGES:
            data = tarballs[package.spec].read_bytes()
            status = "ok" if matches_sri(data, package.integrity) else "MISMATCH"
            print(f"{package.spec}\ttarball={sri_digest(data, 'sha512')} ({status})")
            with tarfile.open(tarballs[package.spec], mode="r:gz") as archive:
                for asset in package.files:
                    extracted = archive.extractfile(asset.member)
                    content = extracted.read() if extracted is not None else b""
                    print(f"  {asset.member}\tsize={len(content)}\tsri={sri_digest(content)}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m newsearch.schema.fetch_assets [--dest DIR] [--check] [--print-pins]``."""
    parser = argparse.ArgumentParser(
        prog="fetch-assets",
        description="Fetch GraphiQL, React and ReactDOM from the npm registry for offline use.",
    )
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_ASSETS_DIR, help="folder to fill (<repo>/.assets)"
    )
    parser.add_argument(
        "--check", action="store_true", help="only verify the files (exit 1 if missing/corrupt)"
    )
    parser.add_argument(
        "--print-pins",
        action="store_true",
        help="download the pinned versions and print their files' sizes and sha384 (for bumps)",
    )
    args = parser.parse_args(argv)
    dest: Path = args.dest
    if args.check:
        ok = assets_ready(dest, verify=True)
        print(f"GraphiQL assets in {dest}: {'ok' if ok else 'missing or corrupt'}")
        return 0 if ok else 1
    try:
        if args.print_pins:
            _print_pins()
            return 0
        fetch_assets(dest)
    except AssetFetchError as exc:
        print(f"fetch-assets: {exc}", file=sys.stderr)
        return 1
    total = sum(asset.size for package in PACKAGES for asset in package.files)
    specs = ", ".join(package.spec for package in PACKAGES)
    print(f"GraphiQL assets ready in {dest}: {specs} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
