"""Import (every supported export format), export round trip, duplicates and merge."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import merge, profile, rewards
from frontdesk.data.check import run_checks
from frontdesk.data.db import open_database
from frontdesk.data.errors import DuplicateCustomer, InvalidState, ValidationFailed
from frontdesk.data.exporting import export_customers, guard
from frontdesk.data.importing import ImportOptions, guess_mapping, open_source, run_import
from frontdesk.data.models import (
    Booking,
    Branch,
    Customer,
    MergeRecord,
    Note,
    Order,
    Payment,
    Service,
    ServiceType,
    Staff,
)
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import set_setting
from tests.actors import ADMIN

FIXTURES = Path(__file__).parent.parent / "fixtures"


def imp(engine: Engine, name: str, tmp_path: Path, **kw: object) -> tuple[object, list[list[str]]]:
    errors = tmp_path / f"{name}.errors.csv"
    summary = run_import(
        engine=engine,
        path=FIXTURES / name,
        options=ImportOptions(error_file=errors, **kw),  # type: ignore[arg-type]
        actor=ADMIN,
    )
    if not errors.exists():  # written only when a row was refused or warned about
        return summary, []
    assert errors.stat().st_mode & 0o777 == 0o600
    with errors.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return summary, rows


def test_square_export_with_bad_rows(engine: Engine, tmp_path: Path) -> None:
    summary, errors = imp(engine, "square.csv", tmp_path, date_order="mdy")
    assert (summary.rows, summary.imported, summary.invalid, summary.duplicates_in_file) == (
        6,
        2,
        3,
        1,
    )  # type: ignore[attr-defined]
    assert [(r[-3], r[-2]) for r in errors[1:]] == [
        ("2", "email"),
        ("3", "first_name"),
        ("4", "phone"),
        ("5", "email"),
    ]
    assert errors[1][:2] == ["John", "Smith"]  # the original row, fixable and re-importable
    with Session(engine) as s:
        maria = svc.search(session=s, text="maria.garcia@example.com")[0]
        assert (
            maria.phone == "+14155552671"
            and maria.city == "San Francisco"
            and maria.consent_marketing
        )
        assert maria.created_via == "import"
        notes = s.exec(select(Note).where(col(Note.customer_id) == maria.id)).all()
        assert [n.body for n in notes] == ["Prefers mornings"]
        tom = svc.search(session=s, text="tom@example.com")[0]
        assert (
            tom.last_name == 'Quoted "Tommy" Jones'
            and tom.date_of_birth.isoformat() == "1990-12-31"
        )  # type: ignore[union-attr]


def test_reimport_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    imp(engine, "shopify.csv", tmp_path)
    with Session(engine) as s:
        before = [(c.id, c.version) for c in s.exec(select(Customer))]
    summary, _ = imp(engine, "shopify.csv", tmp_path)
    assert (summary.imported, summary.skipped, summary.duplicates_in_db) == (0, 2, 2)  # type: ignore[attr-defined]
    summary, _ = imp(engine, "shopify.csv", tmp_path, on_duplicate="update")
    assert summary.updated == 0  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert [(c.id, c.version) for c in s.exec(select(Customer))] == before
        bruce = svc.search(session=s, text="bruce@example.com")[0]
        assert {t.name for t in svc.tags_of(session=s, customer_id=bruce.id or 0)} == {
            "VIP",
            "Night",
        }


def test_fresha_semicolons_cp1252_ragged_and_default_country(
    engine: Engine, tmp_path: Path
) -> None:
    source = open_source(FIXTURES / "fresha.csv")
    assert (source.encoding, source.delimiter) == ("cp1252", ";")
    summary, errors = imp(engine, "fresha.csv", tmp_path, default_country="NL")
    assert (summary.imported, summary.invalid) == (2, 2)  # type: ignore[attr-defined]
    assert {e[-2] for e in errors[1:]} == {"phone", "row"}
    with Session(engine) as s:
        lea = svc.search(session=s, text="lea@example.de")[0]
        assert lea.first_name == "Léa" and lea.last_name == "Müller" and lea.consent_marketing
        sanne = svc.search(session=s, text="+31 6 12345678")[0]
        assert sanne.phone == "+31612345678" and sanne.date_of_birth.isoformat() == "1990-04-23"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "imported", "invalid"),
    [("vagaro.tsv", 1, 1), ("google.csv", 2, 0), ("outlook.csv", 1, 0), ("simple.csv", 2, 0)],
)
def test_other_formats(
    engine: Engine, tmp_path: Path, name: str, imported: int, invalid: int
) -> None:
    with Session(engine) as s:
        set_setting(session=s, key="default_region", value="NL")
        s.commit()
    summary, _ = imp(engine, name, tmp_path)
    assert (summary.imported, summary.invalid) == (imported, invalid)  # type: ignore[attr-defined]


def test_header_mapping_and_manual_map(engine: Engine, tmp_path: Path) -> None:
    assert guess_mapping(["E-mail 1 - Value", "Phone 1 - Value", "Given Name", "Family Name"]) == {
        "E-mail 1 - Value": "email",
        "Phone 1 - Value": "phone",
        "Given Name": "first_name",
        "Family Name": "last_name",
    }
    with Session(engine) as s:
        set_setting(session=s, key="default_region", value="NL")
        s.commit()
    # With its only phone column sent to a note, no row could reach anyone: said once, for
    # the file, before any row.
    with pytest.raises(ValidationFailed, match="read as a phone or an email"):
        imp(engine, "simple.csv", tmp_path, mapping={"Mobile": "note"})


def test_duplicate_policies(engine: Engine, tmp_path: Path) -> None:
    imp(engine, "shopify.csv", tmp_path)
    with Session(engine) as s:
        bruce = svc.search(session=s, text="bruce@example.com")[0]
        svc.update_customer(
            session=s,
            customer_id=bruce.id or 0,
            data=svc.CustomerUpdate(city=None),
            expected_version=bruce.version,
        )
        s.commit()
    summary, _ = imp(engine, "shopify.csv", tmp_path, on_duplicate="update")
    assert summary.updated == 1  # type: ignore[attr-defined]  # the emptied city is filled again
    summary, _ = imp(engine, "shopify.csv", tmp_path, on_duplicate="candidate")
    assert (summary.candidates, summary.invalid, summary.imported) == (2, 0, 0)  # type: ignore[attr-defined]
    summary, _ = imp(engine, "shopify.csv", tmp_path, on_duplicate="candidate")
    assert (summary.candidates, summary.skipped) == (0, 2)  # type: ignore[attr-defined]  # kept once


def _candidates_file(tmp_path: Path) -> Path:
    path = tmp_path / "again.csv"
    path.write_text(
        "First Name,Last Name,Email,Phone,City,Birthday,Tags,Notes\n"
        "Bruce,Wayne,bruce@example.com,+14155550100,Gotham City,1980-02-19,Bat,Prefers evenings\n"
        "Martha,Kyle,martha@example.com,+14155550101,,,,\n",
        encoding="utf-8",
    )
    return path


def test_merge_candidates_wait_for_a_decision(engine: Engine, tmp_path: Path) -> None:
    from frontdesk.data import candidates
    from frontdesk.data.models import CandidateStatus, MergeCandidate
    from frontdesk.data.tags import tag_ids_of

    imp(engine, "shopify.csv", tmp_path)
    path = _candidates_file(tmp_path)
    summary = run_import(
        engine=engine, path=path, options=ImportOptions(on_duplicate="candidate"), actor=ADMIN
    )
    assert (summary.rows, summary.candidates, summary.imported, summary.invalid) == (2, 2, 0, 0)
    with Session(engine) as s:
        assert s.exec(select(Customer).where(col(Customer.first_name) == "Martha")).first() is None
        waiting = candidates.pending(session=s)
        assert [(c.code, c.incoming_name, c.reason) for c in waiting] == [
            ("C-000001", "Bruce Wayne", "same phone and email as C-000001"),
            ("C-000002", "Martha Kyle", "same phone as C-000002"),
        ]
        assert waiting[0].source == "again.csv record 1"
        bruce = svc.get_customer(session=s, customer_id=waiting[0].customer_id)
        row = s.get(MergeCandidate, waiting[0].id)
        assert row is not None
        chosen = candidates.default_choices(session=s, customer=bruce, candidate=row)
        assert chosen["city"] == "Gotham"  # the customer's own value wins by default
        assert str(chosen["date_of_birth"]) == "1980-02-19"  # filled from the row
        chosen["city"] = "Gotham City"
        # Same phone and email: nothing left to add it as another person.
        with pytest.raises(Exception, match="merge it or discard it"):
            candidates.add_as_customer(session=s, candidate_id=waiting[0].id, actor=ADMIN)
        s.rollback()
        version = bruce.version
        merged = candidates.merge_candidate(
            session=s, candidate_id=waiting[0].id, chosen=chosen, actor=ADMIN
        )
        assert (merged.city, merged.version) == ("Gotham City", version + 1)
        assert any(
            n.body == "Prefers evenings"
            for n in profile.notes_of(session=s, customer_id=merged.id or 0)
        )
        assert len(tag_ids_of(session=s, customer_id=merged.id or 0)) == 3  # VIP, Night + Bat
        # Martha shares the phone only: she is another person, added without it.
        martha = candidates.add_as_customer(session=s, candidate_id=waiting[1].id, actor=ADMIN)
        assert (martha.phone, martha.email) == (None, "martha@example.com")
        s.commit()
        with pytest.raises(InvalidState):
            candidates.discard(session=s, candidate_id=waiting[1].id, actor=ADMIN)
        statuses = [
            c.status for c in s.exec(select(MergeCandidate).order_by(col(MergeCandidate.id)))
        ]
        assert statuses == [CandidateStatus.MERGED.value, CandidateStatus.ADDED.value]
    # Re-importing the same file changes nothing once decided.
    again = run_import(
        engine=engine, path=path, options=ImportOptions(on_duplicate="candidate"), actor=ADMIN
    )
    assert (again.candidates, again.imported) == (0, 0)
    assert run_checks(engine).ok


def _keep_row(s: Session, customer: Customer, values: dict[str, object], **extras: object) -> None:
    """An imported row waiting for a decision next to ``customer``."""
    from frontdesk.data import candidates

    candidates.record_candidate(
        session=s,
        customer_id=customer.id or 0,
        values=values,
        extras=extras,
        reason="same identity as " + customer.code,
        source="x.csv record 1",
    )


def test_merge_candidates_follow_a_merged_customer(any_session: Session, tmp_path: Path) -> None:
    from frontdesk.data import candidates

    s = any_session
    a = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Ann", phone="+14155550111")
    )
    b = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Anne", email="ann@example.com")
    )
    _keep_row(
        s, b, {"first_name": "Anne", "email": "ann@example.com", "email_key": "ann@example.com"}
    )
    merge.merge_customers(session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=ADMIN)
    waiting = candidates.pending(session=s)
    assert [c.customer_id for c in waiting] == [a.id]
    candidates.discard(session=s, candidate_id=waiting[0].id, actor=ADMIN)
    assert candidates.pending(session=s) == []


def test_dry_run_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    summary = run_import(
        engine=engine,
        path=FIXTURES / "shopify.csv",
        options=ImportOptions(dry_run=True, tag="Imported"),
        actor=ADMIN,
    )
    assert summary.imported == 2
    with Session(engine) as s:
        assert s.exec(select(Customer)).all() == []


def test_import_options_tag_category_program(engine: Engine, tmp_path: Path) -> None:
    summary, _ = imp(
        engine,
        "shopify.csv",
        tmp_path,
        tag="From Shopify",
        category="VIP",
        program="Reward points",
        points=25,
    )
    assert summary.imported == 2  # type: ignore[attr-defined]
    with Session(engine) as s:
        for c in s.exec(select(Customer)):
            assert "From Shopify" in {t.name for t in svc.tags_of(session=s, customer_id=c.id or 0)}
            assert c.category_id == 1
            assert profile.customer_stats(session=s, customer=c).points == 25


def _people_file(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["First Name", "Email"])
        for i in range(rows):
            w.writerow([f"P{i}", f"p{i}@example.com"])
    return path


def test_interrupted_import_completes_on_rerun(engine: Engine, tmp_path: Path) -> None:
    big = _people_file(tmp_path / "big.csv", 250)
    calls = {"n": 0}

    def boom(_: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_import(
            engine=engine,
            path=big,
            options=ImportOptions(batch_size=100, commit_seconds=0),  # a commit a batch
            progress=boom,
            actor=ADMIN,
        )
    with Session(engine) as s:
        assert len(s.exec(select(Customer)).all()) == 200  # two whole batches, nothing half-done
    summary = run_import(
        engine=engine, path=big, options=ImportOptions(batch_size=100), actor=ADMIN
    )
    assert (summary.imported, summary.skipped) == (50, 200)
    assert run_checks(engine).ok


def test_batches_are_committed_together_and_progress_counts_what_is_in(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches share a transaction until it has been open ``commit_seconds``: the progress
    callback hears of rows once they are committed, an interrupted group leaves nothing of
    itself, and the connection's checkpoint interval is SQLite's default again after."""
    from frontdesk.data import importing

    big = _people_file(tmp_path / "big.csv", 250)
    inserts = {"n": 0}
    real_insert = importing._insert

    def interrupted(*args: object, **kw: object) -> None:
        inserts["n"] += 1
        if inserts["n"] == 3:
            raise KeyboardInterrupt
        real_insert(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "_insert", interrupted)
    heard: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        run_import(
            engine=engine,
            path=big,
            options=ImportOptions(batch_size=100, commit_seconds=3600),
            progress=heard.append,
            actor=ADMIN,
        )
    assert heard == []  # nothing was committed: nothing reported
    with Session(engine) as s:
        assert s.exec(select(Customer)).all() == []  # the two batches written went back too
    monkeypatch.setattr(importing, "_insert", real_insert)
    summary = run_import(
        engine=engine,
        path=big,
        options=ImportOptions(batch_size=100, commit_seconds=3600),
        progress=heard.append,
        actor=ADMIN,
    )
    assert (summary.imported, heard) == (250, [250])  # one commit, reported once
    heard.clear()
    again = run_import(
        engine=engine,
        path=_people_file(tmp_path / "more.csv", 300),
        options=ImportOptions(batch_size=100, commit_seconds=0),
        progress=heard.append,
        actor=ADMIN,
    )
    assert (again.imported, again.skipped, heard) == (50, 250, [100, 100, 100])
    with engine.connect() as conn:
        # The import's connection came back to the pool with SQLite's own interval.
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
    assert run_checks(engine).ok


def test_cycle_collector_is_quiet_during_an_import_and_as_it_was_after(
    engine: Engine, tmp_path: Path
) -> None:
    """While rows are imported, Python's cycle collector runs after 50,000 new objects and
    leaves out what existed before (every full collection walked the whole process); after,
    it is as it was, also when the import fails, and two imports at once share the setting."""
    import gc

    from frontdesk.data import importing

    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    during: list[tuple[tuple[int, int, int], int]] = []
    collections = {"young": 0}

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 0 and during:
            collections["young"] += 1

    def heard(_rows: int) -> None:
        during.append((gc.get_threshold(), gc.get_freeze_count()))

    gc.callbacks.append(count)
    try:
        summary = run_import(
            engine=engine,
            path=_people_file(tmp_path / "people.csv", 3000),
            options=ImportOptions(batch_size=500, commit_seconds=0, workers=0),
            progress=heard,
            actor=ADMIN,
        )
    finally:
        gc.callbacks.remove(count)
    assert summary.imported == 3000
    assert {threshold for threshold, _ in during} == {(50_000, 50, 1000)}
    assert all(frozen > frozen_before for _, frozen in during)
    # 2,500 rows after the first commit: at the default threshold (700), over a hundred
    # collections; at 50,000, a handful.
    assert collections["young"] <= 5
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, frozen_before)
    # Nested (two imports in one process): the outer one still has the quiet setting when
    # the inner one ends; a failed import puts it back too.
    with importing._fewer_collections():
        with importing._fewer_collections():
            pass
        assert gc.get_threshold() == (50_000, 50, 1000)
    assert gc.get_threshold() == before
    with pytest.raises(KeyboardInterrupt), importing._fewer_collections():
        raise KeyboardInterrupt
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, frozen_before)
    # The full-screen app froze its start-up objects: an import leaves them frozen.
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with importing._fewer_collections():
            assert gc.get_threshold() == (50_000, 50, 1000)
        assert gc.get_threshold() == before
        # (still frozen: the count drops only by what was freed meanwhile)
        assert gc.get_freeze_count() > frozen - 1000
    finally:
        gc.unfreeze()


def _customer_rows(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        return [
            (
                c.code,
                c.first_name,
                c.last_name,
                c.phone,
                c.email_key,
                c.date_of_birth,
                c.search_text,
            )
            for c in s.exec(select(Customer).order_by(col(Customer.id)))
        ]


@pytest.mark.parametrize("name", ["square.csv", "fresha.csv", "vagaro.tsv", "google.csv"])
def test_worker_processes_import_exactly_like_one_process(tmp_path: Path, name: str) -> None:
    """Validation in worker processes changes nothing: same counts, errors and customers."""
    kw: dict[str, object] = {"date_order": "mdy", "default_country": "US", "batch_size": 2}
    one = open_database(tmp_path / "one.db")
    many = open_database(tmp_path / "many.db")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, first_errors = imp(one, name, tmp_path / "a", workers=0, **kw)
    second, second_errors = imp(many, name, tmp_path / "b", workers=2, **kw)
    assert first.as_json() == second.as_json()  # type: ignore[attr-defined]
    assert first.errors == second.errors  # type: ignore[attr-defined]
    assert second.parallel_batches > 0  # type: ignore[attr-defined]
    assert first_errors == second_errors
    assert _customer_rows(one) == _customer_rows(many)


def test_batches_are_validated_here_while_the_worker_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the number of workers chosen automatically, the batches that come before the
    worker process is ready (a new interpreter importing the app) are validated in this
    one instead of waiting; the worker takes the rest, and nothing else changes."""
    from concurrent.futures import Future, ProcessPoolExecutor
    from typing import Any

    from frontdesk.data import importing

    data = tmp_path / "people.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["First Name", "Last Name", "Phone", "Email"])
        for i in range(300):
            phone = "+1 415 555" if i % 37 == 5 else f"+1 415 201 {i:04d}"  # a few too short
            w.writerow([f"Ann{i}", "[Lee]", phone, f"ann{i % 290}@example.com"])  # repeats
    # A worker started as a new interpreter (as from the full-screen app, whose threads rule
    # out fork): ready only after the first batch has come.
    monkeypatch.setattr(importing, "_start_method", lambda: "spawn")
    chosen = importing._worker_count  # one worker when chosen automatically (any machine)
    monkeypatch.setattr(
        importing, "_worker_count", lambda path, o: 1 if o.workers is None else chosen(path, o)
    )
    # The first task sent to the pool is the one that tells when the worker is ready.
    sent: list[Future[Any]] = []
    submit = ProcessPoolExecutor.submit

    def recorded(pool: ProcessPoolExecutor, *args: Any, **kwargs: Any) -> Future[Any]:
        sent.append(submit(pool, *args, **kwargs))
        return sent[-1]

    monkeypatch.setattr(ProcessPoolExecutor, "submit", recorded)
    written: list[int] = []

    def progress(rows: int) -> None:
        if not written:  # the first batch was written: wait until the worker is ready
            assert sent[0].result(timeout=120) is True
        written.append(rows)

    results = []
    for workers, name in ((0, "one"), (None, "auto")):
        engine = open_database(tmp_path / f"{name}.db")
        summary = run_import(
            engine=engine,
            path=data,
            options=ImportOptions(batch_size=10, workers=workers, commit_seconds=0),
            actor=ADMIN,
            progress=progress if workers is None else None,
        )
        results.append((summary, _customer_rows(engine)))
    (one, one_rows), (auto, auto_rows) = results
    assert one.as_json() == auto.as_json() and one.errors == auto.errors
    assert one_rows == auto_rows and len(one_rows) == one.imported > 250
    assert one.invalid > 0 and one.duplicates_in_file > 0
    # The first batch here (the worker cannot be ready yet), the 29 others in the worker.
    assert auto.parallel_batches == 29 and len(written) == 30


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_workers_are_forked_only_from_a_process_without_other_threads() -> None:
    """fork copies this process (ready at once); with another thread running (the app's),
    whose locks a copy could inherit held, the workers are new interpreters instead."""
    import subprocess
    import sys
    import threading

    from frontdesk.data import importing

    # A process like the CLI's, which has started no thread.
    code = "from frontdesk.data import importing; print(importing._start_method())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "fork"
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert importing._start_method() == "spawn"
    finally:
        release.set()
        other.join()


def test_worker_processes_start_when_stderr_has_no_file_descriptor(tmp_path: Path) -> None:
    """A full-screen app captures stderr in an object whose fileno() is -1 (Textual does)."""
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(
        f"""
import sys
from pathlib import Path
from frontdesk.data.db import open_database
from frontdesk.data.importing import ImportOptions, run_import

class Captured:
    def write(self, text): return len(text)
    def flush(self): pass
    def fileno(self): return -1

if __name__ == "__main__":
    sys.stderr = Captured()
    engine = open_database(Path({str(tmp_path / "w.db")!r}))
    summary = run_import(
        engine=engine,
        path=Path({str(FIXTURES / "google.csv")!r}),
        options=ImportOptions(workers=1, batch_size=1, default_country="US"),
    )
    print(summary.parallel_batches, summary.rows)
""",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    parallel, rows = map(int, done.stdout.split())
    assert rows > 0 and parallel == rows  # every batch (one row each) was validated in a worker


def test_import_goes_on_when_worker_processes_fail(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    def broken(*_a: object, **_k: object) -> None:
        raise BrokenProcessPool("no processes here")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", broken)
    summary, errors = imp(engine, "square.csv", tmp_path, date_order="mdy", workers=2)
    assert (summary.rows, summary.imported, summary.invalid) == (6, 2, 3)  # type: ignore[attr-defined]
    assert summary.parallel_batches == 0  # type: ignore[attr-defined]
    assert len(errors) == 5  # header, three invalid rows, one duplicate of an earlier row


def test_bulk_insert_stores_what_the_orm_stores(engine: Engine) -> None:
    """The multi-row insert path converts values exactly as SQLAlchemy does."""
    from frontdesk.data.bulk import insert_with_ids
    from frontdesk.data.models import AuditEvent

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds: formatting differs
    with Session(engine) as s:
        insert_with_ids(
            s,
            AuditEvent,
            [
                {
                    "at": at,
                    "actor_id": None,
                    "actor_name": "x",
                    "entity": "customer",
                    "entity_id": n,
                    "action": "import",
                    "customer_id": None,
                    "changes": {"source": [None, "import"], "n": n},
                }
                for n in range(700)  # more than one statement's worth
            ],
        )
        s.commit()
    with Session(engine) as s:
        rows = s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        assert len(rows) == 700
        assert rows[-1].changes == {"source": [None, "import"], "n": 699}
        assert rows[0].at.replace(tzinfo=UTC) == at
        raw = s.connection().exec_driver_sql("SELECT at FROM audit_event LIMIT 1").scalar_one()
        assert raw == "2026-01-02 03:04:05.000000"


def test_export_is_formula_safe_and_round_trips(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as s:
        svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="=cmd|' /C calc'!A0",
                last_name="@SUM(1)",
                phone="+14155552671",
                email="x@example.com",
                city="-2+3",
            ),
        )
        s.commit()
    out = tmp_path / "export.csv"
    with Session(engine) as s:
        assert export_customers(session=s, path=out, actor=ADMIN) == 1
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    row = next(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert (
        row["First name"].startswith("'=")
        and row["Mobile"] == "'+14155552671"
        and row["City"] == "'-2+3"
    )
    assert (out.stat().st_mode & 0o777) == 0o600
    other = open_database(tmp_path / "other.db")
    summary = run_import(engine=other, path=out, options=ImportOptions(), actor=ADMIN)
    assert summary.imported == 1
    with Session(other) as s:
        c = s.exec(select(Customer)).one()
        assert (c.first_name, c.last_name, c.phone, c.city) == (
            "=cmd|' /C calc'!A0",
            "@SUM(1)",
            "+14155552671",
            "-2+3",
        )


hostile = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda t: t.strip())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(st.tuples(hostile, hostile), min_size=1, max_size=5))
def test_export_import_round_trip_property(tmp_path: Path, names: list[tuple[str, str]]) -> None:
    key = abs(hash(tuple(names)))
    src = open_database(tmp_path / f"src{key}.db")
    dst = open_database(tmp_path / f"dst{key}.db")
    expected = set()
    with Session(src) as s:
        for i, (first, last) in enumerate(names):
            try:
                c = svc.create_customer(
                    actor=ADMIN,
                    session=s,
                    data=svc.CustomerCreate(
                        first_name=first, last_name=last, email=f"p{i}@example.com"
                    ),
                )
            except Exception:
                s.rollback()
                continue
            expected.add((c.first_name, c.last_name, c.email))
            s.commit()
        path = tmp_path / f"rt{key}.csv"
        export_customers(session=s, path=path, actor=ADMIN)
    run_import(engine=dst, path=path, options=ImportOptions(), actor=ADMIN)
    with Session(dst) as s:
        got = {(c.first_name, c.last_name, c.email) for c in s.exec(select(Customer))}
    assert got == expected
    src.dispose()
    dst.dispose()


def test_xlsx_export_imports_back(engine: Engine, tmp_path: Path) -> None:
    imp(engine, "shopify.csv", tmp_path)
    out = tmp_path / "all.xlsx"
    with Session(engine) as s:
        assert export_customers(session=s, path=out, actor=ADMIN) == 2
    other = open_database(tmp_path / "x.db")
    assert run_import(engine=other, path=out, options=ImportOptions(), actor=ADMIN).imported == 2


def test_guard() -> None:
    assert guard("=1+1") == "'=1+1" and guard("\tx") == "'\tx" and guard("plain") == "plain"


# ---------------------------------------------------------------- duplicates and merge


def _world(s: Session) -> dict[str, int]:
    branch, stype = Branch(name="B"), ServiceType(name="T")
    s.add_all([branch, stype])
    s.flush()
    service = Service(
        service_type_id=stype.id or 0, name="Cut", duration_minutes=30, price_cents=5000
    )
    admin = Staff(name="Boss", role="admin")
    s.add_all([service, admin])
    s.flush()
    a = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(
            first_name="Maria",
            last_name="Garcia",
            phone="+14155552671",
            email="maria@work.com",
            consent_marketing=True,
        ),
    )
    b = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(
            first_name="María",
            last_name="Garsia",
            phone="+16505552671",
            email="maria@home.com",
            city="Oakland",
            consent_marketing=False,
        ),
    )
    when = datetime(2026, 1, 5, 10, tzinfo=UTC)
    for cust, days in ((a, 0), (b, 7)):
        booking = Booking(
            customer_id=cust.id or 0,
            service_id=service.id or 0,
            branch_id=branch.id or 0,
            start_at=when + timedelta(days=days),
            end_at=when + timedelta(days=days, minutes=30),
            status="completed",
            price_cents=5000,
        )
        s.add(booking)
        s.flush()
        order = Order(
            customer_id=cust.id or 0,
            branch_id=branch.id or 0,
            booking_id=booking.id,
            total_cents=5000,
            status="paid",
        )
        s.add(order)
        s.flush()
        s.add(Payment(order_id=order.id or 0, amount_cents=5000))
        s.add(Note(customer_id=cust.id, body=f"note of {cust.first_name}"))
    ea = rewards.enrol(
        session=s, customer_id=a.id or 0, program_id=1, starting_balance=40, actor=ADMIN
    )
    eb = rewards.enrol(
        session=s, customer_id=b.id or 0, program_id=1, starting_balance=60, actor=ADMIN
    )
    ids = {
        "a": a.id or 0,
        "b": b.id or 0,
        "admin": admin.id or 0,
        "ea": ea.id or 0,
        "eb": eb.id or 0,
    }
    s.commit()
    return ids


def test_duplicate_finder_and_ignore(any_session: Session) -> None:
    ids = _world(any_session)
    groups = merge.find_duplicates(session=any_session)
    assert any(
        set(g.customer_ids) == {ids["a"], ids["b"]} and "phones ending 552671" in g.reason
        for g in groups
    )
    merge.ignore_pair(session=any_session, first_id=ids["b"], second_id=ids["a"])
    any_session.commit()
    assert not any(
        set(g.customer_ids) == {ids["a"], ids["b"]}
        for g in merge.find_duplicates(session=any_session)
    )


def test_a_merged_away_customer_imported_again_is_their_survivor(
    engine: Engine, tmp_path: Path
) -> None:
    """A row with a phone or email that a live customer has as a second one (a merged-away
    customer's, kept by the merge) matches that customer: an export taken before a merge,
    imported again, changes nothing (it brought the merged-away customer back as new)."""
    from frontdesk.data import contacts

    with Session(engine) as s:
        a = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="Maria", last_name="Garcia", phone="+14155552671", email="m@work.com"
            ),
        )
        b = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="María", last_name="Garsia", phone="+16505552671", email="m@home.com"
            ),
        )
        a_id, b_code = a.id or 0, b.code
        merge.merge_customers(session=s, survivor_id=a_id, other_ids=[b.id or 0], actor=ADMIN)
        s.commit()
    before = _customer_rows(engine)
    # The merged-away customer's row as an export before the merge had it; and one with only
    # its email, one with only its phone (written the way people type it).
    path = tmp_path / "old-export.csv"
    for row in (
        f"{b_code},María,Garsia,m@home.com,+16505552671",
        ",Maria,Garsia,M@Home.com,",
        ",Maria,G,,+1 650 555 2671",
    ):
        path.write_text(f"Code,First name,Last name,Email,Mobile\n{row}\n", encoding="utf-8")
        summary = run_import(engine=engine, path=path, options=ImportOptions(), actor=ADMIN)
        assert (summary.imported, summary.duplicates_in_db, summary.skipped) == (0, 1, 1), row
    assert _customer_rows(engine) == before
    # Updated from the row: the second phone and email stay second ones.
    path.write_text(
        f"Code,First name,Last name,Email,Mobile,City\n{b_code},Maria,Garcia,m@home.com,,Oakland\n",
        encoding="utf-8",
    )
    summary = run_import(
        engine=engine, path=path, options=ImportOptions(on_duplicate="overwrite"), actor=ADMIN
    )
    assert (summary.imported, summary.updated) == (0, 1)
    with Session(engine) as s:
        survivor = svc.get_customer(session=s, customer_id=a_id)
        assert (survivor.email, survivor.phone, survivor.city) == (
            "m@work.com",
            "+14155552671",
            "Oakland",
        )
        kept = {c.value for c in contacts.contacts_of(session=s, customer_id=a_id)}
        assert kept == {"m@home.com", "+16505552671"}
    # A row with the survivor's second phone and another customer's own email is the other
    # customer's (their own key first).
    with Session(engine) as s:
        other = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(first_name="Olga", email="olga@x.com"),
        )
        s.commit()
        other_id = other.id
    path.write_text(
        "First name,Email,Mobile,City\nOlga,olga@x.com,+16505552671,Utrecht\n", encoding="utf-8"
    )
    summary = run_import(
        engine=engine, path=path, options=ImportOptions(on_duplicate="update"), actor=ADMIN
    )
    assert (summary.imported, summary.updated) == (0, 1)
    with Session(engine) as s:
        assert svc.get_customer(session=s, customer_id=other_id or 0).city == "Utrecht"
    path.write_text(
        f"Code,First name,Last name,Email,Mobile,City\n{b_code},Maria,Garcia,m@home.com,,Oakland\n",
        encoding="utf-8",
    )
    # Kept for review instead: a candidate on the survivor, naming the shared email.
    summary = run_import(
        engine=engine, path=path, options=ImportOptions(on_duplicate="candidate"), actor=ADMIN
    )
    assert (summary.imported, summary.candidates) == (0, 1)


def test_a_row_skipped_for_another_persons_phone_is_named_in_the_error_file(
    engine: Engine, tmp_path: Path
) -> None:
    """A row skipped as an existing customer but naming someone else (another person's
    phone, or a typing error) is in the error file with who has that phone; the same person
    written another way (case, accents) is skipped quietly."""
    with Session(engine) as s:
        ethan = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="Ethan", last_name="Jöhnson", phone="+14155552671", email="e@x.com"
            ),
        )
        s.commit()
        code = ethan.code
    path = tmp_path / "people.csv"
    path.write_text(
        "First name,Last name,Email,Mobile\n"
        "Carol,Johnson,,+1 415 555 2671\n"
        "ETHAN,johnson,E@X.COM,\n",
        encoding="utf-8",
    )
    errors = tmp_path / "people.errors.csv"
    summary = run_import(
        engine=engine, path=path, options=ImportOptions(error_file=errors), actor=ADMIN
    )
    assert (summary.imported, summary.skipped, summary.invalid) == (0, 2, 0)
    with errors.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 2  # the header and Carol's row
    assert rows[1][:2] == ["Carol", "Johnson"]
    assert rows[1][-2:] == [
        "phone",
        f"not imported: {code} Ethan Jöhnson has this phone (another name)",
    ]
    assert [(e.record, e.field) for e in summary.errors] == [(1, "phone")]
    # A preview of an update or overwrite does not call the row "not imported" (it would be
    # written to the customer).
    for policy in ("update", "overwrite"):
        preview = run_import(
            engine=engine,
            path=path,
            options=ImportOptions(on_duplicate=policy, dry_run=True),
            actor=ADMIN,
        )
        assert preview.errors == [], policy


def test_merge_moves_everything_and_keeps_totals(any_session: Session) -> None:
    s = any_session
    ids = _world(s)
    b_code = svc.get_customer(session=s, customer_id=ids["b"]).code
    survivor = merge.merge_customers(
        session=s,
        survivor_id=ids["a"],
        other_ids=[ids["b"]],
        chosen={"email": "maria@home.com"},
        actor=ADMIN,
    )
    s.commit()
    assert (
        survivor.email == "maria@home.com" and survivor.city == "Oakland"
    )  # empty field filled from the other
    assert survivor.consent_marketing is False  # most restrictive
    assert svc.get_by_code(session=s, code=b_code).id == ids["a"]  # tombstone resolves
    for model in (Booking, Order, Note):
        assert {r.customer_id for r in s.exec(select(model))} == {ids["a"]}
    stats = profile.customer_stats(session=s, customer=survivor)
    assert (stats.visits, stats.income_cents, stats.points) == (2, 10000, 100)
    record = s.exec(select(MergeRecord)).one()
    assert record.discarded is not None
    assert record.discarded["phone"] == "+16505552671"  # the other's phone, not kept
    assert (
        record.discarded["survivor_before"]["email"] == "maria@work.com"
    )  # replaced by the choice
    s.commit()
    assert run_checks(s.get_bind()).ok  # type: ignore[arg-type]
    ledger = profile.ledger(session=s, customer_id=ids["a"])
    assert ledger[0].action == "merged"
    # The merged-away phone stays the survivor's (a second one): a new customer with it is
    # the same person again, refused as a duplicate naming the survivor (as an import or the
    # API match it to them). Phones and emails are unique among live customers, second ones
    # included.
    with pytest.raises(DuplicateCustomer) as refused:
        svc.create_customer(
            actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="New", phone="+16505552671")
        )
    assert refused.value.field == "phone" and refused.value.existing_id == ids["a"]


def test_only_admins_merge_three(any_session: Session) -> None:
    s = any_session
    ids = _world(s)
    c = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Third", email="t@example.com")
    )
    s.commit()
    desk = Staff(name="Desk", role="reception")
    with pytest.raises(NotAllowed, match="three or more"):
        merge.merge_customers(
            session=s, survivor_id=ids["a"], other_ids=[ids["b"], c.id or 0], actor=desk
        )
    s.rollback()
    admin = s.get(Staff, ids["admin"])
    merge.merge_customers(
        session=s, survivor_id=ids["a"], other_ids=[ids["b"], c.id or 0], actor=admin
    )
    s.commit()


def test_merge_interrupted_changes_nothing(engine: Engine) -> None:
    with Session(engine) as s:
        ids = _world(s)
    original = merge._merge_points

    def crash(*a: object, **k: object) -> None:
        raise RuntimeError("power cut")

    merge._merge_points = crash  # type: ignore[assignment]
    try:
        with Session(engine) as s, pytest.raises(RuntimeError):
            merge.merge_customers(
                session=s, survivor_id=ids["a"], other_ids=[ids["b"]], actor=ADMIN
            )
            s.commit()
    finally:
        merge._merge_points = original  # type: ignore[assignment]
    with Session(engine) as s:
        assert svc.get_customer(session=s, customer_id=ids["b"]).merged_into_id is None
        assert {b.customer_id for b in s.exec(select(Booking))} == {ids["a"], ids["b"]}
    assert run_checks(engine).ok


def _copied(tmp_path: Path, name: str) -> Path:
    """A copy of fixture ``name`` (an import writes its error file next to the file it reads:
    never into the repository)."""
    copy = tmp_path / name
    shutil.copy(FIXTURES / name, copy)
    return copy


def test_cli_import_json_and_duplicates(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from frontdesk.cli import main

    db = str(tmp_path / "cli.db")
    result = CliRunner().invoke(
        main, ["import", "--db", db, str(_copied(tmp_path, "shopify.csv")), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "rows": 2,
        "imported": 2,
        "updated": 0,
        "skipped": 0,
        "invalid": 0,
        "merge_candidates": 0,
        "duplicates_in_file": 0,
        "warnings": 0,
        "duplicates_in_database": 0,
    }
    result = CliRunner().invoke(
        main, ["import", "--db", db, str(_copied(tmp_path, "square.csv")), "--map", "Nope=email"]
    )
    assert result.exit_code == 1 and "no column 'Nope'" in result.stderr
    out = tmp_path / "e.csv"
    assert CliRunner().invoke(main, ["export", "--db", db, str(out)]).exit_code == 0
    assert CliRunner().invoke(main, ["duplicates", "--db", db, "--json"]).exit_code == 0


def test_cli_merge_candidates_are_listed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from frontdesk.cli import main

    db = str(tmp_path / "cli.db")
    assert (
        CliRunner()
        .invoke(main, ["import", "--db", db, str(_copied(tmp_path, "shopify.csv"))])
        .exit_code
        == 0
    )
    result = CliRunner().invoke(
        main,
        ["import", "--db", db, str(_candidates_file(tmp_path)), "--on-duplicate", "candidate"],
    )
    assert result.exit_code == 0, result.output
    assert "2 merge candidates" in result.stdout and "duplicates screen (D)" in result.stdout
    listed = CliRunner().invoke(main, ["duplicates", "--db", db])
    text = " ".join(listed.stdout.split())  # rich wraps long lines
    assert text.startswith(
        "imported row (again.csv record 1) waiting: same phone and email as C-000001: "
        "C-000001 Bruce Wayne <- Bruce Wayne imported row (again.csv record 2) waiting: "
        "same phone as C-000002: C-000002 Selina Kyle <- Martha Kyle"
    )
    as_json = json.loads(CliRunner().invoke(main, ["duplicates", "--db", db, "--json"]).stdout)
    assert [g["codes"] for g in as_json] == [["C-000001"], ["C-000002"]]


def test_import_and_candidates_on_every_database(any_engine: Engine, tmp_path: Path) -> None:
    """The bulk paths (ids, codes, inserts) and the review queue on SQLite and PostgreSQL."""
    from frontdesk.data import candidates

    summary, errors = imp(any_engine, "square.csv", tmp_path, date_order="mdy", batch_size=2)
    assert (summary.rows, summary.imported, summary.invalid) == (6, 2, 3)  # type: ignore[attr-defined]
    assert len(errors) == 5
    summary, _ = imp(any_engine, "shopify.csv", tmp_path, tag="Imported", workers=1)
    assert summary.imported == 2  # type: ignore[attr-defined]
    again = run_import(
        engine=any_engine,
        path=_candidates_file(tmp_path),
        options=ImportOptions(on_duplicate="candidate"),
        actor=ADMIN,
    )
    assert again.candidates == 2
    with Session(any_engine) as s:
        people = s.exec(select(Customer).order_by(col(Customer.id))).all()
        assert [c.code for c in people] == ["C-000001", "C-000002", "C-000003", "C-000004"]
        assert len({c.id for c in people}) == 4
        waiting = candidates.pending(session=s)
        bruce = svc.get_customer(session=s, customer_id=waiting[0].customer_id)
        candidates.merge_candidate(
            session=s, candidate_id=waiting[0].id, chosen={"city": "Gotham City"}, actor=ADMIN
        )
        s.commit()
        assert svc.get_customer(session=s, customer_id=bruce.id or 0).city == "Gotham City"
        # Search finds the imported customers (FTS on SQLite, trigram index on PostgreSQL).
        assert [c.first_name for c in svc.search(session=s, text="selina")] == ["Selina"]


def test_worker_count_follows_file_size_and_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from frontdesk.data import importing

    small = FIXTURES / "shopify.csv"
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * importing.PARALLEL_FROM_BYTES)
    auto = ImportOptions(workers=None)
    assert importing._worker_count(small, auto) == 0  # not worth starting a process
    assert importing._worker_count(big, ImportOptions()) == 0  # library default: none
    assert importing._worker_count(small, ImportOptions(workers=2)) == 2  # asked for
    for cpus, workers in ((1, 0), (2, 1), (3, 2), (16, 4)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cpus: set(range(n)))
        assert importing._worker_count(big, auto) == workers


def test_merge_candidate_brings_its_category(any_session: Session) -> None:
    from frontdesk.data import candidates
    from frontdesk.data.models import Category

    s = any_session
    ann = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Ann", phone="+14155550123")
    )
    _keep_row(
        s, ann, {"first_name": "Ann", "phone": "+14155550123", "city": "Oakland"}, category="vip"
    )
    row_id = candidates.pending(session=s)[0].id
    row = candidates.get_pending(session=s, candidate_id=row_id)
    vip = s.exec(select(Category).where(col(Category.name) == "VIP")).one()
    chosen = candidates.default_choices(session=s, customer=ann, candidate=row)
    assert (chosen["category_id"], chosen["city"]) == (vip.id, "Oakland")
    merged = candidates.merge_candidate(session=s, candidate_id=row_id, chosen=chosen, actor=ADMIN)
    assert (merged.category_id, merged.city) == (vip.id, "Oakland")


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_duplicates_within_the_file_across_batches(
    engine: Engine, tmp_path: Path, batch_size: int
) -> None:
    """Later rows repeating an earlier row are found whether or not they share its batch."""
    path = tmp_path / "repeats.csv"
    path.write_text(
        "First Name,Phone,Email\n"
        "Ann,+14155550101,ann@example.com\n"
        "Bea,+14155550102,\n"
        "Ann again,+14155550101,\n"  # same phone as row 1
        "Cy,,ann@example.com\n"  # same email as row 1
        "Bea,+14155550102,bea@example.com\n",  # same phone as row 2
        encoding="utf-8",
    )
    errors = tmp_path / "repeats.errors.csv"
    summary = run_import(
        engine=engine,
        path=path,
        options=ImportOptions(batch_size=batch_size, error_file=errors),
        actor=ADMIN,
    )
    assert (summary.imported, summary.duplicates_in_file, summary.duplicates_in_db) == (2, 3, 0)
    with errors.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [(r[-3], r[-2]) for r in rows] == [("3", "phone"), ("4", "email"), ("5", "phone")]


def test_id_set() -> None:
    from frontdesk.data.importing import IdSet

    ids = IdSet()
    for n in (1, 8, 9, 1_000_003):
        ids.add(n)
    assert [n in ids for n in (0, 1, 7, 8, 9, 10, 1_000_003, 1_000_004, -1)] == [
        False,
        True,
        False,
        True,
        True,
        False,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_repeats_of_rows_that_matched_customers_across_batches(
    engine: Engine, tmp_path: Path, batch_size: int
) -> None:
    """A row repeating an earlier row that updated a customer is a repeat, not a second update."""
    with Session(engine) as s:
        svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="Ann", phone="+14155550101", email="ann@example.com"
            ),
        )
        s.commit()
    path = tmp_path / "updates.csv"
    path.write_text(
        "First Name,Phone,Email,City\n"
        "Ann,+14155550101,,Amsterdam\n"  # fills Ann's empty city
        "Ann,+14155550101,,Berlin\n"  # repeats row 1's phone: not applied
        "Ann,,ann@example.com,Cairo\n"  # row 1 matched by phone only: Ann again, nothing to fill
        "Ann,,ann@example.com,Dakar\n",  # repeats row 3's email
        encoding="utf-8",
    )
    summary = run_import(
        engine=engine,
        path=path,
        options=ImportOptions(batch_size=batch_size, on_duplicate="update"),
        actor=ADMIN,
    )
    assert (summary.updated, summary.duplicates_in_file, summary.duplicates_in_db) == (1, 2, 2)
    with Session(engine) as s:
        assert s.exec(select(Customer)).one().city == "Amsterdam"


def test_merging_a_blocked_customer_into_an_unblocked_one_keeps_the_block(
    any_session: Session,
) -> None:
    """Found by the monkey test: the survivor became blocked without a reason (CHECK failed)."""
    s = any_session
    keep = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Ann", phone="+14155550181")
    )
    other = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(first_name="Anne", email="anne.b@example.com"),
    )
    svc.block_customer(
        session=s, customer_id=other.id or 0, reason="Unpaid no-shows [x2]", actor=ADMIN
    )
    s.commit()
    survivor = merge.merge_customers(
        session=s, survivor_id=keep.id or 0, other_ids=[other.id or 0], actor=ADMIN
    )
    s.commit()
    assert survivor.blocked
    assert survivor.blocked_reason == "Unpaid no-shows [x2]"
    # Neither blocked: the survivor stays unblocked.
    a = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Bo", phone="+14155550182")
    )
    b = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Bob", email="bob.b@example.com")
    )
    s.commit()
    merged = merge.merge_customers(
        session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=ADMIN
    )
    assert not merged.blocked and merged.blocked_reason is None


def test_merging_an_imported_row_keeps_the_contacts_not_chosen(
    engine: Engine, tmp_path: Path
) -> None:
    from frontdesk.data import candidates, contacts
    from frontdesk.data.models import MergeCandidate

    imp(engine, "shopify.csv", tmp_path)
    run_import(
        engine=engine,
        path=_candidates_file(tmp_path),
        options=ImportOptions(on_duplicate="candidate"),
        actor=ADMIN,
    )
    with Session(engine) as s:
        martha_row = candidates.pending(session=s)[1]
        customer = svc.get_customer(session=s, customer_id=martha_row.customer_id)
        own_email = customer.email
        row = s.get(MergeCandidate, martha_row.id)
        assert row is not None and own_email
        # The row's email is chosen: the customer's own one stays as a secondary.
        chosen = candidates.default_choices(session=s, customer=customer, candidate=row)
        chosen["email"] = "martha@example.com"
        merged = candidates.merge_candidate(
            session=s, candidate_id=martha_row.id, chosen=chosen, actor=ADMIN
        )
        s.commit()
        kept = {
            (c.value, c.origin) for c in contacts.contacts_of(session=s, customer_id=merged.id or 0)
        }
        assert merged.email == "martha@example.com"
        assert any(v == own_email.lower() and "before a merge" in o for v, o in kept)
        # Both addresses still find her.
        for text in ("martha@example.com", own_email):
            assert [c.id for c in svc.search(session=s, text=text, limit=5)] == [merged.id]


def test_an_imported_rows_own_email_stays_when_the_customers_is_kept(
    engine: Engine, tmp_path: Path
) -> None:
    from frontdesk.data import candidates, contacts
    from frontdesk.data.models import MergeCandidate

    imp(engine, "shopify.csv", tmp_path)
    run_import(
        engine=engine,
        path=_candidates_file(tmp_path),
        options=ImportOptions(on_duplicate="candidate"),
        actor=ADMIN,
    )
    with Session(engine) as s:
        martha_row = candidates.pending(session=s)[1]
        customer = svc.get_customer(session=s, customer_id=martha_row.customer_id)
        row = s.get(MergeCandidate, martha_row.id)
        assert row is not None
        chosen = candidates.default_choices(session=s, customer=customer, candidate=row)
        assert chosen["email"] == customer.email  # the customer's own wins by default
        merged = candidates.merge_candidate(
            session=s, candidate_id=martha_row.id, chosen=chosen, actor=ADMIN
        )
        s.commit()
        kept = {
            (c.value, c.origin) for c in contacts.contacts_of(session=s, customer_id=merged.id or 0)
        }
        assert ("martha@example.com", "imported (again.csv record 2)") in kept
        assert [c.id for c in svc.search(session=s, text="martha@example.com", limit=5)] == [
            merged.id
        ]


def test_imported_consents_are_in_the_history_by_customer_and_purpose(
    engine: Engine, tmp_path: Path
) -> None:
    """Each new customer's consents, and only those, are recorded (granted, source import),
    whichever of the four a batch's rows give: none, one, all."""
    from frontdesk.data.models import ConsentChange

    data = tmp_path / "consents.csv"
    data.write_text(
        "First name,Email,Reminders,Birthday messages,Marketing,Newsletter\n"
        "None,none@example.com,no,no,no,no\n"
        "All,all@example.com,yes,yes,yes,yes\n"
        "Market,market@example.com,no,no,yes,no\n"
        "Plain,plain@example.com,,,,\n",  # the defaults: reminders only
        encoding="utf-8",
    )
    for batch_size in (1, 4):  # a batch of one row each, then all in one
        db = open_database(tmp_path / f"c{batch_size}.db")
        summary = run_import(
            engine=db, path=data, options=ImportOptions(batch_size=batch_size), actor=ADMIN
        )
        assert summary.imported == 4
        with Session(db) as s:
            rows = s.exec(
                select(Customer.first_name, ConsentChange.purpose)
                .join(Customer, col(Customer.id) == col(ConsentChange.customer_id))
                .where(col(ConsentChange.granted), col(ConsentChange.source) == "import")
                .order_by(col(ConsentChange.id))
            ).all()
        assert [tuple(r) for r in rows] == [
            ("All", "reminders"),
            ("All", "birthday"),
            ("All", "marketing"),
            ("All", "newsletter"),
            ("Market", "marketing"),
            ("Plain", "reminders"),
        ]


def test_the_cli_progress_bar_starts_no_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`frontdesk import` on a terminal shows a bar, redrawn after each batch: it starts no
    thread of its own, so the CLI's validating workers can be forked (ready at once)."""
    import threading

    from click.testing import CliRunner
    from rich.live import _RefreshThread

    from frontdesk.cli import main
    from frontdesk.data import importing

    chosen = importing._start_method
    seen: list[list[threading.Thread]] = []

    def recorded() -> str:  # the threads running as the workers start
        seen.append(threading.enumerate())
        return chosen()

    monkeypatch.setattr(importing, "_start_method", recorded)
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # the CLI's standard error is a terminal
    source = tmp_path / "google.csv"
    shutil.copy(FIXTURES / "google.csv", source)
    args = ["--staff", "boss", "import", "--db", str(tmp_path / "bar.db"), str(source)]
    args += ["--workers", "1", "--default-country", "US"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Imported" in result.stdout
    assert "\x1b[?25l" in result.stderr  # the bar was live (the cursor hidden meanwhile)
    assert len(seen) == 1
    assert not [t for t in seen[0] if isinstance(t, _RefreshThread)]  # the bar's own thread


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_end_with_a_killed_import_and_leave_the_writer_lock_free(
    tmp_path: Path, method: str
) -> None:
    """An import killed in the middle (kill, out of memory) takes its validating workers with
    it: none waits on for ever, and a forked one does not keep the writer-lock file it
    inherited held (every other desk's writes would time out)."""
    import fcntl
    import subprocess
    import time

    script = tmp_path / "killed.py"
    script.write_text(
        f"""
import csv, json, multiprocessing, os, signal
from pathlib import Path
from frontdesk.data import importing
from frontdesk.data.db import open_database

d = Path({str(tmp_path)!r})
src = d / "in.csv"
with src.open("w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["First name", "Phone"])
    for i in range(3000):
        w.writerow([f"Ann{{i}}", f"+1 415 201 {{i:04d}}"])
engine = open_database(d / "x.db")
written = []

def progress(rows):
    written.append(rows)
    if len(written) == 3:
        kids = [p.pid for p in multiprocessing.active_children()]
        (d / "kids.json").write_text(json.dumps(kids))
        engine.connect().begin()  # in the middle of a write: the writer's turn taken
        os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    importing._start_method = lambda: {method!r}
    importing.run_import(
        engine=engine,
        path=src,
        options=importing.ImportOptions(
            workers=1, batch_size=100, default_country="US", commit_seconds=0
        ),
        progress=progress,
    )
""",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    kids = json.loads((tmp_path / "kids.json").read_text())
    assert kids

    def ended(pid: int) -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        return "State:\tZ" in status  # dead, waiting to be reaped

    deadline = time.monotonic() + 30
    while not all(ended(pid) for pid in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(ended(pid) for pid in kids)
    fd = os.open(tmp_path / "x.db-writers", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: raises BlockingIOError if held
    finally:
        os.close(fd)
