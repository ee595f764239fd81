"""Tab 5: notes on the customer (and on their bookings): add, edit, delete, reorder, filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static

from frontdesk.data import notes as note_svc
from frontdesk.data import profile as data
from frontdesk.data.note_text import markdown_summary
from frontdesk.data.roles import NotAllowed
from frontdesk.screens.common import safe_markdown
from frontdesk.screens.fmt import when
from frontdesk.screens.profile.modals import NoteModal, NoteRequest
from frontdesk.screens.profile.tab import (
    FieldBar,
    ProfileTab,
    RowTable,
    cell,
    fill_table,
    highlighted_id,
)
from frontdesk.text import plain
from frontdesk.widgets.select import Select


def first_line(body: str, width: int = 60) -> str:
    """A note as one plain line (Markdown without its markup), cut to ``width``."""
    return markdown_summary(body, max_length=width)


class NotesTable(RowTable):
    """``enter`` (the table's own "select") edits the note: shown in the footer as such."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Edit note")]


class NotesTab(ProfileTab):
    NAME = "notes"
    DEFAULT_CSS = """
    NotesTab #n-category {
        width: 40;
    }
    NotesTab #n-bar {
        height: auto;
    }
    NotesTab #n-table {
        height: 1fr;
    }
    NotesTab.-empty #n-table {
        height: auto;
    }
    NotesTab #n-empty, NotesTab.-empty #n-preview {
        display: none;
    }
    NotesTab.-empty #n-empty {
        display: block;
    }
    NotesTab #n-preview {
        height: auto;
        max-height: 12;
        border-top: solid $primary;
        padding: 0 1;
    }
    NotesTab #n-preview Markdown {
        margin: 0;
        padding: 0;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add note"),
        Binding("delete", "delete", "Delete note"),
        Binding("K", "move(-1)", "Move up"),
        Binding("J", "move(1)", "Move down"),
        Binding("slash", "filter", "Category", tooltip="Show one category of notes"),
    ]
    NEEDS: ClassVar[dict[str, str]] = dict.fromkeys(("add", "edit", "delete", "move"), "notes")

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[data.NoteRow] = []
        self.categories: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        yield FieldBar(
            Select[int]([], prompt="All categories", id="n-category"),
            table="#n-table",
            id="n-bar",
        )
        yield NotesTable(id="n-table")
        yield Static("No notes yet — press a to add one.", id="n-empty", classes="empty")
        with VerticalScroll(id="n-preview", can_focus=False):
            yield safe_markdown("", id="n-preview-body")

    def on_mount(self) -> None:
        self.table.add_columns("", "Category", "Note", "By", "When", "Visible to")

    def focus_target(self) -> Widget:
        return self.table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer offers them on the notes this operator may change.
        if action in ("delete", "move"):
            note = self._note(warn=False)
            if note is not None and not note_svc.may_change_note(note.author_id, self.operator):
                return False
        return super().check_action(action, parameters)

    def needed_for(self, action: str) -> str | None:
        """The permission a key's action takes here (the app says why a refused key did
        nothing): moving or deleting a note someone else wrote takes "notes.others"."""
        if action in ("delete", "move"):
            note = self._note(warn=False)
            if note is not None and not note_svc.may_change_note(note.author_id, self.operator):
                return "notes.others"
        return self.NEEDS.get(action)

    def _may_change(self, note: data.NoteRow) -> bool:
        if note_svc.may_change_note(note.author_id, self.operator):
            return True
        self.notify(str(NotAllowed("notes.others", self.operator)), severity="warning")
        return False

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#n-table", DataTable)

    # ---------------------------------------------------------------- loading
    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        return lambda s: data.load_notes_tab(session=s, customer_id=customer_id)

    def show_data(self, tab: data.NotesTab) -> None:
        self.notes = tab.notes
        if tab.categories != self.categories:
            self.categories = tab.categories
            self.refill_select(self.query_one("#n-category", Select), tab.categories)
        self.show_notes(select=self.take_selection())

    def show_notes(self, select: str | None = None) -> None:
        chosen = self.query_one("#n-category", Select).value
        shown = [n for n in self.notes if not isinstance(chosen, int) or n.category_id == chosen]
        rows = []
        for n in shown:
            marks = ("⚠" if n.is_alert else "") + ("📌" if n.pinned else "")
            text = cell(first_line(n.body))
            if n.booking_id:
                text.append(f" (booking #{n.booking_id})", style="dim")
            rows.append(
                (
                    str(n.id),
                    [
                        Text(marks, style="bold red"),
                        cell(n.category),
                        text,
                        cell(n.by),
                        when(n.created_at),
                        "customer" if n.visibility == "customer" else "staff",
                    ],
                )
            )
        fill_table(self.table, rows, select=select)
        self.set_class(not rows, "-empty")
        self.show_preview()

    def show_preview(self) -> None:
        # Markdown's code (its parser, the syntax highlighter) loads with the tab's first
        # preview (safe_markdown), not with the profile: most profiles never show this tab.
        from textual.widgets import Markdown

        note = self._note(warn=False)
        self.query_one("#n-preview-body", Markdown).update(
            plain(note.body, multiline=True) if note else ""
        )

    @on(DataTable.RowHighlighted, "#n-table")
    def note_highlighted(self) -> None:
        self.show_preview()
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#n-table")
    def note_selected(self) -> None:
        self.action_edit()  # enter on a note edits it

    @on(Select.Changed, "#n-category")
    def category_changed(self) -> None:
        self.show_notes()

    def action_filter(self) -> None:
        self.screen.set_focus(self.query_one("#n-category", Select))

    # ---------------------------------------------------------------- actions
    def _note(self, *, warn: bool = True) -> data.NoteRow | None:
        note_id = highlighted_id(self.table)
        note = next((n for n in self.notes if n.id == note_id), None)
        if note is None and warn:
            self.notify("No note highlighted", severity="warning")
        return note

    def action_add(self) -> None:
        customer_id = self.profile.customer_id
        actor = self.operator

        def save(req: NoteRequest | None) -> None:
            if req is not None:
                self.write(
                    lambda s: note_svc.add_note(
                        session=s, customer_id=customer_id, **req.values(), actor=actor
                    ),
                    changed="note",
                    done="Note added",
                    select=lambda note: str(note.id),
                )

        self.ask(NoteModal(self.categories), save)

    def action_edit(self) -> None:
        note = self._note()
        if note is None or not self._may_change(note):
            return
        actor = self.operator
        note_id = note.id

        def save(req: NoteRequest | None) -> None:
            if req is not None:
                self.write(
                    lambda s: note_svc.update_note(
                        session=s, note_id=note_id, **req.values(), actor=actor
                    ),
                    changed="note",
                    done="Note saved",
                    select=lambda _: str(note_id),
                )

        initial = NoteRequest(
            note.body, note.category_id, note.visibility, note.pinned, note.is_alert
        )
        self.ask(NoteModal(self.categories, title="Edit note", initial=initial), save)

    def action_delete(self) -> None:
        note = self._note()
        if note is None or not self._may_change(note):
            return
        actor = self.operator
        note_id = note.id

        question = Text("Delete this note?\n")
        question.append_text(cell(first_line(note.body)))
        self.confirm_write(
            question,
            lambda s: note_svc.delete_note(session=s, note_id=note_id, actor=actor),
            yes="Delete",
            no="Keep",
            changed="note",
            done="Note deleted",
        )

    def action_move(self, direction: int) -> None:
        note = self._note()
        if note is None or not self._may_change(note):
            return
        note_id, actor = note.id, self.operator
        self.write(
            lambda s: note_svc.move_note(
                session=s, note_id=note_id, direction=direction, actor=actor
            ),
            changed="note",
            done=None,
            select=lambda _: str(note_id),
        )
