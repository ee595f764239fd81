"""Where an export may write: never over the database's own files, an existing file only when
asked, and a failed export leaves the file that was there before as it was."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, select

from frontdesk.cli import main
from frontdesk.data import customers as svc
from frontdesk.data.errors import TargetExists, ValidationFailed
from frontdesk.data.exporting import check_target, export_customers
from frontdesk.data.models import Customer
from tests.actors import ADMIN

OLD = "the old file\n"


@pytest.fixture
def db(engine: Engine) -> Engine:
    with Session(engine) as s:
        for i in range(3):
            svc.create_customer(
                actor=ADMIN,
                session=s,
                data=svc.CustomerCreate(first_name=f"Maria{i}", email=f"m{i}@example.com"),
            )
        s.commit()
    return engine


def db_file(engine: Engine) -> Path:
    assert engine.url.database
    return Path(engine.url.database)


def live_customers(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Customer)).all())


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal", "-writers"])
def test_the_database_and_its_companions_are_refused(db: Engine, suffix: str) -> None:
    target = Path(f"{db_file(db)}{suffix}")
    before = target.read_bytes() if target.exists() else None
    with Session(db) as s, pytest.raises(ValidationFailed) as refused:
        # Even when told to replace what is there.
        export_customers(session=s, path=target, actor=ADMIN, overwrite=True)
    assert refused.value.field == "file" and "destroy" in refused.value.message
    assert str(target) in refused.value.message
    assert not isinstance(refused.value, TargetExists)
    assert (target.read_bytes() if target.exists() else None) == before
    assert live_customers(db) == 3


def test_the_database_is_recognised_by_any_spelling(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = db_file(db)
    (tmp_path / "link.csv").symlink_to(real)
    os.link(real, tmp_path / "hard.csv")
    (tmp_path / "dir-link").symlink_to(real.parent, target_is_directory=True)
    monkeypatch.chdir(real.parent)
    spellings = [
        Path(real.name),  # relative
        Path("sub/..") / real.name,  # through a folder that is not there
        tmp_path / "link.csv",  # a symbolic link to it
        tmp_path / "hard.csv",  # a hard link to it
        tmp_path / "dir-link" / f"{real.name}-wal",  # a companion through a linked folder
    ]
    with Session(db) as s:
        for path in spellings:
            with pytest.raises(ValidationFailed, match="destroy"):
                check_target(session=s, path=path, overwrite=True)
    assert live_customers(db) == 3


def test_an_existing_file_is_replaced_only_when_asked(db: Engine, tmp_path: Path) -> None:
    out = tmp_path / "important.csv"
    out.write_text(OLD)
    with Session(db) as s, pytest.raises(TargetExists) as refused:
        export_customers(session=s, path=out, actor=ADMIN)
    assert refused.value.path == out and "already exists" in str(refused.value)
    assert out.read_text() == OLD
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".important")] == []
    with Session(db) as s:
        assert export_customers(session=s, path=out, actor=ADMIN, overwrite=True) == 3
    with out.open(encoding="utf-8-sig") as handle:
        assert len(list(csv.DictReader(handle))) == 3
    assert out.stat().st_mode & 0o777 == 0o600


def test_a_file_that_appears_during_the_export_is_not_replaced(db: Engine, tmp_path: Path) -> None:
    out = tmp_path / "race.csv"

    def someone_else_writes(_count: int) -> None:
        out.write_text(OLD)

    with Session(db) as s, pytest.raises(TargetExists):
        export_customers(session=s, path=out, actor=ADMIN, progress=someone_else_writes)
    assert out.read_text() == OLD
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".race")) == []


def test_a_failed_export_leaves_the_old_file_intact(db: Engine, tmp_path: Path) -> None:
    out = tmp_path / "customers.csv"
    out.write_text(OLD)
    out.chmod(0o640)

    def disk_full(_count: int) -> None:
        raise OSError(28, "No space left on device")

    with Session(db) as s, pytest.raises(OSError, match="No space"):
        export_customers(session=s, path=out, actor=ADMIN, overwrite=True, progress=disk_full)
    assert out.read_text() == OLD and out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".customers")] == []


def test_folders_that_cannot_take_the_file_are_refused(db: Engine, tmp_path: Path) -> None:
    with Session(db) as s:
        with pytest.raises(ValidationFailed, match="there is no folder"):
            check_target(session=s, path=tmp_path / "nonexistent" / "x.csv")
        with pytest.raises(ValidationFailed, match="is a folder"):
            check_target(session=s, path=tmp_path, overwrite=True)
        check_target(session=s, path=tmp_path / "new.csv")  # a new file: fine


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_refuses_the_database_and_an_existing_file(db: Engine, tmp_path: Path) -> None:
    database = str(db_file(db))
    db.dispose()
    code, out, err = _cli("--db", database, "--staff", "admin", "export", database)
    assert code != 0 and "Exported" not in out
    assert "the database in use" in err and "choose another file" in err
    code, *_ = _cli("--db", database, "--staff", "admin", "export", "--overwrite", database)
    assert code != 0
    assert Path(database).read_bytes().startswith(b"SQLite format 3")
    assert live_customers(db) == 3

    other = tmp_path / "important.csv"
    other.write_text(OLD)
    code, out, err = _cli("--db", database, "--staff", "admin", "export", str(other))
    assert code != 0 and other.read_text() == OLD
    assert err.strip().splitlines() == [
        f"error: {other} already exists: nothing exported (--overwrite replaces it)"
    ]
    code, out, _ = _cli("--db", database, "--staff", "admin", "export", "--overwrite", str(other))
    assert code == 0 and f"Exported 3 customers to {other}" in out
    assert other.read_text(encoding="utf-8-sig").startswith("Code,")
    assert other.stat().st_mode & 0o777 == 0o600


def test_the_figures_export_replaces_a_file_only_when_asked(db: Engine, tmp_path: Path) -> None:
    from frontdesk.data import insights

    out = tmp_path / "figures.csv"
    out.write_text(OLD)
    with Session(db) as s:
        view = insights.business_overview(session=s, actor=ADMIN)
        with pytest.raises(TargetExists):
            check_target(session=s, path=out)
        with pytest.raises(ValidationFailed, match="destroy"):
            check_target(session=s, path=db_file(db), overwrite=True)
    with pytest.raises(TargetExists):
        insights.export_overview(view=view, path=out)
    assert out.read_text() == OLD
    assert insights.export_overview(view=view, path=out, overwrite=True) > 0
    assert out.read_text(encoding="utf-8-sig").startswith("Business overview")


def test_an_import_never_writes_its_error_file_over_the_database_or_its_file(
    db: Engine, tmp_path: Path
) -> None:
    """``import --errors`` naming the database or the file being read is refused before a
    row is read (the database was overwritten with the error rows, and the file with its
    refused rows); the error file's cells are guarded as an export's are."""
    database = str(db_file(db))
    db.dispose()
    source = tmp_path / "in.csv"
    text = 'First Name,Mobile\n"=HYPERLINK(""x"")",+31 6 1234\nAnn,+31612345678\n'
    source.write_text(text, encoding="utf-8")
    for target in (database, f"{database}-wal", str(source)):
        code, out, err = _cli(
            "--db", database, "--staff", "admin", "import", str(source), "--errors", target
        )
        assert code != 0 and "Imported" not in out
        assert "writing there would destroy it" in err
    assert Path(database).read_bytes().startswith(b"SQLite format 3")
    assert source.read_text(encoding="utf-8") == text
    assert live_customers(db) == 3  # nothing imported
    code, *_ = _cli("--db", database, "--staff", "admin", "import", str(source))
    with (tmp_path / "in.errors.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][:2] == ['\'=HYPERLINK("x")', "'+31 6 1234"]
    assert live_customers(db) == 4


def test_a_customers_data_is_never_written_over_the_database(db: Engine, tmp_path: Path) -> None:
    with Session(db) as s:
        code = s.exec(select(Customer.code)).first()
    database = str(db_file(db))
    db.dispose()
    args = ("--db", database, "--staff", "admin", "customers", "export-data", str(code))
    result, _out, err = _cli(*args, "--out", database)
    assert result != 0 and "the database in use" in err
    assert Path(database).read_bytes().startswith(b"SQLite format 3")
    existing = tmp_path / "data.json"
    existing.write_text(OLD)
    result, _out, err = _cli(*args, "--out", str(existing))
    assert result != 0 and "--overwrite" in err and existing.read_text() == OLD
    result, _out, err = _cli(*args, "--out", str(existing), "--overwrite")
    assert result == 0 and existing.read_text().startswith("{")
    assert os.stat(existing).st_mode & 0o777 == 0o600
