"""One settings object for the server: `ESTATE_*` environment variables over an optional TOML file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from server.contract.zones import DEFAULT_ZONE
from server.domain.throttle import LOCK_OUT

DEFAULT_CONFIG_FILE = Path("estate.toml")


def _config_file() -> Path:
    return Path(os.environ.get("ESTATE_CONFIG", DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    """Server configuration. Environment variables win over `estate.toml` (or the file `ESTATE_CONFIG` names)."""

    model_config = SettingsConfigDict(env_prefix="ESTATE_", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the SQLite database, keys and uploads live.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite at <data_dir>/estate.db.")
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = Field(DEFAULT_ZONE, description="The zone of new estates (`estate estates add --timezone`).")
    default_language: str = "zh"
    secure_cookies: bool = Field(
        False, description="Mark session cookies Secure even on plain HTTP (they always are over HTTPS)."
    )
    session_hours: int = 12
    login_max_failures: int = Field(
        LOCK_OUT.max_failures, description="Failed logins per user or address before a lock-out."
    )
    login_lockout_minutes: int = LOCK_OUT.minutes
    gate_clock_skew_minutes: int = Field(
        10, ge=0, description="How far a gate's clock may be off before its offline times become conflicts."
    )
    page_size: int = 25
    device_version: str = Field(
        "", description="The software version devices should run (`estate install … --upgrade`); empty: the server's."
    )
    service_desk_phone: str = Field(
        "", description="The CS centre's phone, printed on the note left when nobody is home (《留言条》, R-CLN-3)."
    )
    overdue_sweep_seconds: int = Field(
        60, ge=0, description="How often the server flags overdue key loans (R-KEY-12, 14); 0: never (use the CLI)."
    )
    service_sweep_seconds: int = Field(
        60,
        ge=0,
        description="How often the server escalates late service orders, forms and call tasks to the supervisor; "
        "0: never (use `estate service sweep`).",
    )
    service_slot_days: int = Field(5, ge=1, le=14, description="How many working days ahead the kiosk offers visits.")
    repair_slot_capacity: int = Field(4, ge=0, description="Repair visits engineering can make in one time slot.")
    cleaning_slot_capacity: int = Field(2, ge=0, description="Cleaning visits environment can make in one time slot.")
    ac_season_months: str = Field(
        "5-10",
        pattern=r"^(1[0-2]|[1-9])(-(1[0-2]|[1-9]))?(,(1[0-2]|[1-9])(-(1[0-2]|[1-9]))?)*$",
        description="The air-conditioning season's months, when the daily check sheet needs two temperatures a day "
        '(R-DUTY-8): "5-10" for May to October, "6,7,8", or "11-2" across the new year.',
    )
    vacant_fee_percent: int = Field(
        100,
        ge=0,
        le=100,
        description="The share of the full management fee a vacant unit is charged, as the city's rules set it "
        "(R-VAC-5); the monthly vacant-unit statistics show it against each unit's vacant days.",
    )
    developer_repair_days: int = Field(
        15,
        ge=1,
        le=120,
        description="Working days the developer has to repair a failure agreed at the takeover or a warranty "
        "defect found on a patrol (R-VAC-1, 2), from the report and again from each reopening.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'estate.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
