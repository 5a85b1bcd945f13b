"""Starts a real broker process on 127.0.0.1 for the integration tests.

The same tests run against Stellwerk and against Debian's mosquitto, so that
a test is first proven against a broker known to work and then holds
Stellwerk to it. BROKER_KIND picks the broker ("stellwerk", the default, or
"mosquitto"); STELLWERK_BIN names the Stellwerk binary.

Each broker gets a fresh temporary directory with its config file and its
log, a free port, and is stopped when its context ends.
"""

import contextlib
import os
import pathlib
import random
import signal
import socket
import subprocess
import tempfile
import time

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
MOSQUITTO_BIN = "/usr/sbin/mosquitto"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def broker_kind():
    return os.environ.get("BROKER_KIND", "stellwerk")


def stellwerk_bin():
    return os.environ.get("STELLWERK_BIN", str(REPO_ROOT / "build" / "apps" / "stellwerk"))


# Listener ports come from below the kernel's ephemeral range (32768-60999
# on Debian), where the client sockets of tests running side by side (ctest
# -j4) take their local ports: a port picked there can be taken by one of
# them before the broker binds it ("Address already in use").
LISTENER_PORTS = range(20000, 32768)
_handed_out = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now, not one
    this process handed out before."""
    if len(_handed_out) > len(LISTENER_PORTS) // 2:
        _handed_out.clear()
    rng = random.SystemRandom()
    while True:
        port = rng.choice(LISTENER_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


def wait_port(port, host="127.0.0.1", timeout=START_TIMEOUT_S, proc=None):
    """True once host:port accepts a connection; False after timeout or when
    proc (if given) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Broker:
    """A running broker. port/host/proc, log() for its output so far."""

    def __init__(self, kind, proc, port, workdir, log_path):
        self.kind = kind
        self.proc = proc
        self.port = port
        self.host = "127.0.0.1"
        self.workdir = workdir
        self._log_path = log_path

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        return pathlib.Path(self._log_path).read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        """Sends sig, waits for the exit and returns the exit code (negative
        for death by signal, as Popen reports it)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()

    def rss_kib(self):
        return proc_status_kib(self.proc.pid, "VmRSS")


def proc_status_kib(pid, field):
    """A kB field of /proc/<pid>/status, such as VmRSS or VmData."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _config_text(kind, port, config):
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true"]
    if kind == "mosquitto":
        # As root mosquitto would switch to the "mosquitto" user, which may not
        # be able to read our temporary directory.
        lines = ["user root", "log_dest stderr", "log_type all"] + lines
    return "\n".join(lines) + "\n" + config + "\n"


def _command(kind, config_path, args):
    if kind == "mosquitto":
        return [MOSQUITTO_BIN, "-c", str(config_path), *args]
    if kind == "stellwerk":
        return [stellwerk_bin(), "-c", str(config_path), *args]
    raise ValueError(f"unknown BROKER_KIND {kind!r} (stellwerk or mosquitto)")


@contextlib.contextmanager
def start_broker(kind=None, config="", args=()):
    """Starts a broker with `config` appended to a listener on a free port,
    waits until it accepts connections and stops it afterwards."""
    kind = kind or broker_kind()
    with tempfile.TemporaryDirectory(prefix=f"{kind}-") as workdir:
        broker = _launch(kind, workdir, config, args)
        try:
            yield broker
        finally:
            broker.stop()


BIND_ATTEMPTS = 3


def _launch(kind, workdir, config, args):
    """A broker that accepts connections; another port when something else
    took the one picked before the broker could bind it."""
    for attempt in range(1, BIND_ATTEMPTS + 1):
        port = free_port()
        config_path = pathlib.Path(workdir) / "broker.conf"
        config_path.write_text(_config_text(kind, port, config))
        log_path = pathlib.Path(workdir) / "broker.log"
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(_command(kind, config_path, args), stdout=log_file,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=workdir)
        broker = Broker(kind, proc, port, workdir, log_path)
        if wait_port(port, timeout=START_TIMEOUT_S, proc=proc):
            return broker
        broker.stop()
        if "Address already in use" not in broker.log() or attempt == BIND_ATTEMPTS:
            raise RuntimeError(f"{kind} did not accept connections on port {port} "
                               f"(exit code {proc.poll()}); log:\n{broker.log()}")
    raise AssertionError("unreachable")


# Lines a sanitizer build prints when it finds a bug; the test that ran the
# broker fails then, even if the broker kept answering.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_report(log_text):
    """The first sanitizer finding in a broker log, or None."""
    for marker in SANITIZER_MARKERS:
        at = log_text.find(marker)
        if at >= 0:
            return log_text[max(0, at - 200):at + 3000]
    return None


@pytest.fixture(name="broker")
def broker_fixture(request):
    """A fresh broker per test; @pytest.mark.broker_config("...") adds config.
    Fails the test if the broker's log holds a sanitizer report."""
    config = "\n".join(marker.args[0] for marker in request.node.iter_markers("broker_config"))
    with start_broker(config=config) as broker:
        yield broker
        broker.stop()
        report = sanitizer_report(broker.log())
    if report:
        pytest.fail(f"sanitizer report from the broker:\n{report}")
