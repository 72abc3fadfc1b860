"""Tests of sepzoo.hub against a real HTTP server on 127.0.0.1 and real tar/zip archives made on the fly."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from http_fixtures import ArchiveServer, Route

from sepzoo import hub
from sepzoo.errors import ChecksumError, HubError, OfflineError

PRESET_FILES = {
    "config.json": json.dumps({"class_name": "ConvBaseline", "config": {"filters": 8}}).encode(),
    "model.weights.h5": bytes(range(256)) * 4,
    "metadata.json": json.dumps({"sources": ["vocals", "accompaniment"], "sample_rate": 22050}).encode(),
}


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A .tar.gz holding ``members`` (TarInfo plus file content, None for non-files)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, content in members:
            if content is not None:
                info.size = len(content)
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def file_member(name: str, content: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), content


def link_member(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def preset_tar(top: str = "midi4-v1") -> bytes:
    """A fake preset archive with one top-level folder ``top``."""
    return tar_bytes([file_member(f"{top}/{name}", content) for name, content in PRESET_FILES.items()])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_preset(folder: Path, top: str = "midi4-v1") -> None:
    assert folder.is_dir() and folder.name == top
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == PRESET_FILES


def leftovers(cache: Path) -> list[str]:
    """Everything in the cache except lock files (which may stay after a failure)."""
    if not cache.exists():
        return []
    return sorted(path.name for path in cache.iterdir() if not path.name.endswith(".lock"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SEPZOO_CACHE_DIR", str(folder))
    monkeypatch.delenv("SEPZOO_OFFLINE", raising=False)
    monkeypatch.delenv("SEPZOO_HUB_URL", raising=False)
    return folder


@pytest.fixture
def server() -> ArchiveServer:
    with ArchiveServer() as running:
        yield running


def test_http_fetch_checks_sha_and_returns_the_single_top_folder(cache: Path, server: ArchiveServer) -> None:
    data = preset_tar()
    url = server.serve("/lightweight_aspp/midi4-v1.tar.gz", Route(body=data))
    folder = hub.fetch(url, sha(data).upper(), progress=False)
    assert_preset(folder)
    assert folder.parent.parent == cache
    assert folder.parent.name == f"midi4-v1-{sha(data)[:12]}"
    assert leftovers(cache) == [folder.parent.name]  # no archive or temp file kept beside the entry


def test_relative_handle_resolves_against_hub_url_served_over_http(
    cache: Path, server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = preset_tar()
    server.serve("/zoo/lightweight_aspp/midi4-v1.tar.gz", Route(body=data))
    monkeypatch.setenv("SEPZOO_HUB_URL", server.base_url + "zoo")
    assert hub.base_url() == server.base_url + "zoo/"
    assert_preset(hub.fetch("lightweight_aspp/midi4-v1.tar.gz", sha(data), progress=False))


def test_file_url_goes_through_the_same_path_and_works_offline(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = preset_tar()
    shipped = tmp_path / "weights" / "lightweight_aspp" / "midi4-v1.tar.gz"
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(data)
    monkeypatch.setenv("SEPZOO_OFFLINE", "1")
    monkeypatch.setenv("SEPZOO_HUB_URL", str(tmp_path / "weights"))  # a plain folder becomes a file:// URL
    folder = hub.fetch("lightweight_aspp/midi4-v1.tar.gz", sha(data), progress=False)
    assert_preset(folder)
    assert cache in folder.parents  # copied into the cache like a download, not used in place
    assert hub.fetch(shipped.as_uri(), sha(data), progress=False) == folder
    assert hub.fetch(str(shipped), sha(data), progress=False) == folder


def test_cached_fetch_does_not_touch_the_server(cache: Path, server: ArchiveServer) -> None:
    data = preset_tar()
    url = server.serve("/a/midi4-v1.tar.gz", Route(body=data))
    first = hub.fetch(url, sha(data), progress=False)
    second = hub.fetch(url, sha(data), progress=False)
    unpinned = [hub.fetch(url, progress=False) for _ in range(2)]  # keyed by URL when no sha is given
    assert first == second and unpinned[0] == unpinned[1]
    assert server.hits("/a/midi4-v1.tar.gz") == 2


def test_an_entry_without_completion_marker_is_fetched_again(cache: Path, server: ArchiveServer) -> None:
    data = preset_tar()
    url = server.serve("/midi4-v1.tar.gz", Route(body=data))
    half_done = cache / f"midi4-v1-{sha(data)[:12]}" / "midi4-v1"  # as a killed process might leave it
    half_done.mkdir(parents=True)
    (half_done / "config.json").write_text("{")
    assert_preset(hub.fetch(url, sha(data), progress=False))
    assert server.hits("/midi4-v1.tar.gz") == 1


def test_offline_uses_the_cache_and_refuses_http_otherwise(
    cache: Path, server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = preset_tar()
    cached_url = server.serve("/cached.tar.gz", Route(body=data))
    missing_url = server.serve("/missing.tar.gz", Route(body=data))
    online = hub.fetch(cached_url, sha(data), progress=False)
    monkeypatch.setenv("SEPZOO_OFFLINE", "yes")
    assert hub.fetch(cached_url, sha(data), progress=False) == online
    with pytest.raises(OfflineError, match="SEPZOO_HUB_URL") as caught:
        hub.fetch(missing_url, sha(data), progress=False)
    assert missing_url in str(caught.value) and "\n" not in str(caught.value)
    assert server.hits("/cached.tar.gz") == 1 and server.hits("/missing.tar.gz") == 0


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (None, r"not found at URL \(HTTP 404\)"),
        (Route(status=500), "HTTP 500"),
        (Route(status=503), "HTTP 503"),
        (Route(body=preset_tar(), content_length=len(preset_tar()) + 1000), "truncated"),
        (Route(body=b"this is not a gzip file at all"), "not a readable .tar.gz archive"),
    ],
    ids=["404", "500", "503", "truncated", "corrupt"],
)
def test_transfer_failures_leave_nothing_in_the_cache(
    cache: Path, server: ArchiveServer, route: Route | None, message: str,
) -> None:
    url = server.base_url + "broken/midi4-v1.tar.gz"
    if route is not None:
        server.serve("/broken/midi4-v1.tar.gz", route)
    with pytest.raises(HubError, match=message) as caught:
        hub.fetch(url, progress=False)
    assert url in str(caught.value) and "\n" not in str(caught.value)
    assert server.hits("/broken/midi4-v1.tar.gz") == 1
    assert leftovers(cache) == []


def test_missing_file_url_is_not_found(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(HubError, match="not found"):
        hub.fetch((tmp_path / "nowhere.tar.gz").as_uri(), progress=False)
    assert leftovers(cache) == []


def test_checksum_mismatch_names_url_and_both_sums_then_a_good_sum_still_works(
    cache: Path, server: ArchiveServer,
) -> None:
    data = preset_tar()
    url = server.serve("/midi4-v1.tar.gz", Route(body=data))
    wrong = sha(b"something else")
    with pytest.raises(ChecksumError) as caught:
        hub.fetch(url, wrong, progress=False)
    assert all(part in str(caught.value) for part in (url, wrong, sha(data)))
    assert leftovers(cache) == []
    assert_preset(hub.fetch(url, sha(data), progress=False))


@pytest.mark.parametrize(
    "route",
    [Route(body=preset_tar(), delay_s=3.0), Route(body=preset_tar(), chunk_bytes=64, chunk_delay_s=3.0)],
    ids=["before-headers", "mid-body"],
)
def test_stalled_server_times_out(cache: Path, server: ArchiveServer, route: Route) -> None:
    url = server.serve("/slow.tar.gz", route)
    started = time.monotonic()
    with pytest.raises(HubError, match="timed out after 1 s"):
        hub.fetch(url, timeout=1, progress=False)
    assert time.monotonic() - started < 2.5
    assert leftovers(cache) == []


def unsafe_archives(outside: Path) -> dict[str, tuple[bytes, str]]:
    """Archive bytes and the member the error must name, per attack."""
    device = tarfile.TarInfo("midi4-v1/tty")
    device.type, device.devmajor, device.devminor = tarfile.CHRTYPE, 5, 0
    good = [file_member(f"midi4-v1/{name}", content) for name, content in PRESET_FILES.items()]
    return {
        "dotdot": (tar_bytes([*good, file_member("../evil", b"x")]), "../evil"),
        "dotdot-deep": (tar_bytes([*good, file_member("midi4-v1/../../../evil", b"x")]), "midi4-v1/../../../evil"),
        "absolute": (tar_bytes([*good, file_member(str(outside / "evil"), b"x")]), str(outside / "evil")),
        "symlink-etc": (tar_bytes([*good, link_member("midi4-v1/etc", "/etc")]), "midi4-v1/etc"),
        "symlink-escape-then-write": (
            tar_bytes([*good, link_member("midi4-v1/out", "../../../outside"), file_member("midi4-v1/out/evil", b"x")]),
            "midi4-v1/out",
        ),
        "symlink-through-symlink": (  # lexically inside, really outside: caught by tarfile's data filter
            tar_bytes([*good, link_member("midi4-v1/here", "."), link_member("midi4-v1/up", "here/../..")]),
            "midi4-v1/up",
        ),
        "hardlink-etc": (tar_bytes([*good, link_member("midi4-v1/pw", "/etc/passwd", tarfile.LNKTYPE)]), "midi4-v1/pw"),
        "device": (tar_bytes([*good, (device, None)]), "midi4-v1/tty"),
    }


@pytest.mark.parametrize("attack", list(unsafe_archives(Path("/x"))))
def test_unsafe_tar_members_are_refused_by_name(
    cache: Path, server: ArchiveServer, tmp_path: Path, attack: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    data, member = unsafe_archives(outside)[attack]
    url = server.serve("/evil.tar.gz", Route(body=data))
    with pytest.raises(HubError, match="archive member") as caught:
        hub.fetch(url, sha(data), progress=False)
    assert repr(member) in str(caught.value)
    assert leftovers(cache) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cache", "outside"]
    assert list(outside.iterdir()) == []


def zip_bytes(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name in names:
            bundle.writestr(name, PRESET_FILES.get(Path(name).name, b"x"))
    return buffer.getvalue()


def test_zip_archives_unpack_and_unsafe_zip_members_are_refused(
    cache: Path, server: ArchiveServer, tmp_path: Path,
) -> None:
    good = zip_bytes([f"midi4-v1/{name}" for name in PRESET_FILES])
    assert_preset(hub.fetch(server.serve("/good.zip", Route(body=good)), sha(good), progress=False))
    evil = zip_bytes(["midi4-v1/config.json", "../../evil"])
    with pytest.raises(HubError, match="'../../evil'"):
        hub.fetch(server.serve("/evil.zip", Route(body=evil)), progress=False)
    assert len(leftovers(cache)) == 1  # only the good entry
    assert not (tmp_path / "evil").exists()


def test_local_directory_is_returned_as_is_and_other_files_are_refused(cache: Path, tmp_path: Path) -> None:
    preset = tmp_path / "my_preset"
    preset.mkdir()
    assert hub.fetch(str(preset)) == preset
    notes = tmp_path / "notes.txt"
    notes.write_text("not an archive")
    with pytest.raises(HubError, match=r"\.tar\.gz, \.tgz, \.tar, \.zip"):
        hub.fetch(str(notes))
    with pytest.raises(HubError, match="64 hex digits"):
        hub.fetch("lightweight_aspp/midi4-v1.tar.gz", "abc123")
    with pytest.raises(HubError, match="unsupported URL scheme 'ftp'"):
        hub.fetch("ftp://example.org/midi4-v1.tar.gz")
    assert not cache.exists()


def test_archive_preset_is_reproducible_and_fetchable(cache: Path, tmp_path: Path) -> None:
    preset = tmp_path / "conv_baseline-v1"
    (preset / "extra").mkdir(parents=True)
    for name, content in PRESET_FILES.items():
        (preset / name).write_bytes(content)
    (preset / "extra" / "notes.txt").write_text("hello")
    first = hub.archive_preset(preset, tmp_path / "out1" / "conv_baseline-v1.tar.gz")
    os.utime(preset / "config.json", (1_000_000, 1_000_000))
    second = hub.archive_preset(preset, tmp_path / "out2" / "conv_baseline-v1.tar.gz")
    assert first == second == hub.sha256_file(tmp_path / "out1" / "conv_baseline-v1.tar.gz")
    with tarfile.open(tmp_path / "out1" / "conv_baseline-v1.tar.gz") as tar:
        names = tar.getnames()
        assert {member.mtime for member in tar.getmembers()} == {0}
    assert names == sorted(names) and all(name.split("/")[0] == "conv_baseline-v1" for name in names)
    folder = hub.fetch(str(tmp_path / "out1" / "conv_baseline-v1.tar.gz"), first, progress=False)
    assert folder.name == "conv_baseline-v1"
    assert (folder / "extra" / "notes.txt").read_text() == "hello"
    assert (folder / "config.json").read_bytes() == PRESET_FILES["config.json"]


def test_environment_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SEPZOO_HUB_URL", "SEPZOO_CACHE_DIR", "SEPZOO_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    assert hub.base_url() == (Path(hub.__file__).parent / "weights").as_uri() + "/"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.cache_dir() == tmp_path / "xdg" / "sepzoo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert hub.cache_dir() == tmp_path / "home" / ".cache" / "sepzoo"
    assert not hub.is_offline()
    for value, offline in [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("no", False)]:
        monkeypatch.setenv("SEPZOO_OFFLINE", value)
        assert hub.is_offline() is offline


def _fetch_in_child(
    url: str, digest: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue,
) -> None:
    barrier.wait()
    started = time.monotonic()
    try:
        outcome = str(hub.fetch(url, digest, progress=False))
    except Exception as err:  # reported to the parent, whose assertions then show it
        outcome = f"{type(err).__name__}: {err}"
    results.put((outcome, started, time.monotonic()))


def test_two_processes_fetching_at_once_share_one_download(cache: Path, server: ArchiveServer) -> None:
    data = preset_tar()
    url = server.serve("/shared.tar.gz", Route(body=data, chunk_bytes=max(1, len(data) // 8), chunk_delay_s=0.25))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_fetch_in_child, args=(url, sha(data), barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    (folder_a, start_a, end_a), (folder_b, start_b, end_b) = outcomes
    assert max(start_a, start_b) < min(end_a, end_b)  # the two fetches really overlapped
    assert folder_a == folder_b
    assert_preset(Path(folder_a))
    assert server.hits("/shared.tar.gz") == 1
    assert leftovers(cache) == [Path(folder_a).parent.name]


def test_cache_entries_and_archives_get_the_mode_the_umask_gives(cache: Path, tmp_path: Path) -> None:
    preset = tmp_path / "conv_baseline-v1"
    preset.mkdir()
    for name, content in PRESET_FILES.items():
        (preset / name).write_bytes(content)
    previous = os.umask(0o022)
    try:
        archive = tmp_path / "out" / "conv_baseline-v1.tar.gz"
        digest = hub.archive_preset(preset, archive)
        folder = hub.fetch(str(archive), digest, progress=False)
    finally:
        os.umask(previous)
    assert oct(archive.stat().st_mode & 0o777) == oct(0o644)  # tempfile.mkstemp would have made it 0o600
    assert oct(folder.parent.stat().st_mode & 0o777) == oct(0o755)  # tempfile.mkdtemp: 0o700
    assert oct((folder / "config.json").stat().st_mode & 0o777) == oct(0o644)
