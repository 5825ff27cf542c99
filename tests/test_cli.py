"""The command line as a user meets it: real files, exit codes and messages (in-process, through
the same entry point as the installed command; one smoke test runs a real process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REGISTRY_YAML, post_row, run_cli, run_process, write_csv

run = run_cli


def test_smoke_the_installed_command_runs_as_a_process(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    loaded = run_process("registry", "load", "registry.yaml", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    listed = run_process(
        "sql", "SELECT count(*) AS n FROM institutions", "--format", "csv", cwd=tmp_path
    )
    assert listed.stdout == "n\n2\n"
    wrong = run_process("info", "--colour", cwd=tmp_path)
    assert wrong.returncode == 2 and "No such option" in wrong.stderr
    missing = run_process("--db", "nothing.duckdb", "info", cwd=tmp_path)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    # A reader that stops early (`| head -1`) is not an error.
    many = "SELECT * FROM range(2000000)"
    head = subprocess.run(
        f'set -o pipefail; {sys.executable} -m govsocial sql "{many}" --format csv | head -1',
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        executable="/bin/bash",
        env={**os.environ, "GOVSOCIAL_DB": "govsocial.duckdb"},
    )
    assert (head.returncode, head.stdout, head.stderr) == (0, "range\n", "")
    listing = subprocess.run(
        f"set -o pipefail; {sys.executable} -m govsocial registry list | head -1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        executable="/bin/bash",
    )
    assert listing.returncode == 0 and listing.stderr == "", listing.stderr


def test_registry_import_sql_and_info_round_trip(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    loaded = run("registry", "load", "registry.yaml", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "2 new institutions and 0 updated, 3 new accounts and 0 updated" in loaded.stdout
    assert (tmp_path / "govsocial.duckdb").exists()  # the default path, in the current folder
    write_csv(tmp_path / "posts.csv", [post_row(), post_row(post_id="p2", likes=-1)])
    imported = run("import", "posts.csv", "--json", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    (summary,) = json.loads(imported.stdout)
    assert (summary["posts_new"], summary["quarantined"]) == (1, {"negative_count": 1})
    again = run("import", "posts.csv", cwd=tmp_path)
    assert "already loaded" in again.stdout and "0 new posts" in again.stdout
    result = run(
        "sql", "SELECT platform, platform_post_id FROM posts", "--format", "json", cwd=tmp_path
    )
    assert json.loads(result.stdout) == [{"platform": "instagram", "platform_post_id": "p1"}]
    csv_out = run(
        "sql", "SELECT institution_id FROM institutions ORDER BY 1", "--format", "csv", cwd=tmp_path
    )
    assert csv_out.stdout.splitlines() == ["institution_id", "jabarprov", "kemenkes"]
    info = run("info", cwd=tmp_path)
    assert info.returncode == 0 and "Posts: 1 " in info.stdout and "SYNTHETIC" not in info.stdout


def test_db_from_env_and_config_file(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    assert (
        run(
            "registry", "load", "registry.yaml", cwd=tmp_path, env={"GOVSOCIAL_DB": "env.duckdb"}
        ).returncode
        == 0
    )
    assert (tmp_path / "env.duckdb").exists()
    (tmp_path / "govsocial.toml").write_text('db = "env.duckdb"\n')
    listed = run("registry", "list", cwd=tmp_path)
    assert "jabarprov" in listed.stdout
    settings = run("settings", cwd=tmp_path)
    assert "env.duckdb" in settings.stdout and "file" in settings.stdout


def test_errors_are_one_paragraph_without_traceback(tmp_path: Path) -> None:
    missing = run("info", cwd=tmp_path)
    assert missing.returncode == 1
    assert "No warehouse at govsocial.duckdb" in missing.stderr
    assert "GOVSOCIAL_DB" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "bad.yaml").write_text("institutions:\n  - {id: a, name: A, cluster: nope}\n")
    bad = run("registry", "load", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 1 and "unknown cluster 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr
    (tmp_path / "junk.duckdb").write_bytes(b"junk" * 1000)
    corrupt = run("--db", "junk.duckdb", "info", cwd=tmp_path)
    assert corrupt.returncode == 1 and "junk.duckdb is not a DuckDB warehouse" in corrupt.stderr
    debug = run("--debug", "--db", "junk.duckdb", "info", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_wrong_options_and_write_sql_are_refused(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    run("registry", "load", "registry.yaml", cwd=tmp_path)
    unknown = run("info", "--colour", cwd=tmp_path)
    assert unknown.returncode == 2 and "No such option: --colour" in unknown.stderr
    bad_format = run("sql", "SELECT 1", "--format", "xml", cwd=tmp_path)
    assert bad_format.returncode == 2 and "'xml' is not one of" in bad_format.stderr
    write = run("sql", "DELETE FROM institutions", cwd=tmp_path)
    assert write.returncode == 1 and "only reads" in write.stderr
    count = run("sql", "SELECT count(*) AS n FROM institutions", "--format", "csv", cwd=tmp_path)
    assert count.stdout.splitlines() == ["n", "2"]
    write_csv(tmp_path / "good.csv", [post_row()])
    mixed = run("import", "registry.yaml", "missing.csv", "good.csv", cwd=tmp_path)
    assert mixed.returncode == 1
    assert "registry.yaml: the format could not be recognised" in mixed.stderr
    assert "missing.csv: no such file" in mixed.stderr
    assert "good.csv (generic): 1 record, 1 new post," in mixed.stdout  # the good one loaded
    wrong = run("import", "good.csv", "--format", "crowdtangel", cwd=tmp_path)
    assert wrong.returncode == 2 and "unknown format 'crowdtangel'" in wrong.stderr


def test_quarantine_list_show_and_assign_to(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(REGISTRY_YAML)
    run("registry", "load", "registry.yaml", cwd=tmp_path)
    rows = [
        post_row(),
        post_row(post_id="p2", media_type="gif"),
        post_row(post_id="p3", platform="tiktok", account_platform_id="", account_handle="baru"),
    ]
    write_csv(tmp_path / "posts.csv", rows)
    unknown = run("import", "posts.csv", "--assign-to", "nope", cwd=tmp_path)
    assert unknown.returncode == 1 and "no institution 'nope'" in unknown.stderr
    done = run("import", "posts.csv", "--assign-to", "kemenkes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "quarantined: unknown_media_type 1" in done.stdout
    assert "1 account assigned to kemenkes" in done.stdout
    owner = run(
        "sql",
        "SELECT institution_id FROM accounts WHERE handle = 'baru'",
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert owner.stdout.splitlines() == ["institution_id", "kemenkes"]
    listed = run("quarantine", "list", "--format", "csv", cwd=tmp_path)
    assert "posts.csv, row 2" in listed.stdout and "unknown_media_type" in listed.stdout
    batch = listed.stdout.splitlines()[1].split(",")[0]
    shown = run("quarantine", "show", f"{batch}:2", cwd=tmp_path)
    assert shown.returncode == 0 and "media_type gif is not one of" in shown.stdout
    assert '"post_id": "p2"' in shown.stdout
    bad = run("quarantine", "show", "two", cwd=tmp_path)
    assert bad.returncode == 2 and "BATCH:RECORD" in bad.stderr
    # The advice for unassigned accounts works on a file already loaded, too.
    write_csv(
        tmp_path / "more.csv",
        [post_row(post_id="p9", platform="x", account_platform_id="", account_handle="lain")],
    )
    first = run("import", "more.csv", cwd=tmp_path)
    assert "kept unassigned: x:@lain" in first.stdout
    again = run("import", "more.csv", "--assign-to", "jabarprov", cwd=tmp_path)
    assert "already loaded" in again.stdout and "1 account assigned to jabarprov" in again.stdout
    when = run("import", "posts.csv", "--captured-at", "yesterday", cwd=tmp_path)
    assert when.returncode == 2 and "--captured-at" in when.stderr
