from pathlib import Path

import pytest

from govsocial.config import SETTINGS, resolve
from govsocial.errors import ConfigError


def test_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    (tmp_path / "govsocial.toml").write_text('db = "from-file.duckdb"\n')
    env = {"GOVSOCIAL_DB": "from-env.duckdb"}
    assert resolve("db", "from-flag.duckdb", env=env, cwd=tmp_path).value == "from-flag.duckdb"
    assert resolve("db", env=env, cwd=tmp_path).value == "from-env.duckdb"
    resolved = resolve("db", env={}, cwd=tmp_path)
    assert resolved.value == "from-file.duckdb"
    assert resolved.origin.startswith("file ")
    assert resolve("db", env={}, cwd=tmp_path / "nowhere").value == SETTINGS["db"].default


def test_unknown_setting_in_file_names_valid_ones(tmp_path: Path) -> None:
    (tmp_path / "govsocial.toml").write_text('dbb = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting.*dbb.*Valid settings: .*db"):
        resolve("db", env={}, cwd=tmp_path)


def test_bad_toml_and_bad_types_explain_themselves(tmp_path: Path) -> None:
    (tmp_path / "govsocial.toml").write_text("db = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve("db", env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="whole number.*GOVSOCIAL_THREADS.*govsocial.toml"):
        resolve("threads", env={"GOVSOCIAL_THREADS": "many"}, cwd=tmp_path / "x")
