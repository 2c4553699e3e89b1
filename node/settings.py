"""The node's settings: a config file in its data folder, overridden by environment variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "circle-node.toml"
DEFAULT_DATA_DIR = Path("circle-node-data")


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Settings:
    """Where the node keeps its data and how it stores it.

    - `data_dir`: the node's folder (SQLite file, keys, config). `--data` or CIRCLE_NODE_DATA.
    - `database_url`: a `postgresql://` URL to use PostgreSQL instead of SQLite
      (CIRCLE_NODE_DATABASE_URL or `database_url` in the config file). `?schema=name` keeps
      the node's tables in their own schema.
    - `encrypt`: encrypt stored events at rest with AES-GCM (CIRCLE_NODE_ENCRYPT=1 or
      `encrypt = true`); the key is kept in `store.key` (mode 0600) beside the node key.
    """

    data_dir: Path
    database_url: str | None = None
    encrypt: bool = False

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "circle.sqlite"

    @property
    def store_key_path(self) -> Path:
        return self.data_dir / "store.key"

    @classmethod
    def load(
        cls, data_dir: Path | str | None = None, environ: dict[str, str] | None = None
    ) -> Settings:
        env = dict(os.environ if environ is None else environ)
        folder = Path(data_dir or env.get("CIRCLE_NODE_DATA") or DEFAULT_DATA_DIR)
        config: dict[str, object] = {}
        config_path = folder / CONFIG_FILE
        if config_path.exists():
            try:
                config = tomllib.loads(config_path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise SettingsError(f"{config_path} is not valid TOML: {error}") from None
        database_url = env.get("CIRCLE_NODE_DATABASE_URL") or config.get("database_url") or None
        if database_url is not None:
            database_url = str(database_url)
            if not database_url.startswith(("postgresql://", "postgres://")):
                raise SettingsError(
                    "CIRCLE_NODE_DATABASE_URL must be a postgresql:// URL; "
                    "leave it unset for SQLite"
                )
        encrypt = env.get("CIRCLE_NODE_ENCRYPT")
        return cls(
            data_dir=folder,
            database_url=database_url,
            encrypt=_flag(encrypt) if encrypt is not None else bool(config.get("encrypt", False)),
        )


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"Expected a yes/no value, got {value!r}")
