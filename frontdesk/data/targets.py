"""Files a command writes next to the data (an export, an import's error file, a customer's
data): never one of the database's own files or the file being read, and an existing file
only when asked."""

from __future__ import annotations

import os
from pathlib import Path

from sqlmodel import Session

from frontdesk.data.errors import TargetExists, ValidationFailed

# The files SQLite (and Frontdesk's writers' turn) keep next to a database, with what they are.
COMPANIONS = {
    "": "the database in use",
    "-wal": "the database's write-ahead log",
    "-shm": "the database's shared-memory index",
    "-journal": "the database's rollback journal",
    "-writers": "the database's writers' lock",
}


def _real(path: Path) -> Path:
    """``path`` absolute, with ``~`` expanded and symbolic links followed (as far as they go)."""
    return Path(os.path.abspath(path.expanduser())).resolve()


def _same(target: Path, other: Path) -> bool:
    if target == other:
        return True
    try:
        return os.path.samefile(target, other)  # a hard link, another spelling
    except OSError:  # one of them does not exist
        return False


def database_files(session: Session) -> dict[Path, str]:
    """The files of the session's SQLite database (none for PostgreSQL or in memory)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return {}
    db = _real(Path(url.database))
    return {Path(f"{db}{suffix}"): what for suffix, what in COMPANIONS.items()}


def refuse_database_file(*, session: Session, path: Path) -> None:
    """Refuse (``ValidationFailed``) one of the database's own files: the database, its
    write-ahead log, shared-memory index, rollback journal or writers' lock."""
    target = _real(path)
    for own, what in database_files(session).items():
        if _same(target, own):
            raise ValidationFailed(
                "file", f"{path} is {what}: writing there would destroy it; choose another file"
            )


def check_target(
    *, session: Session, path: Path, overwrite: bool = False, source: Path | None = None
) -> None:
    """Refuse a file a command may not write, before anything is read: one of the database's
    own files, the ``source`` it reads (an import's file), a folder, a file in a folder that
    does not exist or cannot be written (``ValidationFailed``); an existing file unless
    ``overwrite`` (``TargetExists``)."""
    target = _real(path)
    if source is not None and _same(target, _real(source)):
        raise ValidationFailed(
            "file", f"{path} is the file being read: writing there would destroy it"
        )
    refuse_database_file(session=session, path=path)
    if target.is_dir():
        raise ValidationFailed("file", f"{path} is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise ValidationFailed("file", f"there is no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationFailed("file", f"cannot write in {folder} (permission denied)")
    if not overwrite and os.path.lexists(path.expanduser()):
        raise TargetExists(path)
