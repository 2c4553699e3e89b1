"""The node's settings: a config file in its data folder, overridden by environment variables,
overridden by the command line's flags.

One pydantic-settings model, `Settings`. Built directly (`Settings(data_dir=...)`) it holds
what it is given and reads nothing; `Settings.load` reads `circle-node.toml` in the data
folder, the `CIRCLE_NODE_*` environment variables (and the files `CIRCLE_NODE_*_FILE` name, for
secrets) and takes the flags given to the command, and refuses what it does not know: a key of
the file that is not a setting, a value of the wrong type (`encrypt = "false"` is a string, not
false), an unknown `CIRCLE_NODE_*` variable. Each refusal names the key and the file, the
variable, or the flag.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

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
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE = "circle-node.toml"
DEFAULT_DATA_DIR = Path("circle-node-data")
PREFIX = "CIRCLE_NODE_"
DEFAULT_POOL_SIZE = 10

# The settings whose value may be read from a file that `CIRCLE_NODE_<NAME>_FILE` names (a
# Docker or systemd secret, e.g. /run/secrets/smtp_password), so that the secret itself is not
# in the environment.
SECRET_FILES = ("database_url", "database_password", "smtp_password")
FILE_SUFFIX = "_FILE"
MAX_THREADS = 256
MAX_WORKERS = 64
MAX_PULLS_AT_ONCE = 256
# Variables of the prefix that are not settings of this model, and are not refused: the test
# suite's own (`make test`, `make soak`, `make fuzz` set them for every process they start).
TEST_SUITE = frozenset(
    PREFIX + name for name in ("SOAK", "RELIABILITY_SEED", "FUZZ_SCALE", "SCHEMATHESIS_EXAMPLES")
)
TEST_SUITE_PREFIX = PREFIX + "TEST_"


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to fix."""


class Settings(BaseSettings):
    """Where the node keeps its data, how it stores it, and how it serves.

    - `data_dir`: the node's folder (SQLite file, keys, config). `--data` or CIRCLE_NODE_DATA.
    - `database_url`: a `postgresql://` URL to use PostgreSQL instead of SQLite
      (CIRCLE_NODE_DATABASE_URL or `database_url` in the config file). `?schema=name` keeps
      the node's tables in their own schema. `database_password`: the password to put in it
      (`load` does), so that the URL can be in the config file and the password in a secret.
    - `database_pool_size`: the connections to PostgreSQL a process keeps in its one pool,
      shared by every circle it serves from the same server and database.
    - `encrypt`: encrypt stored events at rest with AES-GCM (CIRCLE_NODE_ENCRYPT=1 or
      `encrypt = true`); the key is kept in `store.key` (mode 0600) beside the node key. Chosen
      when the node is made: a store is not turned from plain to encrypted or back.
    - `smtp_host`, `smtp_port`, `smtp_user`, `smtp_password`, `smtp_from`, `smtp_tls`: the
      mail server the node sends its notices through (docs/operating.md, "Mail"). Without a
      host and a from address nothing is sent: mail stays queued in the store until they are
      set. `smtp_tls`: `starttls` (the default, port 587), `tls` (port 465) or `none` (a
      server on the same host: a login without TLS is refused unless the host is loopback).
      The password is a secret: never shown or logged.
    - `serve`'s: `host` and `port` to listen on, the public `url`, `pull_interval`,
      `pulls_at_once` (peers pulled at once, over every circle of the process),
      `push_poll_interval` and `mail_poll_interval` (the safety polls of every circle's outbox
      and mail queue, for what no one told of), `request_timeout`, `threads`, `workers`;
      `trusted_proxies` (addresses or networks whose `X-Forwarded-For`, `X-Forwarded-Proto`
      and `X-Request-ID` are believed); `log_level` and `access_log` (a line per request).
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
    database_pool_size: Annotated[int, Field(ge=1, le=1000)] = DEFAULT_POOL_SIZE
    encrypt: bool = False
    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    database_password: SecretStr | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8470
    url: str | None = None
    pull_interval: Annotated[float, Field(gt=0)] = 30.0
    pulls_at_once: Annotated[int, Field(ge=1, le=MAX_PULLS_AT_ONCE)] = 8
    push_poll_interval: Annotated[float, Field(ge=1)] = 60.0
    mail_poll_interval: Annotated[float, Field(ge=1)] = 300.0
    request_timeout: Annotated[float, Field(ge=0.1)] = 30.0
    threads: Annotated[int, Field(ge=1, le=MAX_THREADS)] = 4
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] = 1
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        """Addresses or networks (`10.0.0.2`, `172.16.0.0/12`, `::1`); in the environment or
        on the command line, separated by commas."""
        if isinstance(value, str):
            value = [part for part in (each.strip() for each in value.split(",")) if part]
        if not isinstance(value, list | tuple):
            return value  # the type's own error
        networks = []
        for each in value:
            try:
                networks.append(str(ipaddress.ip_network(str(each).strip())))
            except ValueError as error:
                raise ValueError(f"{each!r} is not an IP address or network ({error})") from None
        return tuple(networks)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

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
    def load(
        cls, data_dir: Path | str | None = None, flags: Mapping[str, Any] | None = None
    ) -> Settings:
        """The settings of the node in `data_dir` (or CIRCLE_NODE_DATA, or the default): its
        `circle-node.toml`, overridden by the environment, overridden by `flags` (the settings
        given on the command line, by name: only those the user gave)."""
        _refuse_unknown_variables()
        variables = EnvSettingsSource(cls)()
        from_environment = variables.pop(PREFIX + "DATA", None)
        folder = Path(data_dir or from_environment or DEFAULT_DATA_DIR)
        path = folder / CONFIG_FILE
        in_file = _read_config(cls, path)
        sources = {key: f"{path}: {key}" for key in in_file}
        sources.update({key: PREFIX + key.upper() for key in variables})
        for key, secret in _secret_files(variables).items():
            variables[key] = secret
            sources[key] = PREFIX + key.upper() + FILE_SUFFIX
        given = {key: value for key, value in (flags or {}).items() if value is not None}
        sources.update({key: "--" + key.replace("_", "-") for key in given})
        values = {**in_file, **variables, **given, "data_dir": folder}
        if "database_password" in values:
            values["database_url"] = _with_password(values, sources)
        try:
            return cls(**values)
        except ValidationError as error:
            raise SettingsError(_where(error, sources, path)) from None


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
    "database_pool_size",
    "encrypt",
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_password",
    "smtp_from",
    "smtp_tls",
    "database_password",
    "host",
    "port",
    "url",
    "pull_interval",
    "pulls_at_once",
    "push_poll_interval",
    "mail_poll_interval",
    "request_timeout",
    "threads",
    "workers",
    "trusted_proxies",
    "log_level",
    "access_log",
)
# What a key of the file must be when it is not the setting's own type: the model checks
# the rest (each address of the list; the level's name, in any case).
_FILE_TYPES: dict[str, Any] = {"trusted_proxies": list[str], "log_level": str}


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
        annotation = _FILE_TYPES.get(key, model.model_fields[key].annotation)
        assert annotation is not None
        try:
            TypeAdapter(annotation).validate_python(value, strict=True)
        except ValidationError:
            raise SettingsError(f"{path}: {key} must be {_described(key)}, not {value!r}") from None
    return dict(read.toml_data)


def _described(key: str) -> str:
    return {
        "encrypt": "true or false (no quotes)",
        "access_log": "true or false (no quotes)",
        "database_url": "a quoted URL",
        "url": "a quoted URL",
        "smtp_port": "a port number (no quotes)",
        "port": "a port number (no quotes)",
        "threads": "a whole number (no quotes)",
        "workers": "a whole number (no quotes)",
        "pull_interval": "a number of seconds (no quotes)",
        "pulls_at_once": "a whole number (no quotes)",
        "push_poll_interval": "a number of seconds (no quotes)",
        "mail_poll_interval": "a number of seconds (no quotes)",
        "request_timeout": "a number of seconds (no quotes)",
        "database_pool_size": "a number of connections (no quotes)",
        "smtp_tls": '"starttls", "tls" or "none"',
        "trusted_proxies": 'a list of quoted addresses or networks, e.g. ["10.0.0.2"]',
    }.get(key, "quoted text")


def known_variables() -> list[str]:
    """Every environment variable the node reads."""
    settings = [PREFIX + key.upper() for key in FILE_KEYS]
    secrets = [PREFIX + key.upper() + FILE_SUFFIX for key in SECRET_FILES]
    return [PREFIX + "DATA", *settings, *secrets]


def _refuse_unknown_variables() -> None:
    known = known_variables()
    for name in sorted(os.environ):
        if not name.startswith(PREFIX) or name.startswith(TEST_SUITE_PREFIX):
            continue
        if name not in known and name not in TEST_SUITE:
            raise SettingsError(
                f"unknown environment variable {name} (the node reads {', '.join(sorted(known))})"
            )


def _secret_files(variables: Mapping[str, Any]) -> dict[str, str]:
    """The secrets read from the files `CIRCLE_NODE_<NAME>_FILE` names: each file's text, less
    one line ending at its end. The secret never appears in a message, only the file's name."""
    secrets = {}
    for key in SECRET_FILES:
        name = PREFIX + key.upper() + FILE_SUFFIX
        where = os.environ.get(name)
        if not where:
            continue
        if key in variables:
            raise SettingsError(f"{name}: {PREFIX}{key.upper()} is set too: set only one of them")
        try:
            text = Path(where).read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(f"{name}: cannot read {where}: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise SettingsError(f"{name}: {where} is not UTF-8 text") from None
        secret = text.removesuffix("\n").removesuffix("\r")
        if not secret:
            raise SettingsError(f"{name}: {where} is empty")
        secrets[key] = secret
    return secrets


def _with_password(values: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """`database_url` with `database_password` as its password (quoted for the URL)."""
    where = sources.get("database_password", "database_password")
    url, password = values.get("database_url"), values["database_password"]
    if not isinstance(password, str):
        password = str(password.get_secret_value() if isinstance(password, SecretStr) else password)
    if not isinstance(url, str):
        raise SettingsError(f"{where}: a database password needs a database_url to go with")
    parts = urlsplit(url)
    if parts.password is not None:
        raise SettingsError(
            f"{where}: {sources.get('database_url', 'database_url')} holds a password already: "
            "keep one of them"
        )
    login, _, address = parts.netloc.rpartition("@")
    netloc = f"{login}:{quote(password, safe='')}@{address}"
    return urlunsplit(parts._replace(netloc=netloc))


def _where(error: ValidationError, sources: Mapping[str, str], path: Path) -> str:
    """The first error, named by the flag, the variable or the file and key its value came
    from."""
    first = error.errors()[0]
    reason = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:
        return f"{path}: {reason}"  # a rule of several settings: the sentence names them
    key = str(first["loc"][0])
    return f"{sources.get(key, f'{path}: {key}')}: {reason}"
