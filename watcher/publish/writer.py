"""Writing the site: a complete new version beside ``site_dir``, then one atomic swap.

The two steps are apart (``stage_site``, ``swap_site``) so a publish can write the new
edition's files before it commits the edition, and serve them after.

``site_dir`` is a symlink to ``<parent>/.<name>-versions/<version>/``. A publish writes a
new version directory under a temporary name (files whose bytes did not change are
hardlinked from the current version, so a republish of 10,000 entries writes a handful of
files), adds the marker ``edition.json``, renames the directory to its final name, and
replaces the symlink with ``os.replace`` (atomic on POSIX). A reader, or a ``kill -9``,
therefore sees either the previous version or the new one, never a mixture; leftovers of
an interrupted write are removed by the next one. The previous version is kept (a reader
may be mid-download), older ones are deleted.

Durability: before the swap, the files this version wrote are fsynced (one ``syncfs``
of the site's filesystem instead when there are many: 10,000 fsyncs cost seconds), then
its directories; hardlinked files were made durable by the version that wrote them. The
parent is fsynced after the rename and after the swap.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from watcher.exceptions import ReuseFailed, StorageError
from watcher.publish.model import WriteReport

MARKER = "edition.json"
MANIFEST = ".manifest.json"  # beside each version directory, not served
MANY = 64  # above this many new files, one syncfs() beats an fsync each


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


def current_manifest(site_dir: Path) -> dict[str, str]:
    """Path -> reuse tag or sha256 of every file of the served version ({} when none)."""
    previous = current_version(site_dir)
    return _manifest(previous) if previous is not None else {}


def _syncfs(folder: Path) -> None:
    """Flush the filesystem holding ``folder`` (Linux ``syncfs``): one call instead of an
    fsync per file when thousands are new, without ``os.sync()`` flushing every disk."""
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):  # not Linux: the global sync is what is left
        os.sync()
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(folder))
    finally:
        os.close(descriptor)


def write_site(
    site_dir: Path,
    files: Mapping[str, bytes],
    edition: int,
    *,
    keep: int = 2,
    tags: Mapping[str, str] | None = None,
    reused: Sequence[str] = (),
) -> WriteReport:
    """Make ``files`` (relative path -> bytes) what ``site_dir`` serves, atomically.

    A file whose manifest value (its reuse tag from ``tags``, else the sha256 of its
    bytes) equals the current version's is hardlinked from it, and so is every path in
    ``reused`` (rendered not at all; ``ReuseFailed`` if it cannot be linked)."""
    staged = stage_site(site_dir, files, edition, tags=tags, reused=reused)
    return swap_site(staged)


@dataclass(frozen=True, slots=True)
class Staged:
    """A complete version, durable on disk under its temporary name, not served yet.

    A publish stages the new edition's files before it commits the edition, so the
    database never names an edition whose files could not be written; ``swap_site`` then
    serves them (a rename and a symlink swap), or ``discard`` drops them."""

    site_dir: Path
    building: Path
    name: str
    edition: int
    previous: str | None  # the version served when this one was staged
    written: int
    linked: int
    synced: float


def stage_site(
    site_dir: Path,
    files: Mapping[str, bytes],
    edition: int,
    *,
    tags: Mapping[str, str] | None = None,
    reused: Sequence[str] = (),
) -> Staged:
    """Write every file of a new version (see ``write_site``) and make it durable, without
    serving it. StorageError when it cannot be written (nothing is left behind)."""
    versions = versions_dir(site_dir)
    building: Path | None = None
    try:
        versions.mkdir(parents=True, exist_ok=True)
        _move_real_directory_aside(site_dir)
        previous = current_version(site_dir)
        name = f"{time.time_ns():020d}-e{edition}"
        building = versions / f".tmp-{name}"
        building.mkdir()
        version = _fill(building, files, reused, tags or {}, previous)
        _put(building / MARKER, orjson.dumps({"edition": edition, "version": name}))
        version.written.append(f"{version.root}/{MARKER}")
        synced = _make_durable(building, version)
        (versions / f"{name}{MANIFEST}").write_bytes(orjson.dumps(version.manifest))
    except ReuseFailed:
        if building is not None:
            shutil.rmtree(building, ignore_errors=True)
        raise
    except OSError as exc:
        if building is not None:
            shutil.rmtree(building, ignore_errors=True)
        raise StorageError(f"could not write the site to {site_dir}: {exc}") from exc
    return Staged(
        site_dir=site_dir,
        building=building,
        name=name,
        edition=edition,
        previous=previous.name if previous is not None else None,
        written=len(version.written),
        linked=version.linked,
        synced=round(synced, 6),
    )


def swap_site(staged: Staged) -> WriteReport:
    """Serve a staged version: rename it to its final name, swap the symlink, and prune
    all but it and the version served before it. StorageError when it cannot; the version
    served before then stays served."""
    site_dir, versions = staged.site_dir, versions_dir(staged.site_dir)
    try:
        final = versions / staged.name
        os.rename(staged.building, final)
        _fsync(versions)
        _swap(site_dir, final)
        kept = {final.name} | ({staged.previous} if staged.previous else set())
        removed = _prune(versions, keep=kept)
        for stale in site_dir.parent.glob(f".{site_dir.name}.swap-*"):
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(f"could not write the site to {site_dir}: {exc}") from exc
    return WriteReport(
        version=staged.name,
        edition=staged.edition,
        written=staged.written,
        linked=staged.linked,
        removed_versions=removed,
        synced=staged.synced,
    )


def discard(staged: Staged) -> None:
    """Drop a staged version that is not to be served (its edition was not committed)."""
    shutil.rmtree(staged.building, ignore_errors=True)
    (versions_dir(staged.site_dir) / f"{staged.name}{MANIFEST}").unlink(missing_ok=True)


@dataclass(slots=True)
class _Version:
    """A version directory being filled (under its temporary name ``root``): its manifest,
    the files it wrote (to be made durable), how many it hardlinked and the folders it made
    (``""`` is ``root`` itself)."""

    root: str
    manifest: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    linked: int = 0
    made: set[str] = field(default_factory=lambda: {""})


def _fill(
    building: Path,
    files: Mapping[str, bytes],
    reused: Sequence[str],
    tags: Mapping[str, str],
    previous: Path | None,
) -> _Version:
    """Every file of the new version, in path order: hardlinked from ``previous`` when it
    is unchanged there (or is in ``reused``), else written."""
    old = _manifest(previous) if previous is not None else {}
    source = str(previous) if previous is not None else ""
    version = _Version(str(building))
    for relative in sorted([*files, *reused]):
        target = _place(version, relative)
        data = files.get(relative)
        if data is None:  # reused: the current version has it under the same tag
            version.manifest[relative] = _link_reused(source, relative, target, old.get(relative))
            version.linked += 1
            continue
        value, same = _manifest_value(data, tags.get(relative), old.get(relative))
        version.manifest[relative] = value
        if same and _link(f"{source}/{relative}", target):
            version.linked += 1
            continue
        _put(Path(target), data)
        if relative in old:
            _later_than(f"{source}/{relative}", target)
        version.written.append(target)
    return version


def _later_than(before: str, target: str) -> None:
    """Give a changed file a modification time in a later whole second than the version
    it replaces: a web server in front (nginx) makes ETag and Last-Modified from whole
    seconds and the size, so two publishes within one second would otherwise let a reader
    revalidate the old page as current (304)."""
    try:
        was = int(os.stat(before).st_mtime)
    except OSError:
        return
    now = os.stat(target).st_mtime
    if int(now) <= was:
        os.utime(target, (now, was + 1))


def _place(version: _Version, relative: str) -> str:
    """Where ``relative`` goes in the version, its folder made (once per folder); a path
    that would leave the site is refused, whatever produced it."""
    if relative.startswith("/") or ".." in relative.split("/"):
        raise StorageError(f"refusing to write outside the site: {relative!r}")
    folder = relative.rpartition("/")[0]
    if folder not in version.made:
        os.makedirs(f"{version.root}/{folder}", exist_ok=True)
        version.made.add(folder)
    return f"{version.root}/{relative}"


def _link_reused(source: str, relative: str, target: str, tagged: str | None) -> str:
    """Hardlink a file that was not rendered at all from the current version, and return
    its manifest value; ``ReuseFailed`` (the caller renders everything) when it is not
    there under a tag."""
    try:
        if tagged is None:
            raise FileNotFoundError("not in the current version's manifest")
        os.link(f"{source}/{relative}", target)
    except OSError as exc:
        raise ReuseFailed(f"cannot reuse {relative}: {exc}") from exc
    return tagged


def _manifest_value(data: bytes, tag: str | None, before: str | None) -> tuple[str, bool]:
    """A file's manifest value (its reuse tag, else the sha256 of its bytes) and whether
    the current version's file is the same. A version that recorded the file by hash is
    compared by hash even when the file now has a tag, so its bytes are not rewritten."""
    if tag is None or (before is not None and not before.startswith("t:")):
        sha = hashlib.sha256(data).hexdigest()
        return tag or sha, before == sha
    return tag, before == tag


def _link(existing: str, target: str) -> bool:
    """Hardlink ``existing`` as ``target``; False when it cannot (gone, or on another
    filesystem) and the file must be written instead."""
    try:
        os.link(existing, target)
    except OSError:
        return False
    return True


def _make_durable(building: Path, version: _Version) -> float:
    """fsync the files the version wrote (one ``syncfs`` when there are many), then its
    folders deepest first; linked files were made durable by the version that wrote them.
    Returns the seconds it took."""
    started = time.perf_counter()
    if len(version.written) > MANY:
        _syncfs(building)
    else:
        for path in version.written:
            _fsync(Path(path))
    for folder in sorted(version.made, key=len, reverse=True):
        _fsync(Path(f"{version.root}/{folder}" if folder else version.root))
    return time.perf_counter() - started


def _swap(site_dir: Path, final: Path) -> None:
    """Point ``site_dir`` at ``final`` in one step: a new symlink beside it, renamed over it
    (``os.replace`` is atomic), then the parent fsynced so the swap survives a crash."""
    link = site_dir.with_name(f".{site_dir.name}.swap-{final.name}")
    os.symlink(os.path.relpath(final, site_dir.parent), link)
    os.replace(link, site_dir)
    _fsync(site_dir.parent)


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
