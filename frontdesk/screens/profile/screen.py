"""The customer profile: a header (who, how to reach them, alerts) above seven tabs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import AwaitMount
from textual.widgets import Collapsible, Header, Static, TabbedContent, TabPane, Tabs

from frontdesk.data import delete_flow, roles
from frontdesk.data import profile as data
from frontdesk.data.models import Staff
from frontdesk.data.validation import format_phone
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.profile.overview import OverviewTab, read_overview
from frontdesk.screens.profile.privacy import PrivacyActions
from frontdesk.screens.profile.tab import ProfileTab
from frontdesk.text import join, note_summary, plain, safe_style, user_text
from frontdesk.widgets.base import DataMixin, FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter

# The tabs in order: name, then the module and class of the tab (each loaded the first time
# its tab is shown or asked for: a profile opens on the overview, and the other tabs' code,
# their modals and services, was two thirds of what opening the first profile loaded).
TAB_MODULES: dict[str, tuple[str, str]] = {
    "overview": ("frontdesk.screens.profile.overview", "OverviewTab"),
    "bookings": ("frontdesk.screens.profile.bookings", "BookingsTab"),
    "orders": ("frontdesk.screens.profile.orders", "OrdersTab"),
    "rewards": ("frontdesk.screens.profile.rewards", "RewardsTab"),
    "notes": ("frontdesk.screens.profile.notes", "NotesTab"),
    "timeline": ("frontdesk.screens.profile.timeline", "TimelineTab"),
    "details": ("frontdesk.screens.profile.details", "DetailsTab"),
}
TABS = list(TAB_MODULES)
FIRST_TAB = TABS[0]  # shown when the profile opens
# (its reads are the read-ahead's: see first_reads)
assert TAB_MODULES[FIRST_TAB] == (OverviewTab.__module__, OverviewTab.__name__)

# What a change touches: "header" is the part above the tabs, the rest are tabs.
AFFECTS: dict[str, frozenset[str]] = {
    "booking": frozenset({"overview", "bookings", "orders", "rewards", "timeline"}),
    "order": frozenset({"overview", "orders", "rewards", "timeline"}),
    "points": frozenset({"overview", "rewards", "timeline"}),
    "note": frozenset({"header", "notes", "bookings", "timeline"}),
    "customer": frozenset({"header", "details", "timeline"}),
    "message": frozenset({"timeline"}),
    "all": frozenset({"header", *TABS}),
}
# The tab that lists what a change made (to highlight it).
SELECTS = {"booking": "bookings", "order": "orders", "note": "notes", "points": "rewards"}


def tab_class(name: str) -> type[ProfileTab]:
    """The class of the tab called ``name`` (its module loaded now if it was not yet)."""
    module, cls = TAB_MODULES[name]
    found = getattr(importlib.import_module(module), cls)
    assert issubclass(found, ProfileTab) and name == found.NAME
    return found


def load_tabs() -> None:
    """Load every tab's code (an idle desk does, before the first profile is opened)."""
    for name in TABS:
        tab_class(name)


def read_header(customer_id: int) -> Callable[[Session], data.ProfileHeader]:
    """The header's read: name, contact line, flags, alerts."""
    return lambda s: data.load_profile_header(session=s, customer_id=customer_id)


def first_reads(customer_id: int, actor: Staff | None, now: datetime) -> Callable[[Session], None]:
    """What a profile reads as it opens: its header and its first tab (the overview). An idle
    desk runs it ahead for the customer the list highlights, so that the database's
    statements are compiled and its pages read before the first profile is opened."""
    header, overview = read_header(customer_id), read_overview(customer_id, actor, now)

    def read(session: Session) -> None:
        header(session)
        overview(session)

    return read


class HeaderRow(DataMixin, Horizontal):
    """The name and contact line; the header's reads run here. Its answer reaches it once it
    is mounted, while the screen itself is still mounting (a message to the screen waited for
    the whole screen: the header came after the first layout and cost another)."""


class ProfileScreen(PrivacyActions, FrontdeskScreen[None]):
    """One customer. ``1``-``7`` switch tabs; each tab has its own keys (see the footer)."""

    DEFAULT_CSS = """
    ProfileScreen #p-head {
        height: auto;
        padding: 0 1;
    }
    ProfileScreen #p-name, ProfileScreen #p-contact {
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ProfileScreen #p-name {
        padding-right: 2;
    }
    ProfileScreen #p-banner {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ProfileScreen #p-address {
        padding: 0;
        margin: 0 1;
    }
    ProfileScreen #p-alerts {
        margin: 0 1;
        height: auto;
        max-height: 6;
    }
    ProfileScreen #tabs, ProfileScreen #tabs ContentSwitcher {
        height: 1fr;
    }
    """

    AUTO_FOCUS = "#ov-scroll"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("b", "book", "Book"),
        Binding("B", "follow_up", "Follow-up"),
        Binding("o", "order", "Order"),
        *[
            # the tab labels show their numbers, so the footer does not
            Binding(str(i), f"tab('{name}')", name.capitalize(), show=False)
            for i, name in enumerate(TABS, start=1)
        ],
        Binding("ctrl+r", "refresh", "Refresh", show=False),
        Binding("ctrl+d", "delete", "Delete customer", show=False),
        Binding("u", "restore", "Undo delete", show=False),
        Binding("L", "customer_audit", "Audit log", show=False),
        Binding("X", "export_data", "Copy of their data", show=False),
        Binding("ctrl+x", "erase", "Erase customer", show=False),
        Binding("M", "message", "Message", show=False),
        Binding("C", "consents", "Consents", show=False),
    ]

    def __init__(self, customer_id: int) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.customer_header: data.ProfileHeader | None = None
        self._holds: set[object] = set()
        self._header_seq = 0
        # A tab is made the first time it is shown or asked for (it then keeps its stale flag
        # and the row to highlight) and mounted the first time it is shown (opening a profile
        # mounts 58 widgets instead of 97).
        self._tabs: dict[str, ProfileTab] = {}
        self._mounting: dict[str, AwaitMount] = {}
        self._head = HeaderRow(id="p-head")

    def compose(self) -> ComposeResult:
        # The reads start first: they run while the widgets mount, and what they read is
        # shown when the screen and the tab are mounted (their messages wait until then),
        # in the first picture drawn.
        self.load_header()
        self.tab(FIRST_TAB).shown()
        yield Header()
        # Hidden until the header says otherwise (its answer may come before on_mount).
        banner = Static("", id="p-banner")
        banner.display = False
        yield banner
        with self._head:
            yield Static("", id="p-name")
            yield Static("", id="p-contact")
        with Collapsible(title="Address", id="p-address", collapsed=True):
            yield Static("", id="p-address-text")
        alerts = Static("", id="p-alerts", classes="alert")
        alerts.display = False
        yield alerts
        with TabbedContent(id="tabs", initial=FIRST_TAB):
            for number, name in enumerate(TABS, start=1):
                if not self.may_see(name):
                    continue  # (the other tabs keep their numbers)
                with TabPane(f"{number} {name.capitalize()}", id=name):
                    if name == FIRST_TAB:
                        yield self.tab(name)
        yield KeyFooter()

    def on_mount(self) -> None:
        # The tab row is a picture of where you are: 1-7 (or a click) move between tabs, and
        # the focus always stays inside the tab shown, so its keys always apply to it.
        self.query_one("#tabs Tabs", Tabs).can_focus = False

    # ---------------------------------------------------------------- keys wait for data
    def hold(self) -> object:
        """Keep typed keys waiting (until :meth:`release` of the returned token)."""
        token = object()
        self._holds.add(token)
        self.hold_keys()
        return token

    def release(self, token: object) -> None:
        self._holds.discard(token)
        if not self._holds:
            self.release_keys()

    # ---------------------------------------------------------------- tabs
    def tab(self, name: str) -> ProfileTab:
        """The tab called ``name`` (made now if it was not yet; not mounted until it is
        first shown)."""
        tab = self._tabs.get(name)
        if tab is None:
            tab = self._tabs[name] = tab_class(name)()
            tab.host = self
        return tab

    @property
    def active_tab(self) -> str:
        return self.query_one("#tabs", TabbedContent).active

    def may_see(self, tab: str) -> bool:
        """Whether the operator's role shows ``tab``: a therapist sees no orders (roles)."""
        return tab != "orders" or roles.sees_money(self.fd.operator)

    async def action_tab(self, name: str) -> None:
        if not self.may_see(name):
            message = str(roles.NotAllowed("money", self.fd.operator))
            self.notify(message, severity="warning", markup=False)
            return
        token = self.hold()  # keys typed after the number wait for the tab (see _opened)
        try:
            await self._mount_tab(name)  # before the switch: no empty pane is drawn
            self.query_one("#tabs", TabbedContent).active = name
            self._opened(name)
        finally:
            self.release(token)

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # A click on a tab label (the number keys went through action_tab already).
        name = event.pane.id
        if name in TABS:
            token = self.hold()
            try:
                await self._mount_tab(name)
                self._opened(name)
            finally:
                self.release(token)

    async def _mount_tab(self, name: str) -> None:
        """Mount the tab's widgets in its pane the first time it is shown."""
        tab = self.tab(name)
        if tab.is_mounted:
            return
        mounting = self._mounting.get(name)
        if mounting is None:
            pane = self.query_one(f"#{name}", TabPane)
            mounting = self._mounting[name] = pane.mount(tab)
        await mounting

    def _opened(self, name: str) -> None:
        # Keys typed after the tab's number wait until the switch has been drawn and the
        # focus is in the tab (a loaded machine let "3 p" reach the screen before the
        # Orders tab had the focus: "p" found no order to pay).
        token = self.hold()
        tab = self.tab(name)
        focused = self.focused
        if focused is None or tab not in focused.ancestors_with_self:
            self.set_focus(tab.focus_target())
        tab.shown()
        self.call_after_refresh(self.release, token)

    # ---------------------------------------------------------------- reloading
    def reload_after_change(self, what: str = "all", select: int | None = None) -> None:
        """Show a change at once: reload the header and the shown tab if ``what`` touches
        them; other tabs it touches reload when they are next shown.

        ``what``: "booking", "order", "points", "note", "customer" or "all". ``select``: the
        id of the booking/order/note just made, highlighted in its tab once loaded.
        """
        parts = AFFECTS.get(what, AFFECTS["all"])
        if select is not None and what in SELECTS:
            self.tab(SELECTS[what]).select_next(str(select))
        if "header" in parts:
            self.load_header()
        active = self.active_tab
        for name in TABS:
            if name not in parts or name not in self._tabs:
                continue  # (a tab not made yet loads when it is first shown)
            tab = self.tab(name)
            if name == active and tab.is_mounted:
                tab.load()
            else:
                tab.stale = True

    def action_refresh(self) -> None:
        self.reload_after_change("all")

    def refresh_data(self) -> None:
        """Another desk changed something: the header and the shown tab re-read."""
        self.reload_after_change("all")

    def load_header(self) -> None:
        self._header_seq += 1
        seq = self._header_seq
        token = self.hold()
        customer_id = self.customer_id

        def then(header: data.ProfileHeader) -> None:
            if seq == self._header_seq:
                self.show_header(header)
            self.release(token)

        def failed(error: Exception) -> None:
            self.release(token)
            self.notify(str(error), severity="error", markup=False, timeout=8)

        self._head.run_read(
            read_header(customer_id),
            then,
            group="profile-header",
            on_error=failed,
        )

    def show_header(self, header: data.ProfileHeader) -> None:
        self.customer_header = header
        c = header.customer
        self.customer_id = c.id or self.customer_id  # a merged-away customer: the survivor
        self.title = plain(f"{c.label} · {c.code}")

        banner = self.query_one("#p-banner", Static)
        if c.blocked:
            banner.update(
                join(Text("BLOCKED", style="bold"), user_text(c.blocked_reason), sep=" — ")
            )
            banner.set_classes("banner-blocked")
        elif c.erased_at is not None:
            banner.update(Text("ERASED customer: personal data removed; bookings and orders kept"))
            banner.set_classes("banner-inactive")
        elif c.deleted_at is not None:
            banner.update(Text("DELETED customer (u restores it)"))
            banner.set_classes("banner-inactive")
        elif c.status != "active":
            banner.update(user_text(f"{c.status.upper()} customer"))
            banner.set_classes("banner-inactive")
        banner.display = bool(c.blocked or c.deleted_at is not None or c.status != "active")

        # One line each, cut with "…" (a 100-character name does not push the tabs away;
        # the Details tab shows every field in full).
        name = Text()
        name.append_text(user_text(c.label, "bold"))
        if c.display_name:
            name.append_text(user_text(f"  ({c.full_name})", "dim"))
        name.append(f"\n{c.code}", style="dim")
        if header.category:
            name.append("  ")
            name.append_text(user_text(header.category, safe_style(header.category_colour)))
        if header.tags:
            name.append("  ")
            name.append_text(user_text(" ".join(f"#{t}" for t in header.tags), "italic"))
        self.query_one("#p-name", Static).update(name)

        contact = Text()
        if c.phone:
            contact.append_text(user_text(f"☎ {format_phone(c.phone)}"))
        if c.other_phone:
            contact.append_text(user_text(f"   other {format_phone(c.other_phone)}"))
        if c.email:
            contact.append("\n" if contact else "")
            contact.append_text(user_text(f"✉ {c.email}"))
        self.query_one("#p-contact", Static).update(contact)

        parts = [c.address, c.postal_code, c.city, c.state, c.country]
        address = ", ".join(p for p in parts if p)
        self.query_one("#p-address-text", Static).update(
            user_text(address) if address else Text("No address on file", style="dim")
        )

        alerts = self.query_one("#p-alerts", Static)
        alerts.update(
            Text("\n").join(Text.assemble("⚠ ", note_summary(body)) for body in header.alerts)
        )
        alerts.display = bool(header.alerts)
        self.refresh_bindings()  # delete or undo, as the customer is

    # ---------------------------------------------------------------- screen keys
    # action -> the permission it needs (data/roles.py), for check_action below
    NEEDS: ClassVar[dict[str, str]] = {
        "edit": "customers.write",
        "book": "book",
        "follow_up": "book",
        "order": "order",
        "customer_audit": "audit",
        "export_data": "export",
        "erase": "erase",
        "message": "messages.send",
    }

    def action_back(self) -> None:
        self.dismiss(None)

    def action_book(self) -> None:
        self.fd.new_booking(self.customer_id)

    def action_follow_up(self) -> None:
        self.fd.new_booking(self.customer_id, follow_up=True)

    def action_order(self) -> None:
        self.fd.new_order(self.customer_id)

    # ---------------------------------------------------------------- delete and undo
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden from a role that may not delete (a therapist); undo only on a deleted one.
        if action in ("delete", "restore"):
            if not self.fd.may("customers.delete"):
                return False
            header = self.customer_header
            deleted = header is not None and header.customer.deleted_at is not None
            if header is not None and header.customer.erased_at is not None:
                return False  # nothing to restore, nothing left to delete
            return deleted if action == "restore" else not deleted
        # The footer hides what the operator's role may not do (the app's key says why).
        needed = self.NEEDS.get(action)
        return needed is None or self.fd.may(needed)

    def action_delete(self) -> None:
        """Say what deleting does (future bookings cancelled, open orders stay), then do it."""
        if self.fd.refuse("customers.delete"):
            return
        customer_id = self.customer_id
        token = self.hold()  # "y" typed after ctrl+d answers the question

        def ask(preview: delete_flow.DeletePreview) -> None:
            if not preview.customer_ids:
                self.release(token)
                self.notify("This customer is already deleted")
                return
            question = join(Text("Delete "), user_text(preview.label, "bold"), Text("?"), sep="")
            question.append(f"\n{preview.consequences}")

            def answered(yes: bool | None) -> None:
                if yes:
                    self._delete(customer_id)

            self.app.push_screen(ConfirmModal(question, "Delete", "Keep"), answered)
            self.release(token)  # keys typed meanwhile answer the question

        def failed(error: Exception) -> None:
            self.release(token)
            self.notify(str(error), severity="error", markup=False)

        now = self.fd.clock()
        self.run_read(
            lambda s: delete_flow.delete_preview(session=s, customer_ids=[customer_id], now=now),
            ask,
            group="delete-preview",
            on_error=failed,
        )

    def _delete(self, customer_id: int) -> None:
        actor, now = self.fd.operator, self.fd.clock()
        token = self.hold()

        def done(outcome: delete_flow.DeleteOutcome) -> None:
            self.release(token)
            self.notify(f"{outcome.summary} — press u to undo", timeout=10)
            self.reload_after_change("all")

        def failed(error: Exception) -> None:
            self.release(token)
            self.notify(str(error), severity="error", markup=False)

        self.run_write(
            lambda s: delete_flow.delete_customers(
                session=s, customer_ids=[customer_id], actor=actor, now=now
            ),
            done,
            on_error=failed,
        )

    def action_restore(self) -> None:
        """Undo the delete: the customer and the bookings it cancelled, where still free."""
        if self.fd.refuse("customers.delete"):
            return
        customer_id, actor, now = self.customer_id, self.fd.operator, self.fd.clock()
        token = self.hold()

        def done(outcome: delete_flow.RestoreOutcome) -> None:
            self.release(token)
            self.notify(outcome.summary, timeout=10)
            for line in outcome.details:
                self.notify(line, severity="warning", markup=False, timeout=20)
            self.reload_after_change("all")

        def failed(error: Exception) -> None:
            self.release(token)
            self.notify(str(error), severity="error", markup=False)

        self.run_write(
            lambda s: delete_flow.restore_customers(
                session=s, customer_ids=[customer_id], actor=actor, now=now
            ),
            done,
            on_error=failed,
        )

    # ---------------------------------------------------------------- messages (issue 15)
    def action_message(self) -> None:
        """Write an email or SMS to this customer (preview, then queued in the outbox)."""
        if self.fd.refuse("messages.send"):
            return
        from frontdesk.screens.messaging import ComposeModal

        def sent(message_id: int | None) -> None:
            if message_id is not None:
                self.notify(f"Message #{message_id} queued (see the outbox, O)")
                self.fd.send_outbox_soon()
                self.reload_after_change("message")

        self.app.push_screen(ComposeModal(self.customer_id), sent)

    def action_consents(self) -> None:
        """The customer's consents (newsletter, marketing, reminders, birthday) and history."""
        from frontdesk.screens.messaging import ConsentModal

        def closed(changed: bool | None) -> None:
            if changed:
                self.reload_after_change("customer")

        self.app.push_screen(ConsentModal(self.customer_id), closed)

    def action_edit(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        def saved(customer_id: int | None) -> None:
            if customer_id is not None:
                self.notify("Customer saved")
                self.reload_after_change("customer")

        self.app.push_screen(CustomerFormScreen(customer_id=self.customer_id), callback=saved)
