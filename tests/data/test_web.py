"""`frontdesk web`: the app served to a real headless browser (Chromium through Selenium).

Runs where Chromium and its driver are installed (Debian: chromium, chromium-driver), and
skips cleanly elsewhere. The terminal is drawn on a canvas, so the test proves what the
browser did through the database: a search by phone digits found the customer, enter opened
the profile, `e` its form, and the name typed in the browser was saved.
"""

from __future__ import annotations

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

pytestmark = pytest.mark.skipif(
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
        yield f"http://127.0.0.1:{port}", db
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


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
