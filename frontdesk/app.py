"""The Textual application: screens, global keys, command palette."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.screen import Screen

from frontdesk.data import customers as customer_svc
from frontdesk.data.db import read_engine
from frontdesk.data.models import Staff, utcnow
from frontdesk.data.staff import resolve_operator
from frontdesk.data.validation import format_phone

T = TypeVar("T")


class CustomerCommands(Provider):
    """Command palette: type part of a name, phone, email or code to jump to a profile."""

    async def search(self, query: str) -> Hits:
        app = self.app
        if not isinstance(app, FrontdeskApp) or len(query.strip()) < 2:
            return
        found = await app.run_in_thread(
            lambda s: customer_svc.search(session=s, text=query, limit=12)
        )
        for rank, customer in enumerate(found):
            assert customer.id is not None
            phone = format_phone(customer.phone)
            detail = " · ".join(p for p in (customer.code, phone, customer.email or "") if p)
            yield Hit(
                score=1.0 - rank / 100,
                match_display=f"{customer.full_name}  [dim]{detail}[/]",
                command=partial(app.open_customer, customer.id),
                text=f"{customer.full_name} {detail}",
                help="Open the customer's profile",
            )


class FrontdeskApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Frontdesk"
    COMMANDS = App.COMMANDS | {CustomerCommands}
    BINDINGS = [
        Binding("question_mark", "toggle_keys", "Keys", tooltip="Show every key of this screen"),
        Binding("b", "new_booking", "Book", show=False, tooltip="New booking"),
        Binding("o", "new_order", "Order", show=False, tooltip="New order"),
        Binding("S", "settings", "Settings", show=False, tooltip="Settings"),
        Binding("I", "import", "Import", show=False, tooltip="Import customers"),
        Binding("D", "duplicates", "Duplicates", show=False, tooltip="Find duplicates"),
    ]

    def __init__(
        self,
        *,
        engine: Engine,
        staff: str | None = None,
        data_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.reader = read_engine(engine)
        self.requested_staff = staff
        self.operator: Staff | None = None
        self.data_dir = data_dir
        # The app's idea of 'now' (tests pin it so that relative dates are stable).
        self.clock: Callable[[], datetime] = clock or utcnow

    # ------------------------------------------------------------------ data helpers
    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a read-only session (call from a worker thread)."""
        with Session(self.reader, expire_on_commit=False) as session:
            return work(session)

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction; commits when it returns."""
        with Session(self.engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result

    async def run_in_thread(self, work: Callable[[Session], T]) -> T:
        import asyncio

        return await asyncio.to_thread(self.read, work)

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        from frontdesk.screens.directory import DirectoryScreen

        with Session(self.engine, expire_on_commit=False) as session:
            self.operator = resolve_operator(session=session, requested=self.requested_staff)
        if self.operator:
            self.sub_title = f"{self.operator.name} · {self.operator.role}"
        elif self.requested_staff:
            self.sub_title = f"unknown staff {self.requested_staff!r}"
        else:
            self.sub_title = "no staff member (use --staff)"
        self.push_screen(DirectoryScreen())
        self.expire_points()

    @work(thread=True, exclusive=True, group="expire-points", exit_on_error=False)
    def expire_points(self) -> None:
        """Write off expired loyalty balances by explicit ledger entries (on opening)."""
        from frontdesk.data import rewards

        today = self.clock().astimezone().date()
        expired = self.write(lambda s: rewards.expire_points(session=s, today=today))
        if expired:
            self.call_from_thread(
                self.notify, f"Expired points written off for {expired} enrolments"
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New customer", "Add a customer (n)", self.action_new_customer)
        yield SystemCommand("Directory", "Back to the customer directory", self.action_directory)
        yield SystemCommand("New booking", "Book an appointment (b)", self.action_new_booking)
        yield SystemCommand(
            "Settings",
            "Custom fields, categories, tags, loyalty programs (S)",
            self.action_settings,
        )
        yield SystemCommand(
            "New order", "Sell services, packages or products (o)", self.action_new_order
        )

    # ------------------------------------------------------------------ actions
    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_directory(self) -> None:
        from frontdesk.screens.directory import DirectoryScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, DirectoryScreen):
            self.pop_screen()

    def open_customer(self, customer_id: int) -> None:
        from frontdesk.screens.profile import ProfileScreen

        self.push_screen(ProfileScreen(customer_id))

    def action_settings(self) -> None:
        from frontdesk.screens.settings import SettingsScreen

        def closed(_: None) -> None:
            from frontdesk.screens.directory import DirectoryScreen

            for screen in self.screen_stack:
                if isinstance(screen, DirectoryScreen):
                    screen.refresh_lookups()

        self.push_screen(SettingsScreen(), closed)

    def action_import(self) -> None:
        from frontdesk.screens.import_wizard import ImportScreen

        self.push_screen(ImportScreen(), lambda _: self._refresh_directory())

    def action_duplicates(self) -> None:
        from frontdesk.screens.merge import DuplicatesScreen

        self.push_screen(DuplicatesScreen(), lambda _: self._refresh_directory())

    def _refresh_directory(self) -> None:
        from frontdesk.screens.directory import DirectoryScreen

        for screen in self.screen_stack:
            if isinstance(screen, DirectoryScreen):
                screen.refresh_lookups()

    def action_new_booking(self) -> None:
        self.new_booking()

    def action_new_order(self) -> None:
        self.new_order()

    def new_booking(self, customer_id: int | None = None, follow_up: bool = False) -> None:
        from frontdesk.screens.booking import NewBookingScreen

        def booked(result: tuple[int, int] | None) -> None:
            if result is not None:
                self.notify(f"Booking #{result[0]} confirmed")
                self.show_customer(result[1])

        self.push_screen(
            NewBookingScreen(customer_id=customer_id, follow_up=follow_up), callback=booked
        )

    def new_order(self, customer_id: int | None = None) -> None:
        from frontdesk.screens.order import NewOrderScreen

        def ordered(result: tuple[int, int] | None) -> None:
            if result is not None:
                self.notify(f"Order #{result[0]} saved")
                self.show_customer(result[1])

        self.push_screen(NewOrderScreen(customer_id=customer_id), callback=ordered)

    def show_customer(self, customer_id: int) -> None:
        """Open the profile, or refresh it when it is already the screen below."""
        from frontdesk.screens.profile import ProfileScreen

        if isinstance(self.screen, ProfileScreen) and self.screen.customer_id == customer_id:
            self.screen.load()
        else:
            self.open_customer(customer_id)

    def action_new_customer(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        def saved(customer_id: int | None) -> None:
            if customer_id is not None:
                self.notify("Customer saved")
                self.open_customer(customer_id)

        self.push_screen(CustomerFormScreen(), callback=saved)
