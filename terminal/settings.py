"""How each program on a device (the kiosk, the gate, the cabinet agent) loads its settings, in one way: the
command line's options over the environment (`ESTATE_KIOSK_*`, `ESTATE_GATE_*`, `ESTATE_CABINET_*`) over a TOML
file (`--config PATH`, or the file `ESTATE_<PROGRAM>_CONFIG` names) over the defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict


class ProgramSettings(BaseSettings):
    """A program's settings; a subclass names its environment prefix (and, if its file may hold the settings in a
    table of their own, that table)."""

    model_config = SettingsConfigDict(extra="forbid", env_nested_delimiter="__")
    table: ClassVar[str | None] = None  # e.g. "kiosk": the file's [kiosk] table, when it has one, holds the settings

    config: Path | None = None  # the TOML file read under the environment

    @classmethod
    def load(cls, path: Path | None, **options: Any) -> Self:
        """The settings, with the file `path` (if given) and the options that were given (not None) on top."""
        given = {name: value for name, value in options.items() if value is not None}
        return cls(**given) if path is None else cls(config=path, **given)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(init_settings, InitSettingsSource)
        path = init_settings.init_kwargs.get("config") or os.environ.get(f"{cls.model_config['env_prefix']}CONFIG")
        if not path:
            return init_settings, env_settings
        return init_settings, env_settings, InitSettingsSource(settings_cls, cls.file_values(Path(path)))

    @classmethod
    def file_values(cls, path: Path) -> dict[str, Any]:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        table = data.get(cls.table) if cls.table else None
        return dict(table if isinstance(table, dict) else data)
