"""Where Frontdesk keeps its files, and the per-user settings file.

Resolution order for the database:
1. an explicit ``--db PATH`` / URL given on the command line,
2. ``FRONTDESK_DATABASE_URL`` (any SQLAlchemy URL, e.g. ``postgresql+psycopg://...``),
3. ``FRONTDESK_DB`` (a SQLite file path),
4. ``<user data dir>/frontdesk.db``.

``FRONTDESK_DATA_DIR`` moves the whole data directory (photos, default database, backups).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "frontdesk"


def data_dir() -> Path:
    override = os.environ.get("FRONTDESK_DATA_DIR")
    path = Path(override) if override else platformdirs.user_data_path(APP_NAME)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def config_dir() -> Path:
    override = os.environ.get("FRONTDESK_CONFIG_DIR")
    return Path(override) if override else platformdirs.user_config_path(APP_NAME)


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def resolve_database(explicit: str | None = None) -> str:
    """Return the database location (a path or a URL) that Frontdesk should open."""
    if explicit:
        return explicit
    url = os.environ.get("FRONTDESK_DATABASE_URL")
    if url:
        return url
    path = os.environ.get("FRONTDESK_DB")
    if path:
        return path
    return str(data_dir() / "frontdesk.db")


@dataclass(frozen=True)
class UserSettings:
    """Per-user settings read from ``settings.toml`` (all optional)."""

    staff: str | None = None
    theme: str | None = None


def load_user_settings(path: Path | None = None) -> UserSettings:
    path = path or settings_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UserSettings()
    except (OSError, tomllib.TOMLDecodeError):
        return UserSettings()
    staff = raw.get("staff")
    theme = raw.get("theme")
    return UserSettings(
        staff=staff if isinstance(staff, str) else None,
        theme=theme if isinstance(theme, str) else None,
    )
