"""Settings: the one place that reads the environment and the config file.

Precedence, highest first: values passed in (CLI flags), `CITECHAT_*` environment
variables, the TOML config file (`citechat.toml` in the working directory, or the path
in `CITECHAT_CONFIG`), then the defaults below. Values are validated at once, so a bad
setting fails before anything is opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rag.errors import ConfigError

CONFIG_FILE = "citechat.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITECHAT_", extra="ignore")

    data_dir: Path = Path(".citechat")
    collection: str = "citechat"
    chunk_size: int = Field(400, ge=50, le=20_000)
    chunk_overlap: int = Field(0, ge=0)
    # passages fill `context_chars`; `k`, when set, caps how many chunks they may be
    k: int | None = Field(None, ge=1, le=100)
    context_chars: int = Field(4000, ge=200)
    chroma_url: str | None = None
    embedding: Literal["onnx", "openai"] = "onnx"
    embedding_batch_tokens: int = Field(256, ge=16, le=65_536)
    ingest_batch_chunks: int = Field(512, ge=1)  # chunks embedded and written at once, at most
    openai_embedding_model: str = "text-embedding-3-small"
    engine: Literal["extractive", "openai"] = "extractive"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout: float = Field(60.0, gt=0)
    temperature: float = Field(0.0, ge=0, le=2)
    max_file_mb: float = Field(50.0, gt=0)
    refusal_threshold: float | None = None
    refusal_model: bool = False  # the answerability model also refuses (docs/answers.md)
    shared_chats: bool = False  # the app: one chat list for every visitor, not one each
    drop_unsupported: bool = False  # remove answer sentences their citations don't support
    # `citechat serve` / `citechat mcp --http`; without keys only a loopback host is allowed
    host: str = "127.0.0.1"
    port: int = Field(8400, ge=1, le=65_535)
    api_keys: Annotated[list[str], NoDecode] = []  # CITECHAT_API_KEYS: comma-separated

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        # Chroma's own rule for collection names, checked here so the message is ours.
        if not (3 <= len(value) <= 63) or not value[0].isalnum() or not value[-1].isalnum():
            raise ValueError("must be 3-63 characters, starting and ending with a letter or digit")
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("CITECHAT_CONFIG", CONFIG_FILE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file))


def load_settings(**overrides: object) -> Settings:
    """Settings with `overrides` (CLI flags; None means 'not given') on top.

    Raises ConfigError with one readable line instead of pydantic's report.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ConfigError(f"Invalid setting {where}: {first['msg']}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read the config file: {exc}") from None
