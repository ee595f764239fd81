"""Use cases of the import wizard: what it offers, a look at the chosen file, the run itself.

The wizard hands over what was typed (:class:`ImportForm`, every value as text); a value that
cannot be used raises :class:`ValidationFailed` naming its field (``path``,
``default_country``, ``points``, and from the import itself ``category``, ``branch``,
``program``, ``map``), so the wizard shows it next to that field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import fields, importing, rewards
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import Branch, Category, Staff
from frontdesk.data.roles import require
from frontdesk.data.validation import check_text, valid_region

SAMPLE_ROWS = 3


@dataclass
class ImportChoices:
    """What the wizard's selects offer, by name (the import looks names up itself)."""

    categories: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)  # active ones
    custom_fields: list[tuple[str, str]] = field(default_factory=list)  # (label, key)


def load_import_choices(*, session: Session) -> ImportChoices:
    return ImportChoices(
        categories=[
            c.name for c in session.exec(select(Category).order_by(col(Category.position)))
        ],
        branches=[b.name for b in session.exec(select(Branch).order_by(col(Branch.name)))],
        programs=[p.name for p in rewards.list_programs(session=session, active_only=True)],
        custom_fields=[(f.label, f.key) for f in fields.list_fields(session=session)],
    )


def import_path(text: str) -> Path:
    """The file a person typed (``~`` expanded), or ValidationFailed("path")."""
    raw = check_text("path", text) or ""
    if not raw.strip():
        raise ValidationFailed("path", "type the path of a CSV or XLSX file")
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise ValidationFailed("path", f"no file at {path}")
    return path


@dataclass
class FilePreview:
    path: Path
    headers: list[str]
    samples: list[list[str]]  # the first rows, for the examples next to the mapping
    mapping: dict[str, str]  # header -> field as guessed


def inspect_file(*, path: str, custom: list[tuple[str, str]] | None = None) -> FilePreview:
    """Headers, a few rows and the guessed mapping of the file at ``path`` (no database);
    ``custom``: the custom fields as (label, key), whose columns are recognised by label."""
    found = import_path(path)
    try:
        source = importing.open_source(found)
        samples: list[list[str]] = []
        rows = source.rows
        try:
            for _record, cells in rows:
                samples.append(cells)
                if len(samples) >= SAMPLE_ROWS:
                    break
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()
    except (OSError, UnicodeError, ValueError, KeyError) as exc:
        raise ValidationFailed("path", f"cannot read {found.name}: {exc}") from None
    if not source.headers:
        raise ValidationFailed("path", f"{found.name} is empty (no header row)")
    return FilePreview(
        path=found,
        headers=source.headers,
        samples=samples,
        mapping=importing.guess_mapping(source.headers, custom),
    )


@dataclass(frozen=True)
class ImportForm:
    """The wizard as filled in."""

    path: str
    mapping: dict[str, str]
    country: str = ""
    date_order: str = "auto"  # by the default country
    on_duplicate: str = "skip"
    tag: str = ""
    category: str | None = None
    branch: str | None = None
    program: str | None = None
    points: str = "0"


def import_options(form: ImportForm, *, dry_run: bool) -> importing.ImportOptions:
    """The import's options from the form; ValidationFailed names the field to fix."""
    country_text = (check_text("default_country", form.country) or "").strip()
    country = None
    if country_text:
        country = valid_region(country_text)
        if country is None:
            raise ValidationFailed(
                "default_country", f"{country_text!r} is not a country code (e.g. NL, US, GB)"
            )
    raw_points = (check_text("points", form.points) or "").strip() or "0"
    if raw_points.startswith("-") and raw_points[1:].isdigit():
        raise ValidationFailed("points", "cannot be negative")
    if not (raw_points.isascii() and raw_points.isdigit()):
        raise ValidationFailed("points", f"{raw_points!r} is not a whole number")
    if len(raw_points) > len(str(rewards.MAX_POINTS)):
        raise ValidationFailed("points", f"is too large (at most {rewards.MAX_POINTS:,})")
    rewards.check_points("points", int(raw_points))
    return importing.ImportOptions(
        mapping=dict(form.mapping),
        default_country=country,
        date_order=form.date_order,
        on_duplicate=form.on_duplicate,
        tag=(check_text("tag", form.tag) or "").strip() or None,
        category=form.category,
        branch=form.branch,
        program=form.program,
        points=int(raw_points),
        dry_run=dry_run,
        workers=None,  # large files are validated in worker processes
    )


@dataclass
class WizardRun:
    summary: importing.ImportSummary
    dry_run: bool
    error_file: Path | None


def run_wizard_import(
    *,
    engine: Engine,
    form: ImportForm,
    dry_run: bool,
    actor: Staff | None = None,
    started: Callable[[int | None], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> WizardRun:
    """Preview (``dry_run``) or import the file as the wizard shows it.

    For the desk (``roles``: import). ``started(total rows or None)`` is called once before the first batch of a real import,
    ``progress(rows)`` after each batch. Rows of a real import that were refused or imported
    with a warning are written next to the file (``<name>.errors.csv``, only when there are).
    """
    require(actor, "import")
    path = import_path(form.path)
    options = import_options(form, dry_run=dry_run)
    if not dry_run:
        options.error_file = importing.error_file_for(path)
        if started is not None:
            started(importing.count_rows(path))
    summary = importing.run_import(
        engine=engine,
        path=path,
        options=options,
        actor=actor,
        progress=None if dry_run else progress,
    )
    return WizardRun(summary=summary, dry_run=dry_run, error_file=summary.error_file)
