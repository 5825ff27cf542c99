"""What the commands print: data as written, ids never cut, counts in words, filters that say
when they match nothing. The console is 80 columns wide, as in a plain terminal."""

import json
from pathlib import Path

import pytest

from conftest import REGISTRY_YAML, post_row, run_cli, write_csv

run = run_cli


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    long_registry = REGISTRY_YAML + (
        "  - id: pemerintah-kabupaten-kepulauan-seribu-utara-2025\n"
        "    name: '[siaran pers] Pemerintah Kabupaten :fire: Kepulauan Seribu Utara'\n"
        "    cluster: pemda\n"
    )
    (tmp_path / "registry.yaml").write_text(long_registry)
    assert run("registry", "load", "registry.yaml", cwd=tmp_path).returncode == 0
    rows = [post_row(text="[siaran pers] Rapat :fire:"), post_row(post_id="p2", media_type="gif")]
    rows += [post_row(post_id=f"q{i}", media_type="gif") for i in range(3)]
    write_csv(tmp_path / "posts.csv", rows)
    assert run("import", "posts.csv", cwd=tmp_path).returncode == 0
    return tmp_path


def test_data_is_printed_as_written_never_as_markup(loaded: Path) -> None:
    shown = run("sql", "SELECT text FROM posts", cwd=loaded)
    assert "[siaran pers] Rapat :fire:" in shown.stdout
    listed = run("registry", "list", cwd=loaded)
    assert "[siaran pers]" in listed.stdout and ":fire:" in listed.stdout
    helped = run("settings", cwd=loaded)
    assert "govsocial[spark]" in helped.stdout.replace("\n", "").replace(" ", "")
    engine_help = run("awards", "run", "--help", cwd=loaded)
    assert "[spark]" in engine_help.stdout


def test_ids_and_env_var_names_are_never_cut_at_80_columns(loaded: Path) -> None:
    listed = run("registry", "list", cwd=loaded)
    assert "pemerintah-kabupaten-kepulauan-seribu-utara-2025" in listed.stdout
    assert "…" not in "".join(line for line in listed.stdout.splitlines() if "pemerintah-" in line)
    settings = run("settings", cwd=loaded)
    for name in ("GOVSOCIAL_DB", "GOVSOCIAL_ENGINE", "GOVSOCIAL_THREADS", "GOVSOCIAL_MEMORY_LIMIT"):
        assert name in settings.stdout
    methodologies = run("awards", "methodologies", cwd=loaded)
    assert "gsm2025" in methodologies.stdout and "bonson" in methodologies.stdout
    assert methodologies.stdout.count("Government") + methodologies.stdout.count("Social") > 0


def test_counts_agree_in_number(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    run("registry", "load", "registry.yaml", cwd=tmp_path)
    write_csv(tmp_path / "one.csv", [post_row()])
    done = run("import", "one.csv", cwd=tmp_path)
    assert "1 record, 1 new post, 0 updated, 1 new snapshot;" in done.stdout
    assert "(s)" not in done.stdout and "1 posts" not in done.stdout


def test_filters_that_match_nothing_say_so(loaded: Path) -> None:
    cluster = run("registry", "list", "--cluster", "nosuch", cwd=loaded)
    assert cluster.returncode == 1 and "No cluster 'nosuch'" in cluster.stderr
    assert "pemda" in cluster.stderr  # the clusters that exist
    reason = run("quarantine", "list", "--reason", "nosuch", cwd=loaded)
    assert reason.returncode == 1 and "nosuch" in reason.stderr
    assert "unknown_media_type" in reason.stderr
    batch = run("quarantine", "list", "--batch", "999", cwd=loaded)
    assert batch.returncode == 1 and "999" in batch.stderr
    limited = run("quarantine", "list", "--limit", "2", cwd=loaded)
    assert limited.returncode == 0 and "2 of 4 records" in limited.stdout


def test_sql_streams_csv_with_plain_line_endings_and_writes_files(loaded: Path) -> None:
    csv_out = run(
        "sql", "SELECT platform_post_id FROM posts ORDER BY 1", "--format", "csv", cwd=loaded
    )
    assert csv_out.stdout == "platform_post_id\np1\n"
    as_json = run("sql", "SELECT 'Rapat ✓' AS t, NULL AS n", "--format", "json", cwd=loaded)
    assert json.loads(as_json.stdout) == [{"t": "Rapat ✓", "n": None}]
    for name in ("out.parquet", "out.csv", "out.json", "out.xlsx"):
        wrote = run("sql", "SELECT * FROM range(2500)", "--output", name, cwd=loaded)
        assert wrote.returncode == 0, wrote.stderr
        assert "2,500 rows" in wrote.stderr and (loaded / name).stat().st_size > 0
    wrong = run("sql", "SELECT 1", "--output", "out.docx", cwd=loaded)
    assert wrong.returncode == 2 and ".parquet" in wrong.stderr
    many = run("sql", "SELECT * FROM range(1000)", cwd=loaded)
    assert "Showing 100 of 1,000 rows" in many.stdout


def test_sql_is_read_only_and_cannot_reach_files(loaded: Path) -> None:
    target = loaded / "stolen.csv"
    for query in (
        f"EXPLAIN ANALYZE COPY (SELECT * FROM posts) TO '{target}'",
        f"COPY posts TO '{target}'",
        "EXPLAIN ANALYZE INSTALL httpfs",
        "ATTACH 'other.duckdb'",
    ):
        refused = run("sql", query, cwd=loaded)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, query
    assert not target.exists() and not (loaded / "other.duckdb").exists()
    (loaded / "side.csv").write_text("a\n1\n")
    hidden = run("sql", "SELECT * FROM read_csv('side.csv')", cwd=loaded)
    assert hidden.returncode == 1 and "--allow-files" in hidden.stderr
    allowed = run(
        "sql", "SELECT * FROM read_csv('side.csv')", "--allow-files", "--format", "csv", cwd=loaded
    )
    assert allowed.returncode == 0 and allowed.stdout == "a\n1\n", allowed.stderr
    pivot = run("sql", "PIVOT posts ON media_type USING count(*)", "--format", "csv", cwd=loaded)
    assert pivot.returncode == 0 and "image" in pivot.stdout, pivot.stderr


def test_a_join_with_repeated_column_names_is_shown(loaded: Path) -> None:
    shown = run("sql", "SELECT 1 AS a, 2 AS a", cwd=loaded)
    assert shown.returncode == 0, shown.stderr
    assert "This is a bug" not in shown.stderr and "2" in shown.stdout


def test_files_written_through_links_and_devices_are_not_replaced(loaded: Path) -> None:
    import os
    import stat

    (loaded / "real.csv").write_text("old\n")
    os.symlink(loaded / "real.csv", loaded / "link.csv")
    linked = run("sql", "SELECT 1 AS n", "--output", "link.csv", cwd=loaded)
    assert linked.returncode == 0, linked.stderr
    assert (loaded / "link.csv").is_symlink() and (loaded / "real.csv").read_text() == "n\n1\n"
    os.mkfifo(loaded / "pipe")
    assert run("raw", "get", "posts.csv", "-o", "/dev/null", cwd=loaded).returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still the device, not a file
    assert run("sql", "SELECT 1", "--output", "/dev/null", cwd=loaded).returncode == 2  # no ext
    assert stat.S_ISFIFO(os.stat(loaded / "pipe").st_mode)


def test_machine_formats_carry_machine_values(loaded: Path) -> None:
    import json as json_

    listed = json_.loads(run("raw", "list", "--format", "json", cwd=loaded).stdout)
    assert len(listed[0]["sha256"]) == 64 and "kept_bytes" in listed[0]
    assert "T" in listed[0]["imported_at"]  # ISO 8601, not "2026-12-01 07:59 WIB"
    info = run("info", cwd=loaded)
    assert "4 quarantined records" in info.stdout
