"""`stellwerk pub` and `stellwerk sub` against a real broker (BROKER_KIND), and
cross-checked with Debian's mosquitto_pub / mosquitto_sub in both directions.

The tools promise mosquitto_pub / mosquitto_sub's flags, output and exit
codes, so the expectations below are what mosquitto's tools do (checked by
hand against mosquitto 2.0.11). A subscriber process is started with -d and
the test waits for its SUBACK line before publishing, so no test depends on
a sleep being long enough.
"""

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from harness import free_port, stellwerk_bin

TIMEOUT_S = 10.0
# -V spellings: ours accepts both forms; mosquitto's tools too.
VERSIONS = ["31", "311", "5"]
QOS_LEVELS = [0, 1, 2]
MOSQUITTO_VERSION = {"31": "mqttv31", "311": "mqttv311", "5": "mqttv5"}


class Subscriber:
    """A subscriber process whose stdout and stderr are collected by threads.
    ready_marker appears on ready_stream ("out" or "err") once it subscribed."""

    def __init__(self, argv, ready_marker, ready_stream):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = bytearray()
        self.err = bytearray()
        self._ready_marker = ready_marker
        self._ready_stream = ready_stream
        self._readers = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out)),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream, sink):
        for chunk in iter(lambda: stream.read1(4096), b""):
            sink.extend(chunk)

    def wait_ready(self):
        deadline = time.monotonic() + TIMEOUT_S
        stream = self.out if self._ready_stream == "out" else self.err
        while self._ready_marker not in stream:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.finish()
                pytest.fail(f"subscriber never got ready: {self.argv}\n"
                            f"exit {self.proc.returncode}\nstdout {bytes(self.out)!r}\n"
                            f"stderr {bytes(self.err)!r}")
            time.sleep(0.01)
        return self

    def finish(self, timeout=TIMEOUT_S):
        """Waits for the exit; returns (exit code, stdout, stderr)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for reader in self._readers:
            reader.join()
        return self.proc.returncode, bytes(self.out), bytes(self.err)


def tool(command, broker, *args, stdin=None):
    """Runs `stellwerk pub|sub` to the end: (exit code, stdout, stderr)."""
    argv = [stellwerk_bin(), command, "-h", broker.host, "-p", str(broker.port), *args]
    done = subprocess.run(argv, input=stdin, capture_output=True, timeout=TIMEOUT_S)
    return done.returncode, done.stdout, done.stderr


def pub(broker, *args, stdin=None):
    code, out, err = tool("pub", broker, *args, stdin=stdin)
    assert code == 0, f"stellwerk pub {args} failed with {code}: {err!r}"
    assert out == b""
    return err


def sub(broker, *args):
    """A `stellwerk sub` that is subscribed when this returns."""
    argv = [stellwerk_bin(), "sub", "-h", broker.host, "-p", str(broker.port), "-d", *args]
    return Subscriber(argv, b"received SUBACK", "err").wait_ready()


def mosquitto_sub(broker, *args):
    """A mosquitto_sub that is subscribed when this returns. Its -d lines go
    to stdout too (line-buffered by stdbuf, or the SUBACK line would wait in
    its buffer); messages are printed as "MSG <topic> <payload>"."""
    argv = ["stdbuf", "-oL", "mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-d",
            "-F", "MSG %t %p", *args]
    return Subscriber(argv, b"Subscribed (mid", "out").wait_ready()


def mosquitto_messages(stdout):
    return [line[4:] for line in stdout.split(b"\n") if line.startswith(b"MSG ")]


def finish_ok(subscriber):
    code, out, err = subscriber.finish()
    assert code == 0, f"subscriber exited {code}: {err!r}"
    return out


# -- round trips between our two tools --------------------------------------

@pytest.mark.parametrize("qos", QOS_LEVELS)
@pytest.mark.parametrize("version", VERSIONS)
def test_round_trip_every_version_and_qos(broker, version, qos):
    """[MQTT-4.3.1-1] v5[MQTT-4.3.2-4] v5[MQTT-4.3.3-8] v311[MQTT-4.3.2-2]
    v311[MQTT-4.3.3-2]: a message goes through at each QoS in each version,
    the subscriber acknowledging it as its QoS requires."""
    subscriber = sub(broker, "-V", version, "-q", str(qos), "-t", "tools/rt", "-C", "1", "-v")
    pub(broker, "-V", version, "-q", str(qos), "-t", "tools/rt", "-m", f"hello {qos}")
    out = finish_ok(subscriber)
    assert out == f"tools/rt hello {qos}\n".encode()
    if qos == 1:
        assert b"sending PUBACK" in subscriber.err
    if qos == 2:
        assert b"sending PUBREC" in subscriber.err and b"sending PUBCOMP" in subscriber.err


@pytest.mark.parametrize("qos", QOS_LEVELS)
def test_publisher_waits_for_the_whole_flow(broker, qos):
    """v5[MQTT-4.3.3-4]: at QoS 2 the publisher sends PUBREL after PUBREC and
    exits only after PUBCOMP; at QoS 1 after PUBACK."""
    err = pub(broker, "-d", "-q", str(qos), "-t", "tools/flow", "-m", "x")
    expected = {0: [b"sending PUBLISH", b"sending DISCONNECT"],
                1: [b"sending PUBLISH", b"received PUBACK", b"sending DISCONNECT"],
                2: [b"sending PUBLISH", b"received PUBREC", b"sending PUBREL",
                    b"received PUBCOMP", b"sending DISCONNECT"]}[qos]
    positions = [err.find(step) for step in expected]
    assert -1 not in positions and positions == sorted(positions), err


def test_several_topics_and_wildcards(broker):
    subscriber = sub(broker, "-t", "a/+", "-t", "b/#", "-C", "3", "-v")
    for topic in ["a/1", "c/ignored", "b/x/y", "a/2"]:
        pub(broker, "-t", topic, "-m", topic)
    assert finish_ok(subscriber) == b"a/1 a/1\nb/x/y b/x/y\na/2 a/2\n"


def test_host_name_is_resolved(broker):
    """-h localhost: every address is tried (::1 first on most hosts, where
    the broker does not listen), then 127.0.0.1."""
    code, _, err = tool("pub", broker, "-t", "t", "-m", "x")
    assert code == 0, err
    argv = [stellwerk_bin(), "pub", "-h", "localhost", "-p", str(broker.port), "-t", "t", "-m", "x"]
    assert subprocess.run(argv, capture_output=True, timeout=TIMEOUT_S).returncode == 0


# -- message sources ---------------------------------------------------------

def test_lines_from_stdin(broker):
    """-l: one message per line; an empty line is an empty message, and a
    last line without newline is sent too."""
    subscriber = sub(broker, "-t", "tools/lines", "-C", "4", "-F", "[%p|%l]")
    pub(broker, "-t", "tools/lines", "-l", "-q", "1", stdin=b"a\n\nb b\nlast")
    assert finish_ok(subscriber) == b"[a|1]\n[|0]\n[b b|3]\n[last|4]\n"


def test_many_lines_respect_flow_control(broker):
    """-l at QoS 2 with more messages than the Receive Maximum window: all
    arrive, in order."""
    count = 300
    subscriber = sub(broker, "-t", "tools/many", "-q", "2", "-C", str(count))
    lines = b"".join(b"line %d\n" % i for i in range(count))
    pub(broker, "-t", "tools/many", "-l", "-q", "2", "-V", "5", stdin=lines)
    assert finish_ok(subscriber) == lines


def test_whole_stdin_and_file_are_binary_safe(broker, tmp_path):
    payload = bytes(range(256)) * 4 + b"\n\x00end"
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)
    subscriber = sub(broker, "-t", "tools/bin", "-C", "2", "-N")
    pub(broker, "-t", "tools/bin", "-s", stdin=payload)
    pub(broker, "-t", "tools/bin", "-f", str(path), "-q", "1")
    assert finish_ok(subscriber) == payload * 2


def test_large_payload(broker, tmp_path):
    """Half a MiB: many partial socket reads and writes on both sides, and
    still under the brokers' default packet size limits (ours: 1 MiB)."""
    payload = os.urandom(512 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(payload)
    subscriber = sub(broker, "-t", "tools/big", "-C", "1", "-N", "-q", "1")
    pub(broker, "-t", "tools/big", "-f", str(path), "-q", "1")
    assert finish_ok(subscriber) == payload


def test_null_message(broker):
    """-n sends an empty payload; -v prints it as "(null)", as mosquitto_sub."""
    subscriber = sub(broker, "-t", "tools/null", "-C", "2", "-v")
    pub(broker, "-t", "tools/null", "-n")
    pub(broker, "-t", "tools/null", "-m", "after")
    assert finish_ok(subscriber) == b"tools/null (null)\ntools/null after\n"


# -- retained messages -------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_retained_message(broker, version):
    """[MQTT-3.3.1-5] [MQTT-3.3.1-10]: a retained message reaches a later
    subscriber with the retain flag; an empty retained message clears it."""
    pub(broker, "-V", version, "-t", "tools/keep", "-m", "kept", "-r", "-q", "1")
    code, out, _ = tool("sub", broker, "-V", version, "-t", "tools/keep", "-C", "1",
                        "-F", "%t %p %r")
    assert (code, out) == (0, b"tools/keep kept 1\n")
    pub(broker, "-V", version, "-t", "tools/keep", "-n", "-r")
    code, out, err = tool("sub", broker, "-V", version, "-t", "tools/keep", "-W", "1")
    assert (code, out, err) == (27, b"", b"Timed out\n")


def test_no_stale_skips_retained_messages(broker):
    """-R: retained messages are not printed and not counted by -C."""
    pub(broker, "-t", "tools/stale", "-m", "old", "-r")
    subscriber = sub(broker, "-t", "tools/stale", "-R", "-C", "1")
    pub(broker, "-t", "tools/stale", "-m", "new")
    assert finish_ok(subscriber) == b"new\n"


# -- subscriber output and exit ----------------------------------------------

def test_count_stops_after_n_messages(broker):
    subscriber = sub(broker, "-t", "tools/count", "-C", "2")
    for i in range(3):
        pub(broker, "-t", "tools/count", "-m", str(i))
    assert finish_ok(subscriber) == b"0\n1\n"


def test_timeout_exits_27_like_mosquitto_sub(broker):
    started = time.monotonic()
    code, out, err = tool("sub", broker, "-t", "tools/quiet", "-W", "1")
    assert (code, out, err) == (27, b"", b"Timed out\n")
    assert 0.9 < time.monotonic() - started < 5


def test_sigterm_ends_the_subscriber_cleanly(broker):
    subscriber = sub(broker, "-t", "tools/term")
    subscriber.proc.send_signal(signal.SIGTERM)
    code, _, err = subscriber.finish()
    assert code == 0
    assert b"sending DISCONNECT" in err


def test_format_string(broker):
    subscriber = sub(broker, "-t", "tools/fmt", "-q", "1", "-C", "1",
                     "-F", r"%t|%p|%q|%r|%l|%x|%X|%%|\t|%I")
    pub(broker, "-t", "tools/fmt", "-m", "Hi", "-q", "1")
    out = finish_ok(subscriber)
    assert re.fullmatch(rb"tools/fmt\|Hi\|1\|0\|2\|4869\|4869\|%\|\t\|"
                        rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}\n", out), out


def test_no_newline_and_verbose(broker):
    subscriber = sub(broker, "-t", "tools/eol", "-C", "2", "-v", "-N")
    pub(broker, "-t", "tools/eol", "-m", "one")
    pub(broker, "-t", "tools/eol", "-m", "two")
    assert finish_ok(subscriber) == b"tools/eol onetools/eol two"


def test_exit_after_subscribe_keeps_the_session(broker):
    """-c and -E: a persistent session keeps QoS 1 messages for a subscriber
    that is away; the next `sub -c` with the same id gets them."""
    code, _, err = tool("sub", broker, "-c", "-i", "tools-keeper", "-q", "1", "-t", "tools/away",
                        "-E")
    assert code == 0, err
    pub(broker, "-t", "tools/away", "-m", "while away", "-q", "1")
    code, out, err = tool("sub", broker, "-c", "-i", "tools-keeper", "-q", "1",
                          "-t", "tools/away", "-C", "1", "-W", "5")
    assert (code, out) == (0, b"while away\n"), err


def test_unsubscribe_from_a_kept_session(broker):
    """-U removes a subscription of a persistent session: what is published
    afterwards is not kept for it."""
    keeper = ["-c", "-i", "tools-unsub", "-q", "1"]
    assert tool("sub", broker, *keeper, "-t", "tools/gone", "-E")[0] == 0
    assert tool("sub", broker, *keeper, "-U", "tools/gone", "-E")[0] == 0
    pub(broker, "-t", "tools/gone", "-m", "nobody wants this", "-q", "1")
    code, out, _ = tool("sub", broker, *keeper, "-t", "tools/other", "-W", "1")
    assert (code, out) == (27, b"")


def test_keepalive_sends_pingreq(broker):
    """v5[MQTT-3.1.2-20] v311[MQTT-3.1.2-23]: a quiet client sends PINGREQ
    within the keep-alive period, and the broker answers."""
    code, _, err = tool("sub", broker, "-t", "tools/ping", "-k", "1", "-W", "3", "-d")
    assert code == 27
    assert b"sending PINGREQ" in err and b"received PINGRESP" in err


def test_will_is_published_when_the_client_dies(broker):
    """[MQTT-3.1.2-8]: the will of a client that vanishes without DISCONNECT
    is published."""
    watcher = sub(broker, "-t", "tools/will", "-C", "1", "-v")
    victim = sub(broker, "-t", "tools/nothing", "--will-topic", "tools/will",
                 "--will-payload", "gone", "--will-qos", "1", "-k", "5")
    victim.proc.kill()
    victim.finish()
    assert finish_ok(watcher) == b"tools/will gone\n"


def test_client_id_options(broker):
    err = pub(broker, "-d", "-I", "tools-prefix-", "-t", "t", "-m", "x")
    assert re.search(rb"id: 'tools-prefix-\d+'", err), err
    err = pub(broker, "-d", "-i", "tools-fixed", "-t", "t", "-m", "x")
    assert b"id: 'tools-fixed'" in err


# -- MQTT 5 properties -------------------------------------------------------

def test_v5_publish_properties_pass_through(broker):
    """v5[MQTT-3.3.2-4] v5[MQTT-3.3.2-15] v5[MQTT-3.3.2-16] v5[MQTT-3.3.2-17]
    v5[MQTT-3.3.2-18] v5[MQTT-3.3.2-20]: -D properties reach the subscriber
    unaltered, user properties in order."""
    subscriber = sub(broker, "-V", "5", "-t", "tools/props", "-C", "1",
                     "-F", "%C|%P|%R|%D|%F|%E")
    pub(broker, "-V", "5", "-t", "tools/props", "-m", "{}",
        "-D", "publish", "content-type", "application/json",
        "-D", "publish", "user-property", "k1", "v1",
        "-D", "publish", "user-property", "k2", "v2",
        "-D", "publish", "response-topic", "tools/reply",
        "-D", "publish", "correlation-data", "corr-7",
        "-D", "publish", "payload-format-indicator", "1",
        "-D", "publish", "message-expiry-interval", "3600")
    out = finish_ok(subscriber)
    fields = out.rstrip(b"\n").split(b"|")
    assert fields[:5] == [b"application/json", b"k1:v1 k2:v2", b"tools/reply", b"corr-7", b"1"]
    assert 3590 <= int(fields[5]) <= 3600


def test_v5_subscription_identifier(broker):
    """v5[MQTT-3.3.4-3]: the subscription identifier comes back with the
    messages of that subscription."""
    subscriber = sub(broker, "-V", "5", "-t", "tools/subid", "-C", "1", "-F", "%S",
                     "-D", "subscribe", "subscription-identifier", "77")
    pub(broker, "-V", "5", "-t", "tools/subid", "-m", "x")
    assert finish_ok(subscriber) == b"77\n"


# -- cross-checks with mosquitto's tools -------------------------------------

@pytest.mark.parametrize("qos", QOS_LEVELS)
@pytest.mark.parametrize("version", VERSIONS)
def test_stellwerk_pub_to_mosquitto_sub(broker, version, qos):
    subscriber = mosquitto_sub(broker, "-V", MOSQUITTO_VERSION[version], "-q", str(qos),
                               "-t", "cross/a", "-C", "1")
    pub(broker, "-V", version, "-q", str(qos), "-t", "cross/a", "-m", "from stellwerk")
    assert mosquitto_messages(finish_ok(subscriber)) == [b"cross/a from stellwerk"]


@pytest.mark.parametrize("qos", QOS_LEVELS)
@pytest.mark.parametrize("version", VERSIONS)
def test_mosquitto_pub_to_stellwerk_sub(broker, version, qos):
    subscriber = sub(broker, "-V", version, "-q", str(qos), "-t", "cross/b", "-C", "1", "-v")
    subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port),
                    "-V", MOSQUITTO_VERSION[version], "-q", str(qos), "-t", "cross/b",
                    "-m", "from mosquitto"], check=True, timeout=TIMEOUT_S)
    assert finish_ok(subscriber) == b"cross/b from mosquitto\n"


def test_v5_properties_reach_mosquitto_sub(broker):
    subscriber = mosquitto_sub(broker, "-V", "mqttv5", "-t", "cross/props", "-C", "1",
                               "-F", "MSG %C %P")
    pub(broker, "-V", "5", "-t", "cross/props", "-m", "x",
        "-D", "publish", "content-type", "text/plain",
        "-D", "publish", "user-property", "who", "stellwerk")
    assert mosquitto_messages(finish_ok(subscriber)) == [b"text/plain who:stellwerk"]


def test_mosquitto_lines_to_stellwerk_sub(broker):
    subscriber = sub(broker, "-t", "cross/lines", "-C", "3", "-F", "%p|%l")
    subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port),
                    "-t", "cross/lines", "-l", "-q", "1"],
                   input=b"one\n\nthree\n", check=True, timeout=TIMEOUT_S)
    assert finish_ok(subscriber) == b"one|3\n|0\nthree|5\n"


# -- failures ----------------------------------------------------------------

def test_usage_errors_exit_1_before_connecting():
    """No broker is needed: each mistake is caught before connecting."""
    port = str(free_port())
    cases = [["pub", "-t", "t"],                       # no message
             ["pub", "-m", "x"],                       # no topic
             ["pub", "-t", "t", "-m", "x", "-n"],      # two message sources
             ["pub", "-t", "a/#", "-m", "x"],          # wildcard in a topic name
             ["pub", "-t", "t", "-m", "x", "-q", "3"],
             ["pub", "-t", "t", "-m", "x", "-V", "6"],
             ["pub", "-t", "t", "-m", "x", "-c"],      # -c needs -i
             ["pub", "-t", "t", "-f", "/nonexistent/file"],
             ["pub", "-t", "t", "-m", "x", "--will-payload", "p"],
             ["pub", "-t", "t", "-m", "x", "-V", "5", "-D", "publish", "bogus", "1"],
             ["pub", "-t", "t", "-m", "x", "--no-such-flag"],
             ["sub"],                                  # no topic
             ["sub", "-t", "a/#/b"],
             ["sub", "-t", "t", "-F", "%i"]]
    for case in cases:
        done = subprocess.run([stellwerk_bin(), *case, "-p", port], capture_output=True,
                              timeout=TIMEOUT_S)
        assert done.returncode == 1, (case, done.stderr)
        assert done.stderr.startswith(b"Error: "), (case, done.stderr)


def test_quiet_suppresses_error_messages():
    done = subprocess.run([stellwerk_bin(), "pub", "-t", "t", "--quiet"], capture_output=True,
                          timeout=TIMEOUT_S)
    assert (done.returncode, done.stderr) == (1, b"")


def test_help_uses_long_flag_only():
    done = subprocess.run([stellwerk_bin(), "sub", "--help"], capture_output=True,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0
    assert b"-h,--host" in done.stdout and b"-W,--timeout" in done.stdout


def test_no_broker_is_a_network_error():
    done = subprocess.run([stellwerk_bin(), "pub", "-p", str(free_port()), "-t", "t", "-m", "x"],
                          capture_output=True, timeout=TIMEOUT_S)
    assert done.returncode == 1
    assert b"Connection refused" in done.stderr


@pytest.mark.broker_config("max_packet_size 1000")
def test_v5_maximum_packet_size_is_respected(broker):
    """v5[MQTT-3.2.2-15]: the client does not send a packet above the Maximum
    Packet Size from CONNACK; it says why and exits 1 instead."""
    code, _, err = tool("pub", broker, "-V", "5", "-t", "t", "-m", "x" * 2000)
    assert code == 1
    assert b"above the server's maximum of 1000" in err
    code, _, err = tool("pub", broker, "-V", "5", "-t", "t", "-m", "x" * 500)
    assert code == 0, err


@pytest.mark.broker_config("allow_anonymous false")
@pytest.mark.parametrize("version,code", [("31", 5), ("311", 5), ("5", 0x87)])
def test_refused_connection_exit_code(broker, version, code):
    """The exit code is the CONNACK code, as mosquitto's tools do: the 3.1.x
    return code 5 or the v5 reason code 0x87, both "not authorized"."""
    for command in (["pub", "-m", "x"], ["sub"]):
        exit_code, _, err = tool(command[0], broker, "-V", version, "-t", "t", *command[1:])
        assert exit_code == code, err
        assert b"connection refused: not authorized" in err
