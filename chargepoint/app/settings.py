"""Station settings: a TOML file overridden by CHARGEPOINT_* environment variables.

Settings describe the installation (where the CSMS is, which hardware is fitted); they are
fixed for the life of the process. Behaviour the CSMS may change lives in configuration keys
instead (configkeys/), so the two never compete for the same value.
"""

from __future__ import annotations

import difflib
import os
import shlex
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from chargepoint.control.web.access import page_problem, parse_bind
from configkeys import FeatureProfile, StationModel, get_profile
from drivers.meter_url import MeterSpec, parse_meter_url

ENV_PREFIX = "CHARGEPOINT_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
SECRET_SETTINGS = frozenset({"password", "web_password"})


class SettingsError(Exception):
    """A setting that stops the station from starting; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    csms_url: str = "ws://127.0.0.1:9000/ocpp"
    identity: str = "CP001"
    profile: Literal["wemob", "wallbox"] = "wemob"
    model: str | None = None
    # Bench: feature profiles served beyond the vendor's own, for testing a CSMS (["Reservation"]).
    extra_profiles: list[str] = Field(default_factory=list)
    # ReserveConnectorZeroSupported where Reservation is served; the CSMS may only read it (§9.3.1).
    reserve_connector_zero: bool = False
    additional_root_certificate_check: bool = False
    connectors: int | None = Field(default=None, ge=1, le=8)
    data_dir: Path = Path("/var/lib/chargepoint")
    meters: list[str] | None = None
    password: SecretStr | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # The key pair the station makes for a new client certificate (SignCertificate).
    client_key_type: Literal["ec-p256", "rsa-2048"] = "ec-p256"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    frame_log: Path | None = None
    # The frame log's own rotation: a board's flash holds at most max_bytes × files of frames.
    frame_log_max_bytes: int = Field(default=5 * 1024 * 1024, ge=64 * 1024, le=1024**3)
    frame_log_files: int = Field(default=2, ge=1, le=100)  # the current file included
    response_timeout: int = Field(default=30, ge=1, le=3600)  # the initial MessageTimeout key
    reconnect_max_delay: float = Field(default=60.0, ge=0.1, le=3600)
    ev_power_w: float = Field(default=7400.0, gt=0, le=400_000)
    # Bench: an AC car that tells its SoC (ISO 15118); a DC car always does. See `ev N battery`.
    ev_reports_soc: bool = False
    # The hardware's own cap on every connector; charging profiles may only lower it (§3.13).
    max_current_a: float = Field(default=32.0, ge=6, le=500)
    nominal_voltage: float = Field(default=230.0, ge=100, le=480)  # amperes <-> watts in profiles
    # WEMOB commissioning: 0 Always Authorized (free vend), 1 Local List only, 2 OCPP server.
    authorization_mode: Literal[0, 1, 2] = 2
    free_vend_id_tag: str = Field(default="FREEVEND", min_length=1, max_length=20)
    reboot_command: str | None = None  # Hard reset on a board, e.g. "systemctl reboot"
    # Firmware Management: the board's installer ({file} is the image), else a simulated install.
    firmware_install_command: str | None = None
    firmware_install_timeout: float = Field(default=900.0, gt=0, le=86_400)
    firmware_version_file: Path | None = None  # where an installed image states its version
    firmware_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    file_transfer_timeout: float = Field(default=60.0, gt=0, le=3600)  # s without progress
    log_max_bytes: int = Field(default=5 * 1024 * 1024, ge=64 * 1024)  # the station log's, one old file kept
    # The day that WEMOB's SilentModeSchedule counts seconds in: UTC, like the clock-aligned grid.
    timezone: str = "UTC"
    # Each transaction reading of the energy register also as an OCMF record signed with the
    # station's key in data_dir (metering.signing), for a CSMS to prove it untampered.
    signed_meter_values: bool = False
    # The bench's web page (`run --web` overrides it): HOST:PORT; off loopback only with web_password.
    web: str | None = None
    web_password: SecretStr | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init values; listing env first lets it win over them.
        return (env_settings, init_settings)

    @field_validator("csms_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError("must be a ws:// or wss:// URL with a host")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_name(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError("must be an IANA time zone name, e.g. \"Europe/Lisbon\" or \"UTC\"") from None
        return value

    @field_validator("firmware_install_command")
    @classmethod
    def _install_command(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise ValueError(f"cannot be split into words: {exc}") from None
            if not words or not any("{file}" in word for word in words):
                raise ValueError("must name the image as {file}, e.g. \"rauc install {file}\"")
        return value

    @field_validator("password")
    @classmethod
    def _printable(cls, value: SecretStr | None) -> SecretStr | None:
        """Any text a CSMS may have issued; which forms a SecurityProfile can use is the link's
        rule (chargepoint.link.security), since only the key store knows the profile in force."""
        if value is not None and not (value.get_secret_value() and value.get_secret_value().isprintable()):
            raise ValueError(
                "must be printable text: 16 to 20 characters or 32 to 40 hexadecimal digits"
                " (under SecurityProfile 0, any printable password)"
            )
        return value

    @field_validator("web")
    @classmethod
    def _web_bind(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bind(value)
        return value

    @model_validator(mode="after")
    def _web_password(self) -> Settings:
        problem = page_problem(self.web, self.web_secret)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def web_secret(self) -> str | None:
        return self.web_password.get_secret_value() if self.web_password else None

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        """Logging's names are upper case; people write `debug` or `Info` as well."""
        return value.upper() if isinstance(value, str) else value

    @field_validator("identity")
    @classmethod
    def _identity(cls, value: str) -> str:
        # The Security Whitepaper caps the identity at 48 printable characters.
        if not 1 <= len(value) <= 48 or not value.isprintable():
            raise ValueError("must be 1 to 48 printable characters")
        return value

    @model_validator(mode="after")
    def _hardware(self) -> Settings:
        try:
            station = self.station_model
        except (KeyError, ValueError) as exc:
            raise ValueError(f"model: {exc.args[0] if exc.args else exc}") from None
        if len(bytes(self.control_socket)) > 107:
            raise ValueError(f"data_dir: {self.data_dir} is too long to hold the control socket (Unix paths stop at 107 bytes)")
        for name in ("tls_ca", "tls_cert", "tls_key"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: {path} is not a readable file")
        if self.tls_key is not None and self.tls_cert is None:
            raise ValueError("tls_key: given without tls_cert")
        for name in ("tls_key", "tls_cert"):  # a certificate file may hold the private key too
            path = getattr(self, name)
            if path is not None and (name == "tls_key" or _private_key_in(path)) and _world_readable(path):
                raise ValueError(f"{name}: {path} holds a private key readable by every user ({_mode(path)}); chmod 600 or 640 it")
        if self.connectors is None:
            self.connectors = station.connectors
        if self.meters is None:
            self.meters = ["sim"] * self.connectors
        if len(self.meters) != self.connectors:
            raise ValueError(f"meters: needs one entry per connector ({self.connectors}), got {len(self.meters)}")
        for meter in self.meters:
            try:
                parse_meter_url(meter)
            except ValueError as exc:
                raise ValueError(f"meters: {exc}") from None
        return self

    @model_validator(mode="after")
    def _profiles(self) -> Settings:
        if self.extra_profiles:
            # Late: only a station given extra profiles pays for loading every feature here.
            from chargepoint.app.features import IMPLEMENTED

            addable = [p.value for p in FeatureProfile if p in IMPLEMENTED and p not in self.station_model.feature_profiles]
            for name in self.extra_profiles:
                if name not in IMPLEMENTED:
                    raise ValueError(f"extra_profiles: {name!r} is not a profile this station can serve; one of: {', '.join(addable)}")
        if self.reserve_connector_zero and FeatureProfile.RESERVATION not in self.feature_profiles:
            raise ValueError('reserve_connector_zero: needs the Reservation profile (extra_profiles = ["Reservation"])')
        return self

    @property
    def meter_specs(self) -> list[MeterSpec]:
        assert self.meters is not None
        return [parse_meter_url(meter) for meter in self.meters]

    @property
    def station_model(self) -> StationModel:
        """The emulated model; settings validation has already proved the name exists."""
        return get_profile(self.profile).model(self.model)

    @property
    def feature_profiles(self) -> tuple[FeatureProfile, ...]:
        """The model's profiles, then the extra ones it lacks: what the station may serve."""
        own = self.station_model.feature_profiles
        return (*own, *(FeatureProfile(name) for name in dict.fromkeys(self.extra_profiles) if name not in own))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def connector_count(self) -> int:
        assert self.connectors is not None
        return self.connectors

    @property
    def database_path(self) -> Path:
        return self.data_dir / "chargepoint.db"

    @property
    def certificate_dir(self) -> Path:
        return self.data_dir / "certificates"

    @property
    def client_certificate_dir(self) -> Path:
        return self.data_dir / "client_certificate"

    @property
    def control_socket(self) -> Path:
        return self.data_dir / "control.sock"

    @property
    def frame_log_path(self) -> Path:
        """Every OCPP frame, for diagnostics: in data_dir unless `frame_log` says elsewhere."""
        return self.frame_log or self.data_dir / "frames.jsonl"

    @property
    def station_log(self) -> Path:
        """The station's own log, for GetDiagnostics (journald's is not the CSMS's to read)."""
        return self.data_dir / "chargepoint.log"


def load_settings(config_file: str | Path | None = None) -> Settings:
    """Read the TOML file (argument, else $CHARGEPOINT_CONFIG) and the environment.

    Raises SettingsError carrying one human line per problem, so the CLI can print them and
    exit without a traceback.
    """
    path = config_file or os.environ.get(CONFIG_ENV)
    values: dict[str, Any] = {}
    if path:
        try:
            values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError([f"config: file {path} does not exist"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError([f"config: cannot read {path}: {exc}"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError([f"config: {path} is not valid TOML: {exc}"]) from None
    held = sorted(SECRET_SETTINGS & values.keys())
    if path and held and _world_readable(Path(path)):
        raise SettingsError([f"config: {path} holds the {held[0]} and is readable by every user ({_mode(Path(path))}); chmod 600 or 640 it"])
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError([_describe(error) for error in exc.errors()]) from None


def unknown_environment(environ: Mapping[str, str]) -> list[str]:
    """One line for each CHARGEPOINT_* variable that names no setting. pydantic-settings ignores
    those, so a misspelt one would leave the default in force without a word."""
    names = sorted(Settings.model_fields)
    lines = []
    for variable in sorted(environ):
        if not variable.upper().startswith(ENV_PREFIX) or variable.upper() == CONFIG_ENV:
            continue
        name = variable[len(ENV_PREFIX):].lower()
        if name not in Settings.model_fields:
            close = difflib.get_close_matches(name, names, n=1)
            lines.append(f"{variable} names no setting" + (f"; did you mean {ENV_PREFIX}{close[0].upper()}?" if close else ""))
    return lines


def _world_readable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IROTH)


def _mode(path: Path) -> str:
    return f"mode {stat.S_IMODE(path.stat().st_mode):04o}"


def _private_key_in(path: Path) -> bool:
    return b"PRIVATE KEY-----" in path.read_bytes()


def _describe(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if not field:
        return message  # whole-model checks name their field in the message
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown setting"
    secret = field in SECRET_SETTINGS  # a wrong password is still a password: never echoed
    if "input" in error and not isinstance(error["input"], dict) and error["type"] != "missing" and not secret:
        return f"{field}: {message} (got {error['input']!r})"
    return f"{field}: {message}"
