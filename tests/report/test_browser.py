"""report.html in a real browser: headless Chromium loads the page of a real run,
with no console error and no request beyond the file itself, and shows each
section with the run's counts.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so the test
needs nothing but the Debian ``chromium`` package. Without it the test skips,
except under CI, where a missing browser must fail rather than pass silently.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.report.html import CSP, SECTIONS, fmt_int, render_html
from pipeline.engines.local import run
from tests.conftest import ALPACA_5000, needs_reference
from tests.report.reports import full_report, tiny_run

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900",
         "--remote-debugging-pipe"]
TIMEOUT_S = 30


def chromium_binary() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def _above(fd: int, lowest: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, lowest)
    os.close(fd)
    return moved


class DevTools:
    """The smallest DevTools-protocol client: commands by id, events kept in order."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Move the child's ends above 4 first, so that placing them on 3 and 4
        # cannot overwrite one with the other.
        to_browser_r, from_browser_w = (_above(fd, 10) for fd in (to_browser_r, from_browser_w))

        def give_fds():  # Chromium reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=give_fds, close_fds=False,  # fds 3 and 4 are made in the child by give_fds
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium closed the pipe (exit {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            self.events.append(self._read_message(deadline))


class Visit:
    """What happened when a page was loaded: problems, requests, and a way to ask the DOM."""

    def __init__(self, browser: DevTools, url: str) -> None:
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=self.session)
        browser.send("Page.navigate", {"url": url}, session=self.session)
        browser.wait_for("Page.loadEventFired", self.session)
        self.evaluate("1")  # a round trip, so that events raised during load have arrived

    def _events(self, method: str) -> list[dict]:
        return [e["params"] for e in self.browser.events if e.get("method") == method and e.get("sessionId") == self.session]

    def console_errors(self) -> list[str]:
        errors = [f"console.{p['type']}: {p.get('args')}" for p in self._events("Runtime.consoleAPICalled")
                  if p["type"] in ("error", "assert")]
        errors += [f"exception: {p['exceptionDetails'].get('text')}" for p in self._events("Runtime.exceptionThrown")]
        errors += [f"log {p['entry']['source']}: {p['entry']['text']}" for p in self._events("Log.entryAdded")
                   if p["entry"]["level"] == "error"]
        return errors

    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self._events("Network.requestWillBeSent")]

    def evaluate(self, expression: str):
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   session=self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is missing: .ci/run installs the Debian package `chromium`")
        pytest.skip("chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    devtools = DevTools(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield devtools
    finally:
        devtools.close()


PAGE_FACTS = """JSON.stringify({
  sections: [...document.querySelectorAll('section[data-section]')].map(s => s.id),
  toc: [...document.querySelectorAll('nav.toc a')].map(a => a.getAttribute('href')),
  tocPosition: getComputedStyle(document.querySelector('nav.toc')).position,
  kpis: Object.fromEntries([...document.querySelectorAll('.kpis [data-key]')].map(e => [e.dataset.key, e.textContent])),
  flow: Object.fromEntries([...document.querySelectorAll('#flow td[data-key]')].map(e => [e.dataset.key, e.textContent])),
  reasons: Object.fromEntries([...document.querySelectorAll('#flow tr[data-reason]')]
      .map(r => [r.dataset.reason, +r.querySelector('td.num').dataset.value])),
  rules: Object.fromEntries([...document.querySelectorAll('#rules tr[data-rule]')]
      .map(r => [r.dataset.rule, +r.querySelector('td[data-key=count]').dataset.value])),
  quarantined: +document.querySelector('#quarantine [data-key=quarantined]').dataset.value,
  reconciled: document.querySelector('#flow [data-key=reconciled]').textContent,
  charts: document.querySelectorAll('#flow svg rect').length,
  renderErrors: [...document.querySelectorAll('.render-error')].map(e => e.textContent),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
})"""


def check_page(browser: DevTools, html_path: Path, report: dict) -> None:
    visit = Visit(browser, html_path.resolve().as_uri())
    assert visit.console_errors() == []
    assert visit.requests() == [html_path.resolve().as_uri()]
    facts = json.loads(visit.evaluate(PAGE_FACTS))
    assert facts["sections"] == [key for key, _ in SECTIONS]
    assert facts["toc"] == [f"#{key}" for key, _ in SECTIONS]
    assert facts["tocPosition"] == "sticky"
    counts = report["counts"]
    for key in ("rows_in", "clean", "rejected", "quarantined"):
        assert facts["kpis"][key] == fmt_int(counts[key])
        assert facts["flow"][key] == fmt_int(counts[key])
    assert facts["reasons"] == report["rejected_by_reason"]
    assert facts["rules"] == {entry["rule"]: entry["count"] for entry in report["rules"]}
    assert facts["quarantined"] == counts["quarantined"]
    assert facts["reconciled"].startswith("✓")
    assert facts["charts"] > 0
    assert facts["renderErrors"] == []
    assert facts["overflow"] <= 0, "the page is wider than the window"


def shipped_or_tiny_run(tmp_path: Path, record) -> Path:
    """The shipped sample when the repository has it, else a tiny run built here."""
    if SAMPLE.exists():
        out = tmp_path / "sample"
        run([str(SAMPLE)], out, Config(), quiet=True)
        return out
    return tiny_run(tmp_path, record)


def test_the_report_of_a_run_loads_cleanly_and_shows_its_counts(browser, tmp_path, record):
    out = shipped_or_tiny_run(tmp_path, record)
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["rejected"] and report["counts"]["quarantined"]  # every row of the flow has something
    check_page(browser, out / "report.html", report)


def test_a_report_with_every_optional_section_loads_cleanly(browser, tmp_path):
    report = full_report()
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    check_page(browser, path, report)
    visit = Visit(browser, path.resolve().as_uri())
    marks = visit.evaluate("[...document.querySelectorAll('#rules mark')].map(m => m.textContent)")
    assert marks == [f"https://example.com/page{i}" for i in range(3)]
    assert visit.evaluate("document.querySelectorAll('#lengths svg').length") == 8  # 4 token + 4 character charts


@pytest.mark.parametrize("tampering, keep_csp, expected", [
    ('<img src="https://example.com/x.png">', True, "Content Security Policy"),
    ('<script>document.title = "ran"</script>', True, "Content Security Policy"),
    ('<script>throw new Error("boom")</script>', False, "exception"),
    ('<script>console.error("bad")</script>', False, "console.error"),
])
def test_the_browser_check_catches_a_broken_page(browser, tmp_path, tampering, keep_csp, expected):
    """The check above can fail: an outside reference or a script is blocked by the
    page's Content-Security-Policy and logged; without the policy, a script error
    or a console.error is reported."""
    html = render_html(full_report()).replace("<main>", "<main>" + tampering)
    if not keep_csp:
        html = html.replace(f'<meta http-equiv="Content-Security-Policy" content="{CSP}">', "")
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    errors = Visit(browser, path.resolve().as_uri()).console_errors()
    assert any(expected in error for error in errors), errors


@needs_reference()
@pytest.mark.slow
def test_the_report_of_5000_alpaca_rows_loads_cleanly(browser, tmp_path):
    out = tmp_path / "out"
    report = run([str(ALPACA_5000)], out, Config(), quiet=True)
    check_page(browser, out / "report.html", json.loads((out / "report.json").read_text()))
    assert report["counts"]["rows_in"] == 5_000
