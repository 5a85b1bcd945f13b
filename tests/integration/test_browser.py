"""MQTT.js in a real headless Chromium page (issue 5, point 2).

Debian's chromium, driven by playwright-core from npm (no browser download),
opens a page served from 127.0.0.1 that loads MQTT.js's browser bundle,
connects to a `protocol websockets` listener (ws:// and wss://), subscribes,
publishes at QoS 0, 1 and 2 and receives its own messages and one that a
paho client publishes outside the browser; a paho subscriber receives the
page's publishes. For wss:// the browser trusts the test CA through an NSS
database in a throwaway $HOME (certutil, Debian's libnss3-tools), and a
browser without that CA must fail to connect.

The browser side lives in browser/ (driver.js, page.html, page.js). Every
wait is bounded; the tests skip only when Chromium is not installed. A
Chromium that is installed (scripts/install-deps does it) but cannot start is
a failure, so that CI never passes by skipping.
"""

import json
import os
import pathlib
import queue
import shutil
import subprocess
import threading
import time

import pytest

from harness import REPO_ROOT
from rawmqtt import V5
from tls_support import broker_with_listeners, have_openssl, make_pki, paho_client, tls_listener

BROWSER_DIR = pathlib.Path(__file__).with_name("browser")
DRIVER = BROWSER_DIR / "driver.js"
CHROMIUM = "/usr/bin/chromium"
STEP_MS = 10_000  # one browser operation or one step of the page
# Starting Chromium took over 10 s in a CI rehearsal on a loaded 2-core machine.
LAUNCH_MS = 40_000
DEADLINE_MS = 75_000  # a whole driver run; the driver exits by then
MARGIN_S = 10  # after the driver's own deadline, the test kills it
OWN_MESSAGES = [(qos, f"page qos {qos}") for qos in (0, 1, 2)]
FROM_PAHO = "from paho"

# Checked before any broker starts (module scope comes first).
pytestmark = pytest.mark.usefixtures("chromium")


class BrowserRun:
    """driver.js as a child process; its JSON lines arrive on a queue."""

    def __init__(self, config):
        node = shutil.which("node")
        assert node, "node is not installed (scripts/install-deps installs it)"
        self.proc = subprocess.Popen([node, str(DRIVER), json.dumps(config)], cwd=REPO_ROOT,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.deadline = time.monotonic() + DEADLINE_MS / 1000 + MARGIN_S
        self.events = queue.Queue()
        self.console = []
        self.stderr = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self._parse),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr.append),
                         daemon=True).start()

    @staticmethod
    def _read(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))

    def _parse(self, line):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            event = {"event": "console", "text": f"driver: {line}"}
        if event.get("event") == "console":
            self.console.append(event["text"])
        else:
            self.events.put(event)

    def expect(self, name):
        """The next event, which must be `name`; fails with what the browser
        said if another one (or none, by the deadline) comes, or if Chromium
        could not start."""
        try:
            event = self.events.get(timeout=max(0.0, self.deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {name!r} from the browser driver; {self.said()}") from None
        if event.get("stage") == "launch":
            pytest.fail(f"Chromium is installed but cannot start: {event['error']}; {self.said()}")
        assert event.get("event") == name, f"wanted {name!r}, got {event}; {self.said()}"
        return event

    def said(self):
        return f"page console: {self.console}; driver stderr: {self.stderr}"

    def close(self):
        """Waits for the driver to exit; SIGTERM (Playwright then closes
        Chromium) and at last SIGKILL if it does not."""
        for stop, grace in ((None, 5), (self.proc.terminate, 5), (self.proc.kill, 5)):
            if stop is not None:
                stop()
            try:
                self.proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


def driver_config(home, page):
    return {"executable": CHROMIUM, "home": str(home), "stepMs": STEP_MS, "launchMs": LAUNCH_MS,
            "deadlineMs": DEADLINE_MS, "page": page}


@pytest.fixture(name="chromium", scope="module")
def chromium_fixture():
    """Checks what the driver needs before any broker starts: node,
    playwright-core, MQTT.js's bundle (all from scripts/install-deps) and
    Debian's chromium (skips if that is missing)."""
    assert (REPO_ROOT / "node_modules" / "playwright-core").is_dir(), \
        "playwright-core is missing: run scripts/install-deps (npm ci at the repo root)"
    assert (REPO_ROOT / "node_modules" / "mqtt" / "dist" / "mqtt.min.js").is_file(), \
        "MQTT.js is missing: run scripts/install-deps (npm ci at the repo root)"
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium cannot start: {CHROMIUM} is missing (scripts/install-deps "
                    "installs Debian's chromium)")


def nss_home(home, cafile=None):
    """A $HOME whose NSS database (the one Chromium reads on Linux) trusts
    cafile as a CA for servers; empty without cafile."""
    certutil = shutil.which("certutil")
    assert certutil, "certutil is missing (scripts/install-deps installs libnss3-tools)"
    nssdb = pathlib.Path(home) / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    database = ["-d", f"sql:{nssdb}"]
    subprocess.run([certutil, *database, "-N", "--empty-password"], check=True,
                   capture_output=True, timeout=30)
    if cafile is not None:
        subprocess.run([certutil, *database, "-A", "-t", "C,,", "-n", "Stellwerk test CA",
                        "-i", cafile], check=True, capture_output=True, timeout=30)
    return home


def browser_round_trip(broker, url, version, home, prefix):
    """Runs the page against url while a paho client on the broker's TCP
    port subscribes to the page's topic and publishes one QoS 1 message to
    the page once it has subscribed. Returns (page report, paho messages)."""
    paho = paho_client(broker, version)
    run = None
    try:
        assert paho.connect() == 0
        paho.subscribe(f"{prefix}/page", qos=2)
        run = BrowserRun(driver_config(home, {
            "url": url, "version": version, "clientId": f"browser-{prefix.replace('/', '-')}",
            "prefix": prefix, "externalCount": 1, "timeoutMs": STEP_MS}))
        run.expect("subscribed")
        paho.publish(f"{prefix}/paho", FROM_PAHO.encode(), qos=1)
        report = run.expect("done")
        assert report["ok"], f"{report}; {run.said()}"
        return report, [paho.expect_message() for _ in OWN_MESSAGES]
    finally:
        if run is not None:
            run.close()
        paho.close()


def check_round_trip(report, paho_messages, version, prefix):
    """What every round trip must show, on the page and outside it."""
    def on_page(topic):
        return sorted((m["qos"], m["payload"]) for m in report["received"] if m["topic"] == topic)

    assert report["granted"] == [2]
    assert report["subprotocols"] == ["mqtt"]
    assert on_page(f"{prefix}/page") == OWN_MESSAGES
    assert on_page(f"{prefix}/paho") == [(1, FROM_PAHO)]
    outside = sorted((m.topic, m.qos, m.payload.decode()) for m in paho_messages)
    assert outside == [(f"{prefix}/page", qos, payload) for qos, payload in OWN_MESSAGES]
    if version == V5:
        for message in paho_messages:
            assert message.properties.UserProperty == [("origin", "browser")]


@pytest.fixture(name="ws")
def ws_fixture():
    """A broker with a WebSocket listener: (broker, Endpoint)."""
    with broker_with_listeners([["protocol websockets"]]) as (broker, (endpoint,)):
        yield broker, endpoint


@pytest.fixture(name="wss")
def wss_fixture(tmp_path_factory):
    """A broker with a WebSocket listener over TLS: (broker, pki, Endpoint)."""
    assert have_openssl(), "the openssl CLI is needed for the test PKI"
    pki = make_pki(str(tmp_path_factory.mktemp("pki")))
    with broker_with_listeners([["protocol websockets", *tls_listener(pki)]]) as (broker, (ep,)):
        yield broker, pki, ep


def test_browser_over_ws(ws, version, tmp_path):
    """[MQTT-6.0.0-4] [MQTT-3.3.4-1] [MQTT-3.8.4-1]: MQTT.js in Chromium
    connects over ws:// (the broker selects the subprotocol "mqtt"), is
    granted QoS 2, gets its own messages back at QoS 0, 1 and 2 and paho's
    message at QoS 1; paho gets the page's messages (v5: with the page's
    user property, v5[MQTT-3.3.2-17])."""
    broker, endpoint = ws
    prefix = f"browser/ws/v{version}"
    report, paho_messages = browser_round_trip(
        broker, f"ws://127.0.0.1:{endpoint.port}/mqtt", version, nss_home(tmp_path), prefix)
    check_round_trip(report, paho_messages, version, prefix)


def test_browser_over_wss_trusting_the_ca(wss, version, tmp_path):
    """[MQTT-6.0.0-4] [MQTT-3.3.4-1]: the same round trip over wss://, the
    browser verifying the broker's certificate against the test CA in its
    NSS database (no --ignore-certificate-errors)."""
    broker, pki, endpoint = wss
    prefix = f"browser/wss/v{version}"
    home = nss_home(tmp_path, cafile=pki.ca)
    report, paho_messages = browser_round_trip(
        broker, f"wss://127.0.0.1:{endpoint.port}/mqtt", version, home, prefix)
    check_round_trip(report, paho_messages, version, prefix)


def test_browser_without_the_ca_cannot_connect(wss, tmp_path):
    """Shows that the wss:// test above depends on the trusted CA: without
    it Chromium refuses the broker's certificate and MQTT.js never connects."""
    _broker, _pki, endpoint = wss
    run = BrowserRun(driver_config(nss_home(tmp_path), {
        "url": f"wss://127.0.0.1:{endpoint.port}/mqtt", "version": V5, "clientId": "untrusted",
        "prefix": "browser/untrusted", "externalCount": 0, "timeoutMs": STEP_MS}))
    try:
        report = run.expect("done")
    finally:
        run.close()
    assert not report["ok"] and report["stage"] == "page", report
    assert any("ERR_CERT_AUTHORITY_INVALID" in line for line in run.console), run.said()
