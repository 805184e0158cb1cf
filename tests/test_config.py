"""rag/config.py: flags over `CITECHAT_*` variables over the TOML file over the defaults,
the file found in the working directory or at `CITECHAT_CONFIG`, and every bad value a
one-line ConfigError naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import CONFIG_FILE, load_settings
from rag.errors import ConfigError

from test_cli import assert_clean_failure, citechat


@pytest.fixture
def toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Writes the config file that CITECHAT_CONFIG points at."""
    path = tmp_path / "settings.toml"
    monkeypatch.setenv("CITECHAT_CONFIG", str(path))

    def write(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        return path

    return write


# (in the TOML file, in the environment, as a flag) -> the value that wins
@pytest.mark.parametrize(("in_file", "in_env", "as_flag", "wins"), [
    (None, None, None, None),  # the default: no cap, the context budget decides
    (7, None, None, 7),
    (None, 9, None, 9),
    (7, 9, None, 9),
    (7, None, 11, 11),
    (7, 9, 11, 11),
])
def test_flags_over_environment_over_file_over_defaults(
        toml, monkeypatch: pytest.MonkeyPatch, in_file, in_env, as_flag, wins) -> None:
    toml("" if in_file is None else f"k = {in_file}\n")
    if in_env is not None:
        monkeypatch.setenv("CITECHAT_K", str(in_env))
    assert load_settings(k=as_flag).k == wins


def test_each_setting_comes_from_its_own_highest_source(
        toml, monkeypatch: pytest.MonkeyPatch) -> None:
    toml('engine = "openai"\nopenai_model = "llama3.1"\nk = 7\nchunk_size = 600\n')
    monkeypatch.setenv("CITECHAT_OPENAI_MODEL", "qwen2.5")
    monkeypatch.setenv("CITECHAT_K", "9")
    settings = load_settings(k=3, engine=None)  # None: the flag was not given
    assert (settings.engine, settings.openai_model, settings.k, settings.chunk_size) == (
        "openai", "qwen2.5", 3, 600)
    assert settings.collection == "citechat"  # nowhere given: the default


def test_the_file_in_the_working_directory_is_read_without_citechat_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITECHAT_CONFIG")
    monkeypatch.chdir(tmp_path)
    assert load_settings().k is None
    (tmp_path / CONFIG_FILE).write_text("k = 12\n", encoding="utf-8")
    assert load_settings().k == 12


@pytest.mark.parametrize(("where", "text", "message"), [
    ("env", "CITECHAT_K=0", r"^Invalid setting k: Input should be greater than or equal to 1$"),
    ("env", "CITECHAT_K=many", r"^Invalid setting k: Input should be a valid integer"),
    ("env", "CITECHAT_ENGINE=gpt", r"^Invalid setting engine: Input should be 'extractive' "
                                   r"or 'openai'$"),
    ("file", "collection = \"a\"", r"^Invalid setting collection: .*3-63 characters"),
    ("file", "chunk_size = 400\nchunk_overlap = 400",
     r"^Invalid setting settings: .*chunk_overlap must be smaller than chunk_size$"),
    ("file", "k = [1, 2", r"^Cannot read the config file: "),
    ("flag", "temperature=9", r"^Invalid setting temperature: Input should be less than or "
                              r"equal to 2$"),
])
def test_a_bad_value_is_one_line_naming_the_setting(
        toml, monkeypatch: pytest.MonkeyPatch, where: str, text: str, message: str) -> None:
    flags = {}
    if where == "env":
        monkeypatch.setenv(*text.split("=", 1))
    elif where == "file":
        toml(text + "\n")
    else:
        name, value = text.split("=")
        flags[name] = float(value)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(**flags)
    assert "\n" not in str(caught.value)


def test_a_missing_config_file_is_no_error_and_changes_nothing(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setenv("CITECHAT_CONFIG", str(tmp_path / "nowhere.toml"))
    assert load_settings() == load_settings(chunk_size=400)  # a default, given as a flag


def test_openai_variables_of_the_environment_are_not_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    settings = load_settings()
    assert settings.openai_base_url is None and settings.openai_api_key is None


def test_the_command_line_flag_wins_over_the_environment_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "citechat.toml"
    config.write_text('collection = "from-file"\n', encoding="utf-8")
    result = citechat("--collection", "x", "docs", data_dir=tmp_path / "data",
                      env={"CITECHAT_CONFIG": str(config), "CITECHAT_COLLECTION": "from-env"})
    assert_clean_failure(result, "error: Invalid setting collection: ")
