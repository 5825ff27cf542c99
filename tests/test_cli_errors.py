"""Errors as a user meets them: exit codes, --db wherever it is typed, warehouses that are not
warehouses, files written where asked, Ctrl-C, and a synthetic world kept away from real data."""

from pathlib import Path

import pytest

from conftest import REGISTRY_YAML, post_row, run_cli, write_csv

run = run_cli


@pytest.fixture
def registered_dir(tmp_path: Path) -> Path:
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    assert (
        run("registry", "load", "registry.yaml", "--db", "w.duckdb", cwd=tmp_path).returncode == 0
    )
    return tmp_path


def test_db_is_accepted_before_and_after_the_command(registered_dir: Path) -> None:
    query = "SELECT count(*) AS n FROM institutions"
    after = run("sql", "--db", "w.duckdb", query, "--format", "csv", cwd=registered_dir)
    before = run("--db", "w.duckdb", "sql", query, "--format", "csv", cwd=registered_dir)
    assert after.stdout == before.stdout == "n\n2\n", after.stderr
    assert run("info", "--db", "w.duckdb", cwd=registered_dir).returncode == 0
    assert not (registered_dir / "govsocial.duckdb").exists()


def test_exit_codes_are_2_for_the_command_line_and_1_for_the_rest(registered_dir: Path) -> None:
    def code(*args: str) -> int:
        return run(*args, "--db", "w.duckdb", cwd=registered_dir).returncode

    assert code("awards", "run", "--engine", "polars") == 2
    assert code("awards", "run", "--methodology", "gsm2030") == 2
    assert code("sql", "SELEC 1") == 1  # a query that does not parse
    assert code("sql", "SELECT 1/0::INTEGER + 'x'::INTEGER") == 1  # a query that fails
    assert code("awards", "show", "ffffffff") == 1  # no such run
    assert code("raw", "get", "nothing.csv") == 1
    assert code("quarantine", "show", "two") == 2


def test_a_db_that_is_not_a_warehouse_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    write_csv(tmp_path / "posts.csv", [post_row()])
    before = (tmp_path / "posts.csv").read_bytes()
    done = run("import", "posts.csv", "--db", "posts.csv", cwd=tmp_path)
    assert done.returncode == 1 and "not a DuckDB warehouse" in done.stderr, done.stdout
    assert "new posts" not in done.stdout
    assert (tmp_path / "posts.csv").read_bytes() == before
    (tmp_path / "state.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    sqlite = run("info", "--db", "state.sqlite", cwd=tmp_path)
    assert sqlite.returncode == 1 and "SQLite" in sqlite.stderr


def test_a_failed_registry_load_leaves_no_warehouse(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "# comment\n\ninstitutions:\n  - {id: a, name: A, cluster: nope}\n"
    )
    bad = run("registry", "load", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 1 and "unknown cluster 'nope'" in bad.stderr
    assert "line 4" in bad.stderr
    assert not (tmp_path / "govsocial.duckdb").exists()


def test_raw_get_writes_into_folders_to_stdout_and_refuses_missing_folders(tmp_path: Path) -> None:
    write_csv(tmp_path / "posts.csv", [post_row()])
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    run("registry", "load", "registry.yaml", cwd=tmp_path)
    assert run("import", "posts.csv", cwd=tmp_path).returncode == 0
    original = (tmp_path / "posts.csv").read_bytes().decode()
    (tmp_path / "out").mkdir()
    into = run("raw", "get", "posts.csv", "-o", "out", cwd=tmp_path)
    assert (
        into.returncode == 0 and (tmp_path / "out" / "posts.csv").read_bytes().decode() == original
    )
    piped = run("raw", "get", "posts.csv", "-o", "-", cwd=tmp_path)
    assert piped.returncode == 0 and piped.stdout == original and not (tmp_path / "-").exists()
    missing = run("raw", "get", "posts.csv", "-o", "nowhere/posts.csv", cwd=tmp_path)
    assert missing.returncode != 0 and "nowhere" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_ctrl_c_during_an_import_says_what_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import govsocial.store.importing as importing

    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    run("registry", "load", "registry.yaml", cwd=tmp_path)
    (tmp_path / "in").mkdir()
    write_csv(tmp_path / "in" / "a.csv", [post_row()])
    write_csv(tmp_path / "in" / "b.csv", [post_row(post_id="p2")])
    real = importing._import_one

    def pressed(wh, path, *args):  # type: ignore[no-untyped-def]
        if path.name == "b.csv":
            raise KeyboardInterrupt
        return real(wh, path, *args)

    monkeypatch.setattr(importing, "_import_one", pressed)
    stopped = run("import", "in", cwd=tmp_path)
    assert stopped.returncode == 130 and "Traceback" not in stopped.stderr
    assert "b.csv" in stopped.stderr and "1 file before it was imported and kept" in stopped.stderr
    assert "again" in stopped.stderr
    monkeypatch.setattr(importing, "_import_one", real)
    again = run("import", "in", cwd=tmp_path)
    assert "a.csv: already loaded" in again.stdout and "b.csv (generic)" in again.stdout


def test_synth_refuses_a_warehouse_holding_real_data(registered_dir: Path) -> None:
    refused = run("synth", "--posts", "1000", "--db", "w.duckdb", cwd=registered_dir)
    assert refused.returncode == 1 and "holds real data" in refused.stderr
    assert not (registered_dir / "synth-world").exists()  # refused before generating
    info = run("info", "--db", "w.duckdb", cwd=registered_dir)
    assert "SYNTHETIC" not in info.stdout


def test_a_wrong_setting_is_named_where_it_is_used_and_listed_by_settings(
    registered_dir: Path,
) -> None:
    env = {"GOVSOCIAL_DB": "w.duckdb", "GOVSOCIAL_MEMORY_LIMIT": "lots"}
    info = run("info", cwd=registered_dir, env=env)
    assert info.returncode == 1 and "GOVSOCIAL_MEMORY_LIMIT" in info.stderr
    assert "cannot open the warehouse" not in info.stderr.lower()
    listed = run("settings", cwd=registered_dir, env={"GOVSOCIAL_THREADS": "-1"})
    assert listed.returncode == 1 and "GOVSOCIAL_THREADS" in listed.stderr
    assert "GOVSOCIAL_ENGINE" in listed.stdout  # the other settings are still listed
    (registered_dir / "govsocial.toml").write_text("threads = 2.5\n")
    coerced = run("info", "--db", "w.duckdb", cwd=registered_dir)
    assert coerced.returncode == 1 and "threads" in coerced.stderr and "2.5" in coerced.stderr
    (registered_dir / "govsocial.toml").write_text("threads = 2.5\nmemory_limit = 'lots'\n")
    both = run("settings", cwd=registered_dir)
    assert both.returncode == 1 and both.stderr.count("2.5") == 1  # each problem once
    assert "memory_limit" in both.stderr and "threads" in both.stderr


def test_ctrl_c_during_the_demo_leaves_nothing_half_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import govsocial.demo as demo

    def pressed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "load_world", pressed)
    stopped = run("demo", "--dir", "d", "--posts", "1000", cwd=tmp_path)
    assert stopped.returncode == 130 and "Traceback" not in stopped.stderr
    assert "was not built" in stopped.stderr and "govsocial demo" in stopped.stderr
    assert not (tmp_path / "d" / "govsocial.duckdb").exists()
    assert not (tmp_path / "d" / "govsocial.duckdb.building").exists()


def test_the_demo_never_replaces_a_warehouse_holding_real_data(registered_dir: Path) -> None:
    folder = registered_dir / "d"
    folder.mkdir()
    (registered_dir / "w.duckdb").rename(folder / "govsocial.duckdb")
    before = (folder / "govsocial.duckdb").read_bytes()
    refused = run("demo", "--dir", "d", "--posts", "1000", cwd=registered_dir)
    assert refused.returncode == 1 and "holds real data" in refused.stderr
    assert (folder / "govsocial.duckdb").read_bytes() == before
    (folder / "govsocial.duckdb").write_text("my notes")
    notes = run("demo", "--dir", "d", "--posts", "1000", cwd=registered_dir)
    assert notes.returncode == 1 and (folder / "govsocial.duckdb").read_text() == "my notes"


def test_big_numbers_are_usage_errors(registered_dir: Path) -> None:
    limit = run("quarantine", "list", "--limit", "99999999999999999999", cwd=registered_dir)
    assert limit.returncode == 2 and "This is a bug" not in limit.stderr
    posts = run("synth", "--posts", "100000000", "--no-load", cwd=registered_dir)
    assert posts.returncode == 2 and "This is a bug" not in posts.stderr


def test_empty_option_values_and_install_are_named(registered_dir: Path) -> None:
    write_csv(registered_dir / "p.csv", [post_row()])
    empty = run("import", "p.csv", "--tz", "", "--db", "w.duckdb", cwd=registered_dir)
    assert empty.returncode == 2 and "--tz is empty" in empty.stderr
    install = run("sql", "INSTALL httpfs", "--db", "w.duckdb", cwd=registered_dir)
    assert install.returncode == 1 and "an INSTALL statement" in install.stderr
