"""Imported files are kept compressed and come back byte for byte."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from conftest import run_cli, scalar
from govsocial.errors import InputError, NotFoundError, StoreError
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, ingest, load_file
from govsocial.store.batches import identify
from govsocial.store.rawfiles import decompress, file_bytes, list_files, pack
from govsocial.store.schema import MIGRATIONS

HEADER = "platform,account_handle,post_id,posted_at,captured_at,media_type,likes\n"


def posts_csv(path: Path, rows: int) -> Path:
    lines = [
        f"instagram,@humas_jabar,p{i},2025-03-0{1 + i % 9}T10:00:00+07:00,"
        f"2025-03-10T10:00:00+07:00,image,{i}\n"
        for i in range(rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def test_a_file_is_kept_compressed_and_read_back_byte_for_byte(tmp_path: Path) -> None:
    path = posts_csv(tmp_path / "posts.csv", 2000)
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        load_file(wh, path, lambda p: stage(p))
        size, stored, compression = wh.con.execute(
            "SELECT file_bytes, octet_length(content), compression FROM raw_files"
        ).fetchone() or (0, 0, "")
        assert compression == "zstd"
        assert size == path.stat().st_size and stored < size / 4  # repetitive text shrinks
        assert file_bytes(wh, "posts.csv") == ("posts.csv", path.read_bytes())
        sha = scalar(wh, "SELECT file_sha256 FROM raw_files")
        assert file_bytes(wh, sha[:8])[1] == path.read_bytes()
        [kept] = list_files(wh)
        assert (kept.name, kept.size, kept.stored) == ("posts.csv", size, stored)
        listed = rf"names no kept file in .*w.duckdb. Its kept file: posts.csv \({sha[:12]}\)"
        with pytest.raises(NotFoundError, match=listed + ".*at least 6"):
            file_bytes(wh, "other.csv")
        with pytest.raises(NotFoundError, match=listed):
            file_bytes(wh, sha[:3])  # too short a prefix to name a file


def test_a_name_kept_twice_or_no_file_at_all_is_said(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        with pytest.raises(NotFoundError, match="No file has been imported into it yet"):
            file_bytes(wh, "posts.csv")
        for folder, rows in (("a", 3), ("b", 4)):  # two different files named posts.csv
            (tmp_path / folder).mkdir()
            load_file(wh, posts_csv(tmp_path / folder / "posts.csv", rows), lambda p: stage(p))
        shas = [f.sha256[:12] for f in list_files(wh)]
        with pytest.raises(
            NotFoundError,
            match=rf"names several kept files .*posts.csv \({shas[0]}\), posts.csv \({shas[1]}\)",
        ):
            file_bytes(wh, "posts.csv")
        assert file_bytes(wh, shas[1])[1] == (tmp_path / "b" / "posts.csv").read_bytes()


def test_text_is_compressed_bytes_that_do_not_compress_are_kept_as_they_are(
    tmp_path: Path,
) -> None:
    text = posts_csv(tmp_path / "posts.csv", 60_000)  # several blocks
    packed = pack(text)
    assert packed.compression == "zstd" and len(packed.content) < text.stat().st_size / 4
    assert decompress(packed.content, "zstd") == text.read_bytes()
    assert (packed.sha256, packed.size) == (identify(text).sha256, text.stat().st_size)
    noise = tmp_path / "noise.bin"
    noise.write_bytes(os.urandom(3 << 22))
    packed = pack(noise)
    assert (packed.compression, packed.content) == ("none", noise.read_bytes())
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    packed = pack(empty)
    assert packed.compression == "zstd" and packed.content  # a valid (empty) zstd stream
    assert decompress(packed.content, "zstd") == b""


def test_a_file_that_changes_while_it_is_imported_is_refused_and_nothing_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = posts_csv(tmp_path / "posts.csv", 10)
    stale = identify(path)
    posts_csv(path, 11)  # grows after the import identified it
    monkeypatch.setattr(ingest, "identify", lambda _: stale)
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        with pytest.raises(InputError, match="changed while it was being imported"):
            load_file(wh, path, lambda p: stage(p))
        assert scalar(wh, "SELECT count(*) FROM raw_files") == 0
        assert scalar(wh, "SELECT count(*) FROM posts") == 0
        assert scalar(wh, "SELECT status FROM ingest_batches") == "failed"


def test_raw_commands_list_and_write_back_a_kept_file(tmp_path: Path) -> None:
    posts_csv(tmp_path / "posts.csv", 10)
    assert run_cli("import", "posts.csv", cwd=tmp_path).returncode == 0
    listed = run_cli("raw", "list", "--format", "csv", cwd=tmp_path)
    assert listed.returncode == 0 and "posts.csv" in listed.stdout, listed.stderr
    exists = run_cli("raw", "get", "posts.csv", cwd=tmp_path)  # would overwrite the original
    assert exists.returncode != 0 and "--output" in exists.stderr
    got = run_cli("raw", "get", "posts.csv", "-o", "copy.csv", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "copy.csv").read_bytes() == (tmp_path / "posts.csv").read_bytes()
    missing = run_cli("raw", "get", "nothing.csv", cwd=tmp_path)
    assert missing.returncode != 0 and "govsocial raw list" in missing.stderr


def test_files_kept_before_compression_stay_readable(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(MIGRATIONS[0].sql)  # a warehouse as version 1 left it: raw bytes as they are
    con.execute("INSERT INTO schema_migrations VALUES (1, 'core tables', now(), '0.0.1')")
    sha = hashlib.sha256(b"abc").hexdigest()
    con.execute("INSERT INTO raw_files VALUES (?, 'old.csv', 3, 'abc', 1)", [sha])
    con.close()
    with Warehouse.open(db) as wh:  # migrated
        assert scalar(wh, "SELECT compression FROM raw_files") == "none"
        assert file_bytes(wh, "old.csv") == ("old.csv", b"abc")
        load_file(wh, posts_csv(tmp_path / "posts.csv", 5), lambda p: stage(p))
        assert [(f.name, f.size) for f in list_files(wh)][:1] == [("old.csv", 3)]
        assert file_bytes(wh, "posts.csv")[1] == (tmp_path / "posts.csv").read_bytes()


def test_a_damaged_kept_copy_is_reported_not_handed_out(tmp_path: Path) -> None:
    path = posts_csv(tmp_path / "posts.csv", 100)
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        load_file(wh, path, lambda p: stage(p))
        content = scalar(wh, "SELECT content FROM raw_files")
        wh.con.execute("UPDATE raw_files SET content = ?", [content[:-9] + b"x" * 9])
        with pytest.raises(StoreError, match="posts.csv.*damaged"):
            file_bytes(wh, "posts.csv")
        wh.con.execute("UPDATE raw_files SET content = 'abc', compression = 'none'")
        with pytest.raises(StoreError, match="does not match its hash"):
            file_bytes(wh, "posts.csv")
