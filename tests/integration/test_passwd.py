"""`stellwerk passwd` against Debian's mosquitto 2.0.11: the files it writes
are accepted by mosquitto's broker (logins with mosquitto_pub -u/-P), it
edits files made by mosquitto_passwd, and its command line answers as
mosquitto_passwd does (same exit codes, same error messages).

The broker here is always Debian's mosquitto, whatever BROKER_KIND says:
the point is compatibility with the files mosquitto users already have.
"""

import os
import pathlib
import pty
import select
import signal
import stat
import subprocess
import time

import pytest

from harness import MOSQUITTO_BIN, start_broker, stellwerk_bin

MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"
TIMEOUT_S = 10.0
# mosquitto_pub's exit code when the broker refuses the login (CONNACK 5).
REFUSED_NOT_AUTHORIZED = 5

pytestmark = pytest.mark.skipif(
    not all(os.access(tool, os.X_OK) for tool in (MOSQUITTO_BIN, MOSQUITTO_PASSWD, MOSQUITTO_PUB)),
    reason="needs Debian's mosquitto and mosquitto-clients")


def passwd(*args, tool=None):
    """Runs `stellwerk passwd` (or another tool with the same flags) in batch
    mode; returns the CompletedProcess."""
    command = [tool] if tool else [stellwerk_bin(), "passwd"]
    return subprocess.run(command + [str(arg) for arg in args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def passwd_ok(*args):
    result = passwd(*args)
    assert result.returncode == 0, result
    return result


def login(broker, username, password, version="mqttv311"):
    """mosquitto_pub's exit code for one QoS 1 publish as username/password."""
    return subprocess.run(
        [MOSQUITTO_PUB, "-h", broker.host, "-p", str(broker.port), "-V", version, "-u", username,
         "-P", password, "-t", "t", "-m", "x", "-q", "1"],
        capture_output=True, timeout=TIMEOUT_S, check=False).returncode


def mosquitto_with(password_file):
    return start_broker(kind="mosquitto",
                        config=f"allow_anonymous false\npassword_file {password_file}")


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_mosquitto_accepts_every_hash_stellwerk_writes(tmp_path, version):
    pw = tmp_path / "pw"
    passwd_ok("-c", "-b", pw, "alice", "secret")
    passwd_ok("-b", pw, "bob", "p:w d")
    passwd_ok("-H", "sha512", "-b", pw, "carol", "old")
    passwd_ok("-H", "sha512-pbkdf2", "-I", "1000", "-b", pw, "erin", "iter")
    passwd_ok("-b", pw, "empty", "")
    assert "$7$1000$" in pw.read_text()
    with mosquitto_with(pw) as broker:
        assert login(broker, "alice", "secret", version) == 0
        assert login(broker, "bob", "p:w d", version) == 0
        assert login(broker, "carol", "old", version) == 0
        assert login(broker, "erin", "iter", version) == 0
        assert login(broker, "alice", "wrong", version) != 0
        assert login(broker, "nobody", "secret", version) != 0


def test_default_hash_is_mosquitto_two_zero(tmp_path):
    pw = tmp_path / "pw"
    passwd_ok("-c", "-b", pw, "alice", "secret")
    assert pw.read_text().startswith("alice:$7$101$")


def test_files_are_mode_0600_even_when_they_were_not(tmp_path):
    pw = tmp_path / "pw"
    passwd_ok("-c", "-b", pw, "alice", "secret")
    assert mode_of(pw) == 0o600
    os.chmod(pw, 0o644)
    passwd_ok("-b", pw, "bob", "x")
    assert mode_of(pw) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name != "pw"], "temporary file left behind"


def test_updating_changes_the_password_and_keeps_other_lines(tmp_path):
    pw = tmp_path / "pw"
    passwd_ok("-c", "-b", pw, "alice", "first")
    pw.write_text("# managed by hand\n\n" + pw.read_text())
    passwd_ok("-b", pw, "alice", "second")
    passwd_ok("-b", pw, "bob", "b")
    lines = pw.read_text().splitlines()
    assert lines[:2] == ["# managed by hand", ""]
    assert [line.split(":")[0] for line in lines[2:]] == ["alice", "bob"]
    with mosquitto_with(pw) as broker:
        assert login(broker, "alice", "second") == 0
        assert login(broker, "alice", "first") == REFUSED_NOT_AUTHORIZED


def test_delete_removes_the_user(tmp_path):
    pw = tmp_path / "pw"
    passwd_ok("-c", "-b", pw, "alice", "a")
    passwd_ok("-b", pw, "bob", "b")
    passwd_ok("-D", pw, "bob")
    assert [line.split(":")[0] for line in pw.read_text().splitlines()] == ["alice"]
    missing = passwd("-D", pw, "bob")
    assert missing.returncode == 1
    assert "Warning: User bob not found in password file." in missing.stderr
    with mosquitto_with(pw) as broker:
        assert login(broker, "alice", "a") == 0
        assert login(broker, "bob", "b") == REFUSED_NOT_AUTHORIZED


def test_upgrade_hashes_plain_passwords_once(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("# plain text\nalice:secret\n  bob : p w \n")
    passwd_ok("-U", pw)
    first = pw.read_text()
    assert first.startswith("# plain text\nalice:$7$101$")
    # Unlike mosquitto_passwd, a second -U leaves hashed entries alone.
    passwd_ok("-U", pw)
    assert pw.read_text() == first
    with mosquitto_with(pw) as broker:
        assert login(broker, "alice", "secret") == 0
        assert login(broker, "bob", "p w") == 0


def test_edits_files_made_by_mosquitto_passwd(tmp_path):
    pw = tmp_path / "pw"
    assert passwd("-c", "-b", pw, "alice", "from-mosquitto", tool=MOSQUITTO_PASSWD).returncode == 0
    assert passwd("-H", "sha512", "-b", pw, "carol", "old", tool=MOSQUITTO_PASSWD).returncode == 0
    passwd_ok("-b", pw, "bob", "from-stellwerk")
    passwd_ok("-D", pw, "carol")
    with mosquitto_with(pw) as broker:
        assert login(broker, "alice", "from-mosquitto") == 0
        assert login(broker, "bob", "from-stellwerk") == 0
        assert login(broker, "carol", "old") == REFUSED_NOT_AUTHORIZED


def test_mosquitto_passwd_edits_files_made_by_stellwerk(tmp_path):
    pw = tmp_path / "pw"
    passwd_ok("-c", "-b", pw, "alice", "a")
    passwd_ok("-b", pw, "bob", "b")
    assert passwd("-D", pw, "bob", tool=MOSQUITTO_PASSWD).returncode == 0
    assert passwd("-b", pw, "carol", "c", tool=MOSQUITTO_PASSWD).returncode == 0
    with mosquitto_with(pw) as broker:
        assert login(broker, "alice", "a") == 0
        assert login(broker, "carol", "c") == 0
        assert login(broker, "bob", "b") == REFUSED_NOT_AUTHORIZED


# Command lines that fail before any file is touched: both tools must give
# the same exit code and, where mosquitto prints one, the same message.
USAGE_ERRORS = [
    (["-c", "-D", "{pw}", "u"], "Error: -c and -D cannot be used together."),
    (["-b", "-D", "{pw}", "u", "p"], "Error: -b and -D cannot be used together."),
    (["-c", "-U", "{pw}"], "Error: -c and -U cannot be used together."),
    (["-H"], "Error: -H argument given but not enough other arguments."),
    (["-H", "md5", "-b", "{pw}", "u", "p"], "Error: Unknown hash type 'md5'"),
    (["-D", "{pw}"], "Error: -D argument given but password file or username missing."),
    (["-U", "{pw}", "extra"], "Error: -U argument given but password file missing."),
    (["-c", "{pw}"], "Error: -c argument given but password file or username missing."),
    (["-c", "-b", "{pw}", "a:b", "p"], "Error: Username must not contain the ':' character."),
    (["-c", "-b", "{pw}", "a\nb", "p"], "Error: Username must not contain control characters."),
    (["-x", "{pw}", "u"], None),  # unknown flag: usage
    (["-b", "{pw}", "u"], None),  # password missing: usage
    (["{pw}"], None),
    ([], None),
]


@pytest.mark.parametrize("args,message", USAGE_ERRORS, ids=[" ".join(a) or "none" for a, _ in USAGE_ERRORS])
def test_usage_errors_match_mosquitto_passwd(tmp_path, args, message):
    pw = tmp_path / "pw"
    argv = [arg.replace("{pw}", str(pw)) for arg in args]
    ours = passwd(*argv)
    theirs = passwd(*argv, tool=MOSQUITTO_PASSWD)
    assert ours.returncode == theirs.returncode == 1, (ours, theirs)
    if message is None:
        assert "Usage:" in ours.stdout
    else:
        assert message in theirs.stderr + theirs.stdout
        assert message in ours.stderr
    assert not pw.exists()


def test_missing_file_without_create_is_an_error(tmp_path):
    result = passwd("-b", tmp_path / "absent", "u", "p")
    assert result.returncode == 1
    assert "Unable to open password file" in result.stderr
    assert not (tmp_path / "absent").exists()


def test_corrupt_file_is_refused_unchanged(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("alice:x\nno-colon-here\n")
    result = passwd("-b", pw, "bob", "b")
    assert result.returncode == 1
    assert f"{pw}:2:" in result.stderr
    assert pw.read_text() == "alice:x\nno-colon-here\n"


class Terminal:
    """Runs a command on a pseudo-terminal, as a person at a prompt would."""

    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(argv[0], argv)
        self.output = b""

    def expect(self, text):
        deadline = time.monotonic() + TIMEOUT_S
        while text.encode() not in self.output:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in {self.output!r}"
            if select.select([self.fd], [], [], remaining)[0]:
                try:
                    self.output += os.read(self.fd, 1024)
                except OSError:  # the child closed the terminal
                    break

    def type(self, line):
        os.write(self.fd, line.encode() + b"\n")

    def finish(self):
        """Reads the rest of the output; returns the exit code."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if not select.select([self.fd], [], [], 0.1)[0]:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    break
                continue
            try:
                chunk = os.read(self.fd, 1024)
            except OSError:
                chunk = b""
            if not chunk:
                break
            self.output += chunk
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    def kill(self):
        """Stops the command if finish() did not see it exit (a failed test)."""
        if self.pid is None:
            return
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self.fd)


def prompt_session(pw, first, second):
    """Answers the prompts; returns (exit code, everything the terminal showed)."""
    terminal = Terminal([stellwerk_bin(), "passwd", "-c", str(pw), "alice"])
    try:
        terminal.expect("Password: ")
        terminal.type(first)
        if first:
            terminal.expect("Reenter password: ")
            terminal.type(second)
        return terminal.finish(), terminal.output
    finally:
        terminal.kill()


def test_prompt_asks_twice_without_echo(tmp_path):
    pw = tmp_path / "pw"
    code, output = prompt_session(pw, "s3cret-typed", "s3cret-typed")
    assert code == 0, output
    assert b"s3cret-typed" not in output
    with mosquitto_with(pw) as broker:
        assert login(broker, "alice", "s3cret-typed") == 0


def test_prompt_refuses_different_passwords(tmp_path):
    pw = tmp_path / "pw"
    code, output = prompt_session(pw, "one", "two")
    assert code == 2  # mosquitto_passwd's code for it
    assert b"Error: Passwords do not match." in output
    assert not pw.exists()


def test_prompt_refuses_an_empty_password(tmp_path):
    pw = tmp_path / "pw"
    code, output = prompt_session(pw, "", None)
    assert code == 1
    assert b"Error: Empty password." in output
    assert not pw.exists()
