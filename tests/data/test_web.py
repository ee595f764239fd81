"""`frontdesk web`: the app served to a real headless browser (Chromium through Selenium),
to the holder of the key it prints only (a real server, a real HTTP client).

The browser test runs where Chromium and its driver are installed (Debian: chromium,
chromium-driver), and skips cleanly elsewhere. The terminal is drawn on a canvas, so it proves
what the browser did through the database: a search by phone digits found the customer, enter
opened the profile, `e` its form, and the name typed in the browser was saved.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from frontdesk.data.models import Customer
from frontdesk.data.validation import digits

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

needs_browser = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="Chromium and chromedriver are not installed"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "web.db"
    engine = open_database(db)
    generate(engine=engine, customers=200, seed=5)
    engine.dispose()
    port = free_port()
    log = (tmp_path / "web.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "frontdesk",
            "--db",
            str(db),
            "--staff",
            "rita",
            "web",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        yield printed_address(tmp_path / "web.log"), db
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def printed_address(log: Path) -> str:
    """The address `frontdesk web` printed (with its key)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:\d+/\?key=[\w-]+", log.read_text())
        if found:
            return found.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no address printed: {log.read_text()!r}")


def test_only_the_printed_address_opens_the_app(served: tuple[str, Path]) -> None:
    """Anyone else who can reach the port (another login on a shared server reaches
    127.0.0.1 too) is refused the page, the terminal's socket and downloads."""
    import httpx

    address, _db = served
    base, key = address.split("/?key=")
    port = base.rsplit(":", 1)[1]
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    with httpx.Client(base_url=base) as stranger:
        for path in ("/", "/?key=wrong", f"/?key={key[:-1]}", "/ws", "/download/x"):
            answer = stranger.get(path, headers=upgrade if path == "/ws" else None)
            assert answer.status_code == 403, path
        assert "needs its key" in stranger.get("/").text
        assert stranger.get("/static/js/textual.js").status_code == 200  # the page's own code
    with httpx.Client(base_url=base) as desk:
        first = desk.get(f"/?key={key}&fontsize=14")
        assert first.status_code == 303 and first.headers["location"] == "/?fontsize=14"
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        page = desk.get("/?fontsize=14")  # the cookie, not the key
        assert page.status_code == 200 and f'"ws://127.0.0.1:{port}/ws' in page.text
        # A page of another site open in the same browser cannot drive the terminal.
        foreign = desk.get("/ws", headers={**upgrade, "Origin": "http://evil.example"})
        assert foreign.status_code == 403
    with httpx.Client(base_url=base, cookies={f"frontdesk_web_{port}": "guess"}) as guesser:
        assert guesser.get("/").status_code == 403
    # Opened as localhost (a tunnel's usual name): the page's terminal socket is there too,
    # where the browser's cookie goes.
    with httpx.Client(base_url=f"http://localhost:{port}", follow_redirects=True) as other_name:
        assert other_name.get(f"/?key={key}").status_code == 200  # (after the redirect)
        assert f'"ws://localhost:{port}/ws' in other_name.get("/").text
    # The server's log shows the requests, never the key.
    log = (_db.parent / "web.log").read_text()
    assert '"GET /?key=... HTTP/1.1" 403' in log and log.count(key) == 1  # the printed address


@needs_browser
def test_the_browser_finds_a_customer_by_phone_and_edits_the_profile(
    served: tuple[str, Path],
) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, db = served
    engine = open_database(db)
    with Session(engine) as s:
        target = s.exec(
            select(Customer).where(col(Customer.phone).is_not(None)).order_by(col(Customer.id))
        ).first()
        assert target is not None and target.phone
    typed_digits = digits(target.phone)[-7:]

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,900")
    browser = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        browser.get(url)
        deadline = time.monotonic() + 60
        while "-first-byte" not in (browser.execute_script("return document.body.className") or ""):
            assert time.monotonic() < deadline, "the app never drew in the browser"
            time.sleep(0.2)
        time.sleep(2)  # the directory's first page
        # Keys go to the terminal's input (as a click on the page would focus it).
        browser.execute_script("document.querySelector('textarea.xterm-helper-textarea').focus()")
        keys = ActionChains(browser)
        keys.send_keys("/", typed_digits).pause(1.5)
        keys.send_keys(Keys.ARROW_DOWN, Keys.ENTER).pause(2)
        keys.send_keys("e").pause(2)
        keys.send_keys(Keys.TAB, Keys.TAB, "Browser Desk")
        keys.key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL)
        keys.perform()
        deadline = time.monotonic() + 30
        while True:
            with Session(engine) as s:
                saved = s.get(Customer, target.id)
                assert saved is not None
                if saved.display_name == "Browser Desk":
                    break
            if time.monotonic() > deadline:
                browser.save_screenshot(str(db.with_suffix(".png")))
                raise AssertionError(f"the edit typed in the browser was not saved (see {db}.png)")
            time.sleep(0.3)
    finally:
        browser.quit()
        engine.dispose()


def test_web_refuses_an_unknown_staff_member(tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    engine = open_database(db)
    generate(engine=engine, customers=5, seed=5)
    engine.dispose()
    result = subprocess.run(
        [sys.executable, "-m", "frontdesk", "--db", str(db), "--staff", "nobody", "web"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "'nobody' is not on the staff list" in result.stderr
