from pathlib import Path

import duckdb
import pytest

from govsocial.config import SETTINGS, resolve
from govsocial.errors import ConfigError, UsageError
from govsocial.store import Warehouse

NOWHERE = Path("/nonexistent-folder-for-govsocial-tests")


def settings_file(folder: Path, text: str, encoding: str = "utf-8") -> Path:
    path = folder / "govsocial.toml"
    path.write_text(text, encoding=encoding)
    return path


def test_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    settings_file(tmp_path, 'db = "from-file.duckdb"\n')
    env = {"GOVSOCIAL_DB": "from-env.duckdb"}
    assert resolve("db", "from-flag.duckdb", env=env, cwd=tmp_path).value == "from-flag.duckdb"
    assert resolve("db", env=env, cwd=tmp_path).value == "from-env.duckdb"
    resolved = resolve("db", env={}, cwd=tmp_path)
    assert resolved.value == "from-file.duckdb"
    assert resolved.origin.startswith("file ")
    assert resolve("db", env={}, cwd=tmp_path / "nowhere").value == SETTINGS["db"].default


def test_unknown_setting_in_file_names_its_line_and_the_valid_ones(tmp_path: Path) -> None:
    settings_file(tmp_path, '# mine\ndbb = "x"\n')
    with pytest.raises(ConfigError, match=r"toml, line 2: unknown setting.*dbb.*Valid settings: "):
        resolve("db", env={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("name", "raw", "reason"),
    [
        ("threads", "-1", "it is negative"),
        ("threads", "2.5", "not a whole number"),
        ("threads", "many", "not a whole number"),
        ("memory_limit", "lots", "not a number followed by a unit"),
        ("memory_limit", "8", "it has no unit"),
        ("memory_limit", "8 PB", "'PB' is not a unit"),
        ("memory_limit", "150%", "at most 100%"),
        ("memory_limit", "0GB", "it is zero"),
        ("engine", "sparky", None),
    ],
)
def test_a_wrong_environment_variable_names_itself_what_is_allowed_and_every_way(
    name: str, raw: str, reason: str | None
) -> None:
    setting = SETTINGS[name]
    with pytest.raises(ConfigError) as caught:
        resolve(name, env={setting.env_var: raw}, cwd=NOWHERE)
    message = str(caught.value)
    assert type(caught.value) is ConfigError and caught.value.exit_code == 1
    assert message.startswith(
        f"The {setting.env_var} environment variable sets '{name}' to {raw!r}"
    )
    if reason:
        assert reason in message
    assert f"'{name}' must be {setting.allowed()}" in message
    assert message.endswith(f"Change it with {setting.ways_to_set()}.")


@pytest.mark.parametrize(
    ("text", "shown", "reason"),
    [
        ("threads = 2.5\n", "2.5", "it is a decimal number"),
        ("threads = true\n", "true", "it is a true/false value"),  # a bool is an int to Python
        ("threads = -3\n", "-3", "it is negative"),
        ('threads = "2.5"\n', "'2.5'", "not a whole number"),
        ("memory_limit = 8\n", "8", "it is a whole number, not text in quotes"),
        ('engine = "spork"\n', "'spork'", None),
        ('db = ""\n', "''", "it is empty"),
    ],
)
def test_a_wrong_value_in_the_file_names_the_file_and_line(
    tmp_path: Path, text: str, shown: str, reason: str | None
) -> None:
    path = settings_file(tmp_path, "# settings for the 2025 edition\n\n" + text)
    name = text.split(" ")[0]
    with pytest.raises(ConfigError) as caught:
        resolve(name, env={}, cwd=tmp_path)
    message = str(caught.value)
    assert message.startswith(f"Line 3 of {path} sets '{name}' to {shown}")
    if reason:
        assert reason in message
    assert SETTINGS[name].allowed() in message


def test_a_wrong_flag_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="The --engine option sets 'engine' to 'sparky'") as caught:
        resolve("engine", "sparky", env={}, cwd=tmp_path)
    assert caught.value.exit_code == 2
    assert "one of: duckdb, spark" in str(caught.value)
    with pytest.raises(UsageError, match="The --db option sets 'db' to ''"):
        resolve("db", "", env={}, cwd=tmp_path)


def test_good_values_are_read_in_their_kind(tmp_path: Path) -> None:
    env = {
        "GOVSOCIAL_THREADS": " 4 ",
        "GOVSOCIAL_MEMORY_LIMIT": " 3 GiB ",
        "GOVSOCIAL_ENGINE": "Spark",
    }
    assert resolve("threads", env=env, cwd=NOWHERE).value == 4
    assert resolve("memory_limit", env=env, cwd=NOWHERE).value == "3 GiB"
    assert resolve("engine", env=env, cwd=NOWHERE).value == "spark"
    assert resolve("db", tmp_path / "x.duckdb", env={}, cwd=NOWHERE).value == str(
        tmp_path / "x.duckdb"
    )
    settings_file(tmp_path, 'memory_limit = ""\nthreads = 0\n')
    assert resolve("memory_limit", env={}, cwd=tmp_path).value == ""  # DuckDB's own default
    assert resolve("threads", env={}, cwd=tmp_path).value == 0


# What DuckDB 2.0.1's `SET memory_limit` refuses (the form; too-small values it refuses only
# when it runs out of memory, so they are not listed).
DUCKDB_REFUSES = ["lots", "8", "1e3", "150%", "-5%", "8PB", "1,5GB", "1_000MB", "+1GB", "GB8"]
WE_ACCEPT = ["8GB", "8 gb", "512MB", "3 GiB", "1.5GB", ".5TB", "2 TiB", "80%", "80.5%", "4G"]


@pytest.mark.parametrize("raw", WE_ACCEPT)
def test_every_memory_size_we_accept_is_accepted_by_duckdb(raw: str) -> None:
    value = resolve("memory_limit", env={"GOVSOCIAL_MEMORY_LIMIT": raw}, cwd=NOWHERE).value
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{value}'")
    con.close()


@pytest.mark.parametrize("raw", DUCKDB_REFUSES)
def test_every_memory_size_duckdb_refuses_is_refused_when_read(raw: str) -> None:
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        con.execute(f"SET memory_limit = '{raw}'")
    con.close()
    with pytest.raises(ConfigError, match="GOVSOCIAL_MEMORY_LIMIT environment variable sets"):
        resolve("memory_limit", env={"GOVSOCIAL_MEMORY_LIMIT": raw}, cwd=NOWHERE)


def test_a_wrong_setting_is_named_instead_of_blaming_the_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOVSOCIAL_CONFIG", raising=False)
    monkeypatch.setenv("GOVSOCIAL_THREADS", "-1")
    path = tmp_path / "new.duckdb"
    with pytest.raises(ConfigError, match="GOVSOCIAL_THREADS environment variable sets 'threads'"):
        Warehouse.open(path, create=True)
    assert not path.exists()


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    settings_file(tmp_path, "threads = 3\n", encoding="utf-8-sig")
    assert resolve("threads", env={}, cwd=tmp_path).value == 3


def test_bad_toml_names_the_file_line_and_column_and_the_fix(tmp_path: Path) -> None:
    path = settings_file(tmp_path, "threads = 2\ndb = \n")
    with pytest.raises(ConfigError) as caught:
        resolve("db", env={}, cwd=tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 2, column 6: not valid TOML (invalid value).")
    assert "`name = value`, text in double quotes" in message
    settings_file(tmp_path, 'db = "unclosed\n')
    with pytest.raises(ConfigError, match=r"toml, line 1, column 15: not valid TOML"):
        resolve("db", env={}, cwd=tmp_path)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "govsocial.toml").write_bytes(b'threads = 2\ndb = "caf\xe9.duckdb"\n')
    with pytest.raises(ConfigError, match=r"toml, line 2: not UTF-8 text \(byte 0xe9\)"):
        resolve("db", env={}, cwd=tmp_path)


def test_govsocial_config_is_read_from_the_given_environment(tmp_path: Path) -> None:
    path = settings_file(tmp_path, 'engine = "spark"\n')
    resolved = resolve("engine", env={"GOVSOCIAL_CONFIG": str(path)}, cwd=NOWHERE)
    assert resolved == type(resolved)("spark", f"file {path}")


def test_option_help_comes_from_the_table() -> None:
    assert SETTINGS["db"].option_help() == (
        "Path of the DuckDB warehouse file. [env: GOVSOCIAL_DB; default: ./govsocial.duckdb]"
    )
    engine = SETTINGS["engine"].option_help()
    assert engine.startswith(SETTINGS["engine"].help)
    assert engine.endswith("[env: GOVSOCIAL_ENGINE; default: duckdb; one of: duckdb, spark]")
