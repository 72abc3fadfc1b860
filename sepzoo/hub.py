"""The weight hub: turn a preset handle into a local directory, downloading and unpacking when needed.

A handle is one of:

* a path relative to :func:`base_url`, e.g. ``"lightweight_aspp/midi4-v1.tar.gz"``;
* an absolute ``file://``, ``http://`` or ``https://`` URL of an archive;
* a local directory (returned as is, nothing is copied) or a local archive file.

Archives (``.tar.gz``, ``.tgz``, ``.tar``, ``.zip``) go through one code path whatever their origin,
so the weights shipped beside the package (a ``file://`` base URL) exercise the same code as a download:

1. stream into a temporary file inside the cache, hashing with sha256 on the way, check the length the
   server announced and the expected checksum, then rename the file atomically;
2. check every archive member (no absolute paths, no ``..``, no links leading outside, no device files),
   unpack into a temporary directory, write a completion marker last and rename the directory into place.

The cache entry of a handle is ``cache_dir() / "<stem>-<12 hex>"`` where the hex digits start the
expected sha256 (or the sha256 of the URL when none is given). A lock file per entry serialises
concurrent fetches across processes. Whatever fails, the cache holds a complete verified entry or
nothing: temporary files and directories are removed on the way out.

Environment variables: ``SEPZOO_HUB_URL`` (base URL or local folder), ``SEPZOO_CACHE_DIR``,
``SEPZOO_OFFLINE`` (``1``/``true``/``yes``: never touch http(s); ``file://`` still works).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import http.client
import json
import os
import posixpath
import re
import secrets
import shutil
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from sepzoo.errors import ChecksumError, HubError, OfflineError, PresetNotFoundError

_TAR_MODES = {".tar.gz": "r:gz", ".tgz": "r:gz", ".tar": "r:"}
ARCHIVE_SUFFIXES = (*_TAR_MODES, ".zip")
_MARKER = ".sepzoo-complete"
_CHUNK_BYTES = 1 << 20
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def base_url() -> str:
    """Base URL that relative handles are resolved against, always ending in ``/``.

    ``SEPZOO_HUB_URL`` when set (a URL, or a local folder path which is turned into a ``file://`` URL),
    else the ``file://`` URL of the folder of archives shipped with the package (``sepzoo/weights/``),
    whether or not that folder exists yet.
    """
    configured = os.environ.get("SEPZOO_HUB_URL", "")
    if not configured:
        return (Path(__file__).parent / "weights").as_uri() + "/"
    if not _URL_SCHEME.match(configured):
        configured = Path(configured).expanduser().resolve().as_uri()
    return configured.rstrip("/") + "/"


def cache_dir() -> Path:
    """Folder of downloaded presets: ``SEPZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/sepzoo``, else ``~/.cache/sepzoo``."""
    configured = os.environ.get("SEPZOO_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    xdg_cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg_cache) if xdg_cache else Path.home() / ".cache") / "sepzoo"


def is_offline() -> bool:
    """True when ``SEPZOO_OFFLINE`` is ``1``, ``true`` or ``yes`` (any case): http(s) is then never used."""
    return os.environ.get("SEPZOO_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Lowercase hex sha256 of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(handle: str, sha256: str | None = None, *, timeout: float = 30.0, progress: bool = True) -> Path:
    """Return a local directory holding the preset that ``handle`` names.

    Args:
        handle: relative path under :func:`base_url`, ``file://``/``http(s)://`` URL, local directory or
            local archive (see the module docstring).
        sha256: expected hex sha256 of the archive; checked after download and against the cache marker.
            Ignored for a local directory.
        timeout: seconds a connection or a single read may stay silent before the fetch fails.
        progress: show a tqdm byte counter on stderr (only when stderr is a terminal).

    Returns:
        The unpacked directory; when the archive holds exactly one top-level folder, that folder.

    Raises:
        OfflineError: ``SEPZOO_OFFLINE`` is set, the URL is http(s) and the preset is not cached.
        ChecksumError: the archive's sha256 differs from ``sha256``.
        HubError: bad handle, HTTP error, timeout, truncated download, corrupt or unsafe archive.
    """
    local = Path(handle).expanduser()
    if not _URL_SCHEME.match(handle) and local.is_dir():
        return local
    expected = _normalise_sha256(handle, sha256)
    url = _handle_url(handle)
    suffix = _archive_suffix(handle, url)
    root = cache_dir()
    entry = root / _entry_name(url, suffix, expected)
    if _is_complete(entry, expected):
        return _preset_root(entry)
    if is_offline() and urllib.parse.urlsplit(url).scheme in ("http", "https"):
        raise OfflineError(
            f"{handle}: not in the cache {root} and SEPZOO_OFFLINE is set; run once online, "
            f"or set SEPZOO_HUB_URL to a local folder holding the archive"
        )
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(entry.with_name(entry.name + ".lock")):
        if not _is_complete(entry, expected):
            archive = entry.with_name(entry.name + suffix)
            _remove_leftovers(entry, archive)
            try:
                actual = _download(url, archive, expected, timeout=timeout, progress=progress)
                _unpack(archive, suffix, entry, marker={"url": url, "sha256": actual}, url=url)
            finally:
                archive.unlink(missing_ok=True)
    return _preset_root(entry)


def archive_preset(preset_dir: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> str:
    """Write a reproducible ``.tar.gz`` of ``preset_dir`` to ``out_path`` and return its sha256 hex.

    The archive holds one top-level folder named like ``preset_dir``; members are sorted, with mtime 0,
    uid/gid 0, no user names, mode 0o755 for folders and 0o644 for files, and the gzip header carries no
    name or time, so the same files always give the same bytes and the same checksum.

    Raises:
        HubError: ``preset_dir`` is not a folder, or holds something other than folders and regular files.
    """
    source = Path(preset_dir)
    if not source.is_dir():
        raise HubError(f"{source}: not a preset folder; pass the folder holding config.json and model.weights.h5")
    top = source.resolve().name
    target = Path(out_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = make_temp_file(target.parent, _temp_prefix(target.name), ".part")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            with tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for path in [source, *sorted(source.rglob("*"))]:
                    _add_reproducibly(tar, path, PurePosixPath(top, *path.relative_to(source).parts))
        os.replace(temp_name, target)
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return sha256_file(target)


def _add_reproducibly(tar: tarfile.TarFile, path: Path, arcname: PurePosixPath) -> None:
    """Add one folder or regular file to ``tar`` with fixed ownership, time and mode."""
    if path.is_symlink() or not (path.is_dir() or path.is_file()):
        raise HubError(f"{path}: not a regular file or folder; presets hold only plain files, replace it by a copy")
    info = tarfile.TarInfo(str(arcname))
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    if path.is_dir():
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
        return
    info.mode, info.size = 0o644, path.stat().st_size
    with open(path, "rb") as stream:
        tar.addfile(info, stream)


def _normalise_sha256(handle: str, sha256: str | None) -> str | None:
    """Lowercase ``sha256`` after checking it is 64 hex digits."""
    if sha256 is None:
        return None
    value = sha256.strip().lower()
    if not _SHA256_HEX.match(value):
        raise HubError(f"{handle}: sha256 {sha256!r} is not 64 hex digits; pass the archive's full sha256 or None")
    return value


def _handle_url(handle: str) -> str:
    """Absolute URL of an archive handle: URLs as is, existing or absolute local paths as ``file://``."""
    if _URL_SCHEME.match(handle):
        scheme = urllib.parse.urlsplit(handle).scheme.lower()
        if scheme not in ("file", "http", "https"):
            raise HubError(f"{handle}: unsupported URL scheme {scheme!r}; use file://, http:// or https://")
        return handle
    local = Path(handle).expanduser()
    if local.is_absolute() or local.exists():
        return local.resolve().as_uri()
    return base_url() + urllib.parse.quote(handle.lstrip("/"))


def _archive_suffix(handle: str, url: str) -> str:
    """The archive suffix of ``url`` (one of :data:`ARCHIVE_SUFFIXES`)."""
    name = PurePosixPath(urllib.parse.urlsplit(url).path).name.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    raise HubError(
        f"{handle}: not a preset folder nor an archive; expect a directory or a file ending in "
        f"{', '.join(ARCHIVE_SUFFIXES)}"
    )


def _entry_name(url: str, suffix: str, sha256: str | None) -> str:
    """Cache folder name: the archive's file stem plus 12 hex digits of its sha256 (or of the URL)."""
    stem = urllib.parse.unquote(PurePosixPath(urllib.parse.urlsplit(url).path).name)[: -len(suffix)]
    key = sha256 or hashlib.sha256(url.encode("utf-8")).hexdigest()
    return f"{_UNSAFE_NAME_CHARS.sub('_', stem)}-{key[:12]}"


def _is_complete(entry: Path, sha256: str | None) -> bool:
    """True when ``entry`` holds a finished unpack, of an archive with ``sha256`` when one is given."""
    try:
        marker = json.loads((entry / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return sha256 is None or marker.get("sha256") == sha256


def _preset_root(entry: Path) -> Path:
    """The single top-level folder of an unpacked archive, else the cache entry itself."""
    children = [child for child in entry.iterdir() if child.name != _MARKER]
    if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
        return children[0]
    return entry


def make_temp_file(folder: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """Create a new empty file ``folder/<prefix><random><suffix>`` like :func:`tempfile.mkstemp`, but with the
    mode the umask gives any new file (mkstemp's is 0600, which a rename would carry onto the published or
    cached file); return its open descriptor and path."""
    while True:
        name = os.path.join(folder, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), name
        except FileExistsError:
            continue


def make_temp_dir(folder: Path, prefix: str, suffix: str) -> Path:
    """Create a new empty folder ``folder/<prefix><random><suffix>`` like :func:`tempfile.mkdtemp`, but with
    the mode the umask gives any new folder (mkdtemp's is 0700); return its path."""
    while True:
        path = Path(folder) / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            path.mkdir(mode=0o777)
            return path
        except FileExistsError:
            continue


def _temp_prefix(name: str) -> str:
    """Prefix of temp files and folders made for cache entry ``name`` (``~`` never occurs in entry names)."""
    return f".{name}~"


def _remove_leftovers(entry: Path, archive: Path) -> None:
    """Delete an unfinished ``entry`` and the temp files a killed fetch of it left; call with its lock held."""
    shutil.rmtree(entry, ignore_errors=True)
    for name in (entry.name, archive.name):
        for leftover in entry.parent.glob(_temp_prefix(name) + "*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (created if missing) for the ``with`` body."""
    with open(lock_path, "a+b") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _transfer_errors(url: str, timeout: float) -> Iterator[None]:
    """Turn the errors urllib and http.client raise while fetching ``url`` into one-line HubErrors."""
    try:
        yield
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise _not_found_error(url, "HTTP 404") from None
        raise HubError(f"{url}: server answered HTTP {err.code} {err.reason}; check the URL or retry later") from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, TimeoutError):
            raise _timeout_error(url, timeout) from None
        if isinstance(err.reason, FileNotFoundError):
            raise _not_found_error(url, "no such file") from None
        raise HubError(f"{url}: cannot connect ({err.reason}); check the URL and your network") from None
    except TimeoutError:
        raise _timeout_error(url, timeout) from None
    except http.client.IncompleteRead as err:
        raise HubError(f"{url}: download truncated after {len(err.partial)} bytes; try again") from None
    except (http.client.HTTPException, ConnectionError) as err:
        raise HubError(f"{url}: connection failed ({type(err).__name__}: {err}); try again") from None


def _not_found_error(url: str, why: str) -> HubError:
    return PresetNotFoundError(f"{url}: preset not found at URL ({why}); check the handle and SEPZOO_HUB_URL")


def _timeout_error(url: str, timeout: float) -> HubError:
    return HubError(f"{url}: timed out after {timeout:g} s without data; try again or pass a larger timeout")


def _download(url: str, archive: Path, sha256: str | None, *, timeout: float, progress: bool) -> str:
    """Stream ``url`` into ``archive`` (via a temp file in the same folder) and return its sha256 hex.

    The file only appears at ``archive`` once its length matches the announced Content-Length and its
    checksum matches ``sha256`` (when given); on any failure no file is left behind.
    """
    fd, temp_name = make_temp_file(archive.parent, _temp_prefix(archive.name), ".part")
    digest, received = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out, _transfer_errors(url, timeout):
            with urllib.request.urlopen(url, timeout=timeout) as response:
                announced = response.headers.get("Content-Length")
                total = int(announced) if announced and announced.isdigit() else None
                show = progress and sys.stderr.isatty()
                bar = tqdm(total=total, unit="B", unit_scale=True, desc=archive.name, file=sys.stderr, disable=not show)
                with bar:
                    while chunk := response.read(_CHUNK_BYTES):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        if total is not None and received != total:
            raise HubError(f"{url}: download truncated, got {received} of {total} bytes; try again")
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256:
            raise ChecksumError(
                f"{url}: sha256 mismatch, expected {sha256} but got {actual}; "
                f"the file is corrupt or replaced, fix the expected checksum or the file"
            )
        os.replace(temp_name, archive)
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return actual


def _unpack(archive: Path, suffix: str, entry: Path, *, marker: dict[str, str], url: str) -> None:
    """Check and unpack ``archive`` into a temp folder, write the marker, then rename it to ``entry``."""
    staging = make_temp_dir(entry.parent, _temp_prefix(entry.name), ".part")
    try:
        try:
            if suffix == ".zip":
                _unpack_zip(archive, staging, url)
            else:
                _unpack_tar(archive, _TAR_MODES[suffix], staging, url)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile) as err:
            raise HubError(f"{url}: not a readable {suffix} archive ({err}); the file is corrupt, replace it") from None
        (staging / _MARKER).write_text(json.dumps(marker), encoding="utf-8")
        staging.rename(entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unsafe(url: str, member: str, problem: str) -> HubError:
    return HubError(f"{url}: archive member {member!r} {problem}; refusing to unpack, do not use this archive")


def _check_member_name(url: str, name: str) -> None:
    """Refuse a member stored under an absolute path or with a ``..`` component anywhere."""
    if _escapes(name) or ".." in PurePosixPath(name).parts:
        raise _unsafe(url, name, "has an absolute path or a '..' component")


def _escapes(path: str) -> bool:
    """True when the archive path ``path`` is absolute or climbs above the archive root."""
    if path.startswith(("/", "\\")) or PurePosixPath(path).is_absolute():
        return True
    normal = posixpath.normpath(path)
    return normal == ".." or normal.startswith("../")


def _unpack_tar(archive: Path, mode: str, staging: Path, url: str) -> None:
    """Unpack a tar(.gz) after checking every member; tarfile's ``data`` filter guards the rest."""
    with tarfile.open(archive, mode=mode) as tar:
        members = tar.getmembers()
        for member in members:
            _check_member_name(url, member.name)
            if member.isdev():
                raise _unsafe(url, member.name, "is a device file or FIFO")
            if member.issym() and _escapes(posixpath.join(posixpath.dirname(member.name), member.linkname)):
                raise _unsafe(url, member.name, f"is a symlink pointing outside the archive ({member.linkname})")
            if member.islnk() and _escapes(member.linkname):
                raise _unsafe(url, member.name, f"is a hard link pointing outside the archive ({member.linkname})")
        try:
            tar.extractall(staging, members=members, filter="data")
        except tarfile.FilterError as err:
            raise _unsafe(url, err.tarinfo.name, f"is unsafe ({err})") from None


def _unpack_zip(archive: Path, staging: Path, url: str) -> None:
    """Unpack a zip after checking that no member name is absolute or contains ``..``."""
    with zipfile.ZipFile(archive) as bundle:
        for name in bundle.namelist():
            _check_member_name(url, name.replace("\\", "/"))
        bundle.extractall(staging)
