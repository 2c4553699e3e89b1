"""The node's settings: a config file in its data folder, overridden by environment variables.

One pydantic-settings model, `Settings`. Built directly (`Settings(data_dir=...)`) it holds
what it is given and reads nothing; `Settings.load` reads `circle-node.toml` in the data
folder and the `CIRCLE_NODE_*` environment variables, and refuses what it does not know: a key
of the file that is not a setting, a value of the wrong type (`encrypt = "false"` is a string,
not false), an unknown `CIRCLE_NODE_*` variable. Each refusal names the key and the file, or
the variable.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE = "circle-node.toml"
DEFAULT_DATA_DIR = Path("circle-node-data")
PREFIX = "CIRCLE_NODE_"

# Variables of the prefix that are not settings of this model, and are not refused:
# `serve`'s options (node/cli/serving.py reads them, each also `--name`), and the test
# suite's own (`make test`, `make soak`, `make fuzz` set them for every process they start).
SERVE_OPTIONS = frozenset(
    PREFIX + name for name in ("HOST", "PORT", "URL", "PULL_INTERVAL", "REQUEST_TIMEOUT", "THREADS")
)
TEST_SUITE = frozenset(
    PREFIX + name for name in ("SOAK", "RELIABILITY_SEED", "FUZZ_SCALE", "SCHEMATHESIS_EXAMPLES")
)
TEST_SUITE_PREFIX = PREFIX + "TEST_"


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to fix."""


class Settings(BaseSettings):
    """Where the node keeps its data and how it stores it.

    - `data_dir`: the node's folder (SQLite file, keys, config). `--data` or CIRCLE_NODE_DATA.
    - `database_url`: a `postgresql://` URL to use PostgreSQL instead of SQLite
      (CIRCLE_NODE_DATABASE_URL or `database_url` in the config file). `?schema=name` keeps
      the node's tables in their own schema.
    - `encrypt`: encrypt stored events at rest with AES-GCM (CIRCLE_NODE_ENCRYPT=1 or
      `encrypt = true`); the key is kept in `store.key` (mode 0600) beside the node key. Chosen
      when the node is made: a store is not turned from plain to encrypted or back.
    - `smtp_host`, `smtp_port`, `smtp_user`, `smtp_password`, `smtp_from`, `smtp_tls`: the
      mail server the node sends its notices through (docs/operating.md, "Mail"). Without a
      host and a from address nothing is sent: mail stays queued in the store until they are
      set. `smtp_tls`: `starttls` (the default, port 587), `tls` (port 465) or `none` (a
      server on the same host: a login without TLS is refused unless the host is loopback).
      The password is a secret: never shown or logged.
    """

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,  # CIRCLE_NODE_ENCRYPT= is as if unset
        extra="forbid",
        frozen=True,
        validate_by_name=True,
    )

    data_dir: Path = Field(DEFAULT_DATA_DIR, validation_alias=PREFIX + "DATA")
    database_url: str | None = None
    encrypt: bool = False
    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"

    @field_validator("database_url")
    @classmethod
    def _postgresql(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL; leave it unset for SQLite")
        if url is not None:
            try:
                _ = urlsplit(url).port  # raises for a port that is not one
            except ValueError:
                raise ValueError("has a port that is not a number from 0 to 65535") from None
        return url

    @model_validator(mode="after")
    def _no_login_in_clear(self) -> Settings:
        # Without TLS the server's login goes over the wire as it is: only to this host.
        signs_in = self.smtp_user is not None or self.smtp_password is not None
        if self.smtp_tls == "none" and signs_in and not _is_loopback(self.smtp_host):
            raise ValueError(
                f'smtp_tls = "none" would send the SMTP login in clear to {self.smtp_host}: '
                'use "starttls" or "tls", or a server on this host (localhost)'
            )
        return self

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "circle.sqlite"

    @property
    def store_key_path(self) -> Path:
        return self.data_dir / "store.key"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Built directly, the model holds what it is given: `load` reads the file and the
        environment (so that a test or a tool building settings is not steered by them)."""
        return (init_settings,)

    @classmethod
    def load(cls, data_dir: Path | str | None = None) -> Settings:
        """The settings of the node in `data_dir` (or CIRCLE_NODE_DATA, or the default): its
        `circle-node.toml`, overridden by the environment."""
        _refuse_unknown_variables()
        variables = EnvSettingsSource(cls)()
        from_environment = variables.pop(PREFIX + "DATA", None)
        folder = Path(data_dir or from_environment or DEFAULT_DATA_DIR)
        path = folder / CONFIG_FILE
        in_file = _read_config(cls, path)
        values = {**in_file, **variables, "data_dir": folder}
        try:
            return cls(**values)
        except ValidationError as error:
            raise SettingsError(_where(error, lambda name: name in variables, path)) from None


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return True  # no server: nothing is sent, so no login either
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# The settings a config file may hold (the data folder is where the file is).
FILE_KEYS = (
    "database_url",
    "encrypt",
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_password",
    "smtp_from",
    "smtp_tls",
)


def _read_config(model: type[BaseSettings], path: Path) -> dict[str, Any]:
    """The settings in the file, each of the exact type of its setting."""
    try:
        read = TomlConfigSettingsSource(model, toml_file=path)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path} is not valid TOML: {error}") from None
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror or error}") from None
    for key, value in read.toml_data.items():
        if key not in FILE_KEYS:
            raise SettingsError(
                f"{path}: {key!r} is not a setting (the settings are {', '.join(FILE_KEYS)})"
            )
        annotation = model.model_fields[key].annotation
        assert annotation is not None
        try:
            TypeAdapter(annotation).validate_python(value, strict=True)
        except ValidationError:
            raise SettingsError(f"{path}: {key} must be {_described(key)}, not {value!r}") from None
    return dict(read.toml_data)


def _described(key: str) -> str:
    return {
        "encrypt": "true or false (no quotes)",
        "database_url": "a quoted URL",
        "smtp_port": "a port number (no quotes)",
        "smtp_tls": '"starttls", "tls" or "none"',
    }.get(key, "quoted text")


def _refuse_unknown_variables() -> None:
    known = {PREFIX + "DATA", *(PREFIX + key.upper() for key in FILE_KEYS)}
    for name in sorted(os.environ):
        if not name.startswith(PREFIX) or name.startswith(TEST_SUITE_PREFIX):
            continue
        if name not in known | SERVE_OPTIONS | TEST_SUITE:
            raise SettingsError(
                f"unknown environment variable {name} (the node reads "
                f"{', '.join(sorted(known | SERVE_OPTIONS))})"
            )


def _where(error: ValidationError, from_environment: Any, path: Path) -> str:
    """The first error, named by the variable or the file and key its value came from."""
    first = error.errors()[0]
    reason = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:
        return f"{path}: {reason}"  # a rule of several settings: the sentence names them
    key = str(first["loc"][0])
    if from_environment(key):
        return f"{PREFIX}{key.upper()}: {reason}"
    return f"{path}: {key}: {reason}"
