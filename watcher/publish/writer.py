"""Writing the site: a complete new version beside ``site_dir``, then one atomic swap.

``site_dir`` is a symlink to ``<parent>/.<name>-versions/<version>/``. A publish writes a
new version directory under a temporary name (files whose bytes did not change are
hardlinked from the current version, so a republish of 10,000 entries writes a handful of
files), adds the marker ``edition.json``, renames the directory to its final name, and
replaces the symlink with ``os.replace`` (atomic on POSIX). A reader, or a ``kill -9``,
therefore sees either the previous version or the new one, never a mixture; leftovers of
an interrupted write are removed by the next one. The previous version is kept (a reader
may be mid-download), older ones are deleted.

Durability: new files and the directories are fsynced before the swap (a single
``os.sync()`` instead when there are many new files), and the parent after it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import orjson

from watcher.exceptions import StorageError
from watcher.publish.model import WriteReport

MARKER = "edition.json"
MANIFEST = ".manifest.json"  # beside each version directory, not served
MANY = 64  # above this many new files, one os.sync() beats an fsync each


def versions_dir(site_dir: Path) -> Path:
    return site_dir.parent / f".{site_dir.name}-versions"


def current_version(site_dir: Path) -> Path | None:
    """The version directory ``site_dir`` points at, or None (no symlink yet)."""
    if not site_dir.is_symlink():
        return None
    target = site_dir.parent / os.readlink(site_dir)
    return target if target.is_dir() else None


def site_edition(site_dir: Path) -> int | None:
    """The edition the served files show (from the marker), or None."""
    try:
        return int(orjson.loads((site_dir / MARKER).read_bytes())["edition"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _put(path: Path, data: bytes) -> None:
    """Write one new file (the version directory is private until the swap)."""
    with open(path, "wb") as file:
        file.write(data)


def _manifest(version: Path) -> dict[str, str]:
    try:
        data = orjson.loads((version.parent / f"{version.name}{MANIFEST}").read_bytes())
        return {str(k): str(v) for k, v in data.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _move_real_directory_aside(site_dir: Path) -> None:
    """An old install (or a person) made ``site_dir`` a real directory: move it aside once
    (to ``<site_dir>.before-symlink-<time>``, never deleted by watcher) so the swap can
    replace it with a symlink. An empty one is simply removed."""
    if site_dir.is_symlink() or not site_dir.exists():
        return
    if not site_dir.is_dir():
        raise StorageError(f"{site_dir} is a file, not the site's directory; move it away")
    if not any(site_dir.iterdir()):
        site_dir.rmdir()
        return
    site_dir.rename(site_dir.with_name(f"{site_dir.name}.before-symlink-{time.time_ns()}"))


def write_site(
    site_dir: Path, files: Mapping[str, bytes], edition: int, *, keep: int = 2
) -> WriteReport:
    """Make ``files`` (relative path -> bytes) what ``site_dir`` serves, atomically."""
    versions = versions_dir(site_dir)
    try:
        versions.mkdir(parents=True, exist_ok=True)
        _move_real_directory_aside(site_dir)
        previous = current_version(site_dir)
        old = _manifest(previous) if previous is not None else {}
        name = f"{time.time_ns():020d}-e{edition}"
        building = versions / f".tmp-{name}"
        building.mkdir()
        manifest: dict[str, str] = {}
        written: list[Path] = []
        linked = 0
        made: set[Path] = {building}
        for relative, data in sorted(files.items()):
            if relative.startswith("/") or ".." in Path(relative).parts:
                raise StorageError(f"refusing to write outside the site: {relative!r}")
            target = building / relative
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            digest = hashlib.sha256(data).hexdigest()
            manifest[relative] = digest
            if previous is not None and old.get(relative) == digest:
                try:
                    os.link(previous / relative, target)
                    linked += 1
                    continue
                except OSError:
                    pass  # gone or another filesystem: write it
            _put(target, data)
            written.append(target)
        _put(building / MARKER, orjson.dumps({"edition": edition, "version": name}))
        written.append(building / MARKER)
        if len(written) > MANY:
            os.sync()
        else:
            for path in written:
                _fsync(path)
        for folder in made:
            _fsync(folder)
        (versions / f"{name}{MANIFEST}").write_bytes(orjson.dumps(manifest))
        final = versions / name
        os.rename(building, final)
        _fsync(versions)
        link = site_dir.with_name(f".{site_dir.name}.swap-{name}")
        os.symlink(os.path.relpath(final, site_dir.parent), link)
        os.replace(link, site_dir)
        _fsync(site_dir.parent)
        removed = _prune(versions, keep={final.name} | ({previous.name} if previous else set()))
        for stale in site_dir.parent.glob(f".{site_dir.name}.swap-*"):
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(f"could not write the site to {site_dir}: {exc}") from exc
    return WriteReport(
        version=name, edition=edition, written=len(written), linked=linked, removed_versions=removed
    )


def _prune(versions: Path, keep: set[str]) -> int:
    """Delete every version (and unfinished write) but ``keep``; returns how many."""
    removed = 0
    for path in versions.iterdir():
        base = path.name.removesuffix(MANIFEST)
        if base in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        else:
            path.unlink(missing_ok=True)
    return removed


def export(files: Mapping[str, bytes], directory: Path, edition: int = 0) -> WriteReport:
    """Write ``files`` as a plain static copy into ``directory`` (a real directory, made if
    missing; other files in it are left alone). Each file is replaced atomically."""
    if directory.is_symlink():
        raise StorageError(f"{directory} is a symlink; export into a plain directory")
    if directory.exists() and not directory.is_dir():
        raise StorageError(f"{directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        marker = orjson.dumps({"edition": edition, "version": "export"})
        for relative, data in [*files.items(), (MARKER, marker)]:
            if relative.startswith("/") or ".." in Path(relative).parts:
                raise StorageError(f"refusing to write outside the export: {relative!r}")
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp")
            _put(temporary, data)
            os.replace(temporary, target)
    except OSError as exc:
        raise StorageError(f"could not export the site to {directory}: {exc}") from exc
    return WriteReport(version=str(directory), edition=edition, written=len(files) + 1, linked=0)
