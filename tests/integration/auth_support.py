"""Helpers for the authentication and ACL tests (test_auth.py) and the
persistence tests (test_persistence.py, which restart one broker in place).

Password files are made by the tools users have: Debian's mosquitto_passwd
(its default hash, PBKDF2-SHA512 `$7$`) and `stellwerk passwd`, both in batch
mode. The broker's config is the harness's (which admits anonymous clients)
followed by the auth lines here; a later `allow_anonymous` line overrides the
harness's, in mosquitto and in Stellwerk alike.
"""

import contextlib
import os
import pathlib
import re
import subprocess
import time

from harness import (Broker, _command, _config_text, broker_kind, free_port, sanitizer_report,
                     stellwerk_bin, wait_port)

MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
TOOL_TIMEOUT_S = 30.0

# CONNACK return codes (3.1.1) and reason codes (v5) the tests expect.
V311_BAD_USER_NAME_OR_PASSWORD = 0x04
V311_NOT_AUTHORIZED = 0x05
V311_SUBACK_FAILURE = 0x80
V5_BAD_USER_NAME_OR_PASSWORD = 0x86
V5_NOT_AUTHORIZED = 0x87

# A line each broker logs when it refuses a login: mosquitto 2.0.11 writes
# "Client <unknown> disconnected, not authorised.", Stellwerk names the
# reason code ("Bad user name or password", "Not authorized").
REFUSAL_LOG_LINE = re.compile(r"not authori[sz]ed|bad user name or password", re.IGNORECASE)


def password_tool_command(tool):
    """The argv prefix of a password tool: "mosquitto" or "stellwerk"."""
    if tool == "mosquitto":
        return [MOSQUITTO_PASSWD]
    if tool == "stellwerk":
        return [stellwerk_bin(), "passwd"]
    raise ValueError(f"unknown password tool {tool!r}")


def password_tool_available(tool):
    return os.access(password_tool_command(tool)[0], os.X_OK)


def _run_tool(argv):
    result = subprocess.run([str(arg) for arg in argv], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
    assert result.returncode == 0, result
    return result


def write_password_file(path, users, tool="mosquitto"):
    """Creates `path` with `-b -c` for the first user and adds the others
    with `-b`, each with the tool's default hash. users: {name: password}."""
    command = password_tool_command(tool)
    for index, (name, password) in enumerate(users.items()):
        create = ["-c"] if index == 0 else []
        _run_tool(command + ["-b", *create, path, name, password])
    return path


def write_bulk_password_file(path, users):
    """Many users at once: a plain `name:password` file hashed in place by
    `mosquitto_passwd -U` (the default hash), instead of one process per user."""
    path.write_text("".join(f"{name}:{password}\n" for name, password in users.items()))
    _run_tool([MOSQUITTO_PASSWD, "-U", path])
    assert all(line.split(":", 1)[1].startswith("$7$")
               for line in path.read_text().splitlines() if line)
    return path


def auth_config(password_file=None, acl_file=None, allow_anonymous=False):
    """Config lines for the harness's listener."""
    lines = [f"allow_anonymous {'true' if allow_anonymous else 'false'}"]
    if password_file is not None:
        lines.append(f"password_file {password_file}")
    if acl_file is not None:
        lines.append(f"acl_file {acl_file}")
    return "\n".join(lines)


def refusal_log_lines(broker):
    return [line for line in broker.log().splitlines() if REFUSAL_LOG_LINE.search(line)]


def wait_for_refusal_log(broker, count=1, timeout=3.0):
    """The broker's refusal log lines once at least `count` are there (it may
    write them just after closing the connection); fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        lines = refusal_log_lines(broker)
        if len(lines) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(lines) >= count, f"expected {count} refusal line(s) in the log:\n{broker.log()}"
    return lines


def not_authorized(version_is_v5):
    return V5_NOT_AUTHORIZED if version_is_v5 else V311_NOT_AUTHORIZED


def bad_credentials(version_is_v5):
    return V5_BAD_USER_NAME_OR_PASSWORD if version_is_v5 else V311_BAD_USER_NAME_OR_PASSWORD


# ---------------------------------------------------------------- restarts


class RestartableBroker:
    """A broker that keeps its config file, port and working directory across
    restarts, as persistence tests need; each run logs to its own file.
    `broker` is the current run (a harness.Broker), None before start()."""

    def __init__(self, workdir, config, kind=None):
        self.kind = kind or broker_kind()
        self.workdir = pathlib.Path(workdir)
        self.port = free_port()
        self.config_path = self.workdir / "broker.conf"
        self.config_path.write_text(_config_text(self.kind, self.port, config))
        self.runs = 0
        self.broker = None

    def start(self):
        self.runs += 1
        log_path = self.workdir / f"broker-{self.runs}.log"
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(_command(self.kind, self.config_path, ()), stdout=log_file,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=self.workdir)
        self.broker = Broker(self.kind, proc, self.port, str(self.workdir), log_path)
        if not wait_port(self.port, proc=proc):
            self.broker.kill9()
            raise RuntimeError(f"{self.kind} did not start (run {self.runs}); log:\n"
                               f"{self.broker.log()}")
        return self.broker

    def restart(self, how="sigterm"):
        """Stops the running broker (SIGTERM, or kill -9) and starts it again."""
        self.stop(how)
        return self.start()

    def stop(self, how="sigterm"):
        if self.broker is None:
            return None
        return self.broker.kill9() if how == "kill9" else self.broker.stop()

    def logs(self):
        """Every run's log, oldest first."""
        return "".join((self.workdir / f"broker-{run}.log").read_text(errors="replace")
                       for run in range(1, self.runs + 1))


@contextlib.contextmanager
def restartable_broker(workdir, config, kind=None):
    """A RestartableBroker, started, and stopped at the end; fails the test
    on a sanitizer report in any run's log."""
    broker = RestartableBroker(workdir, config, kind)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
    report = sanitizer_report(broker.logs())
    assert report is None, f"sanitizer report from the broker:\n{report}"
