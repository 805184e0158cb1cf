"""The sidebar's model settings (rag/app/model_settings.py): saved beside the data, the
key with mode 0600 and never in the choice file; the server's models listed through the
`openai` client against the local fake server; every failure one line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from rag.app import model_settings as ms
from rag.config import Settings, load_settings
from rag.errors import ConfigError, ModelUnavailable

from app_server import free_port
from fake_openai_server import FakeOpenAIServer


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", openai_model="gpt-4o-mini")


def test_defaults_come_from_the_settings_until_a_choice_is_saved(settings: Settings) -> None:
    assert ms.saved_choice(settings) == ms.ModelChoice(None, "gpt-4o-mini")
    ms.save_choice(settings.data_dir, " http://127.0.0.1:9/v1/ ", " fake ")
    assert ms.saved_choice(settings) == ms.ModelChoice("http://127.0.0.1:9/v1", "fake")
    applied = ms.applied(settings)
    assert (applied.openai_base_url, applied.openai_model) == ("http://127.0.0.1:9/v1", "fake")


def test_the_key_is_kept_0600_apart_from_the_choice(settings: Settings) -> None:
    ms.save_choice(settings.data_dir, "", "fake")
    ms.save_key(settings.data_dir, "sk-secret-1")
    key_file = settings.data_dir / ms.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "sk-secret" not in (settings.data_dir / ms.CHOICE_FILE).read_text()
    assert ms.applied(settings).openai_api_key == "sk-secret-1"
    key_file.chmod(0o644)
    ms.save_key(settings.data_dir, "sk-secret-2")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and ms.saved_key(settings.data_dir) \
        == "sk-secret-2"
    assert "sk-secret-2" not in ms.fingerprint(ms.applied(settings))


@pytest.mark.parametrize(("url", "model"), [("ftp://x", "m"), ("localhost:8000", "m"),
                                            ("http://x/v1", " ")])
def test_bad_choices_are_refused_with_one_line(settings: Settings, url: str, model: str) -> None:
    with pytest.raises(ConfigError) as raised:
        ms.save_choice(settings.data_dir, url, model)
    assert "\n" not in str(raised.value)
    assert not (settings.data_dir / ms.CHOICE_FILE).exists()


def test_an_unreadable_choice_falls_back_to_the_settings(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / ms.CHOICE_FILE).write_text("[1, 2")
    assert ms.saved_choice(settings).model == "gpt-4o-mini"


def test_models_are_listed_and_the_connection_checked_with_the_key() -> None:
    with FakeOpenAIServer() as server:
        assert ms.listed_models(server.base_url, "sk-x") == ["fake"]
        assert ms.check_connection(server.base_url, "sk-x", "fake") == \
            f"Connected to {server.base_url}: 1 model."
        with pytest.raises(ModelUnavailable, match="lists no model 'gpt-9'"):
            ms.check_connection(server.base_url, None, "gpt-9")
    assert server.authorizations[0] == "Bearer sk-x"


@pytest.mark.parametrize(("make_url", "says"), [
    (lambda server: f"http://127.0.0.1:{free_port()}/v1", "Cannot reach a model server"),
    (lambda server: server.base_url.removesuffix("/v1"), "answered 404 to /models"),
])
def test_a_wrong_url_is_one_line(make_url, says: str) -> None:
    with FakeOpenAIServer() as server:
        url = make_url(server)
        with pytest.raises(ModelUnavailable) as raised:
            ms.check_connection(url, None, "fake")
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_a_rejected_key_is_one_line() -> None:
    with FakeOpenAIServer(fail_with=401) as server, pytest.raises(ModelUnavailable) as raised:
        ms.listed_models(server.base_url, "sk-wrong")
    assert str(raised.value) == f"The model server at {server.base_url} rejected the API key."
