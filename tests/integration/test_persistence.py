"""Persistence: `persistence true` with mosquitto's keys (persistence_location,
autosave_interval) and Stellwerk's persistence_sync. Retained messages,
persistent sessions (3.1.1 clean session 0, v5 session expiry) with their
subscriptions and queued QoS 1/2 messages survive a restart; a crash loop of
kill -9 at random moments loses nothing that was acknowledged; store files
are private (0600); a damaged store still lets the broker start; Debian's
default mosquitto.conf starts the broker.

mosquitto 2.0.11 saves its state only at shutdown and every autosave_interval,
so it loses data on kill -9 by design: every kill -9 case is stellwerk_only.

Statement ids prefixed v311 or v5 apply to that version only.
"""

import os
import pathlib
import random
import re
import stat
import threading
import time

import pytest

from auth_support import restartable_broker
from harness import broker_kind
from rawmqtt import (PUBCOMP, PUBLISH, PUBREC, PUBREL, SESSION_EXPIRY_INTERVAL, V311, V5, Closed,
                     RawClient, ack_packet, publish_packet)

KILL9_REASON = "persists only at shutdown and every autosave_interval: kill -9 loses data"
DEBIAN_CONF = pathlib.Path("/etc/mosquitto/mosquitto.conf")
DAMAGE_LOG_LINE = re.compile(r"torn tail|damaged|corrupt", re.IGNORECASE)
STOPS = [pytest.param("sigterm", id="sigterm"),
         pytest.param("kill9", id="kill9", marks=pytest.mark.stellwerk_only(reason=KILL9_REASON))]


def persistence_config(store_dir, sync="always"):
    lines = ["persistence true", f"persistence_location {store_dir}/", "autosave_interval 1",
             "max_queued_messages 0"]
    if broker_kind() == "stellwerk":
        lines.append(f"persistence_sync {sync}")
    return "\n".join(lines)


@pytest.fixture(name="durable")
def durable_fixture(tmp_path):
    """A restartable broker with persistence in tmp_path/store."""
    store = tmp_path / "store"
    store.mkdir()
    with restartable_broker(tmp_path, persistence_config(store)) as broker:
        yield broker


def persistent_client(broker, version, client_id, clean=False):
    """Connects with clean session 0 (3.1.1) or clean start 0 and session
    expiry 3600 (v5); returns (client, CONNACK)."""
    client = RawClient(broker.broker, version)
    props = [(SESSION_EXPIRY_INTERVAL, 3600)] if version == V5 else ()
    return client, client.connect(client_id, clean=clean, props=props)


def publisher(broker, version=V311, client_id="publisher"):
    client = RawClient(broker.broker, version)
    assert client.connect(client_id).reason_code == 0
    return client


def collect_until(client, wanted, quiet):
    """PUBLISH packets (acknowledged) until every payload in `wanted` came and
    then 0.05 s passed with nothing more, or until `quiet` s passed with nothing."""
    received, missing = [], set(wanted)
    while True:
        try:
            packet = client.recv(0.05 if not missing else quiet)
        except TimeoutError:
            return received
        assert packet.type == PUBLISH, packet
        client.ack(packet)
        received.append(packet)
        missing.discard(packet.payload)


def retained_values(broker, version, topic_filter, expected=()):
    """{topic: payload} of the retained messages a fresh subscriber gets
    (waiting less once each payload in `expected` has come)."""
    client = RawClient(broker.broker, version)
    try:
        assert client.connect("retained-reader").reason_code == 0
        client.subscribe(topic_filter, 1)
        return {packet.topic: packet.payload
                for packet in collect_until(client, set(expected), quiet=0.3)}
    finally:
        client.close()


# ---------------------------------------------------------------- retained


@pytest.mark.parametrize("how", STOPS)
def test_retained_survives_restart(durable, version, how):
    """v311[MQTT-3.3.1-5] v5[MQTT-3.3.1-5]: acknowledged retained messages
    (QoS 0 after a round trip, 1 and 2) are still there after a restart; a
    deleted one stays deleted."""
    pub = publisher(durable, version)
    pub.publish("keep/q1", b"one", qos=1, retain=True)
    pub.publish("keep/q2", b"two", qos=2, retain=True)
    pub.publish("keep/gone", b"x", qos=1, retain=True)
    pub.publish("keep/gone", b"", qos=1, retain=True)
    pub.publish("keep/q1", b"one, newer", qos=1, retain=True)
    pub.close()
    durable.restart(how)
    assert retained_values(durable, version, "keep/#") == {"keep/q1": b"one, newer",
                                                          "keep/q2": b"two"}


@pytest.mark.stellwerk_only(reason="persistence_sync is Stellwerk's key")
@pytest.mark.parametrize("sync", ["always", "interval", "never"])
def test_every_sync_policy_keeps_retained_across_sigterm(tmp_path, sync):
    """Each persistence_sync policy starts and keeps retained state across a
    clean shutdown (what a policy trades away is only power-loss safety)."""
    store = tmp_path / "store"
    store.mkdir()
    with restartable_broker(tmp_path, persistence_config(store, sync)) as broker:
        pub = publisher(broker)
        pub.publish("sync/t", sync.encode(), qos=1, retain=True)
        pub.close()
        broker.restart("sigterm")
        assert retained_values(broker, V311, "sync/#") == {"sync/t": sync.encode()}


@pytest.mark.stellwerk_only(reason="$SYS/broker/persistence/... is Stellwerk's own")
def test_sys_shows_how_the_store_keeps_up(tmp_path):
    """With sys_interval, $SYS/broker/persistence/records, writes, syncs,
    snapshots and "log bytes" count the store's work and grow with traffic
    (not in the specification; [MQTT-4.7.2-1] only reserves $-topics)."""
    store = tmp_path / "store"
    store.mkdir()
    names = ["records", "writes", "syncs", "snapshots", "log bytes"]
    with restartable_broker(tmp_path, persistence_config(store) + "\nsys_interval 1") as broker:
        pub = publisher(broker)
        for i in range(20):
            pub.publish(f"sys/{i}", b"v", qos=1, retain=True)
        watcher = RawClient(broker.broker, V311)
        watcher.connect("sys-watcher")
        watcher.subscribe("$SYS/broker/persistence/#")
        latest = {}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (
                len(latest) == len(names) and int(latest["records"]) >= 20 and int(latest["snapshots"]) >= 1):
            try:
                packet = watcher.recv(0.5)
            except TimeoutError:
                continue
            if packet.type == PUBLISH:
                latest[packet.topic.rsplit("/", 1)[1]] = packet.payload.decode()
        assert sorted(latest) == sorted(names), latest
        assert all(re.fullmatch(r"\d+", value) for value in latest.values()), latest
        assert int(latest["records"]) >= 20 and int(latest["writes"]) >= 1 and int(latest["syncs"]) >= 1
        assert int(latest["log bytes"]) > 20 * len("sys/00v"), latest


# ---------------------------------------------------------------- sessions


@pytest.mark.parametrize("how", STOPS)
def test_session_and_queued_messages_survive_restart(durable, version, how):
    """v311[MQTT-3.1.2-4] v5[MQTT-3.1.2-23] v311[MQTT-3.2.2-2] v5[MQTT-3.2.2-3]
    [MQTT-4.6.0-6]: a persistent session keeps its subscription and the QoS 1
    and 2 messages queued while it was away, across a restart; they arrive
    in order, with their QoS, and new messages still match the subscription."""
    sub, _ = persistent_client(durable, version, "keeper")
    sub.subscribe("queue/#", 2)
    sub.disconnect()
    pub = publisher(durable, version)
    sent = [(f"queue/{n % 3}", f"m{n}".encode(), 1 + n % 2) for n in range(10)]
    for topic, payload, qos in sent:
        pub.publish(topic, payload, qos=qos)
    pub.close()
    durable.restart(how)
    sub, connack = persistent_client(durable, version, "keeper")
    assert (connack.reason_code, connack.session_present) == (0, True)
    received = sub.collect(quiet=0.5)
    assert [(p.topic, p.payload, p.qos) for p in received] == sent
    publisher(durable, version, "late").publish("queue/late", b"after", qos=1)
    assert sub.receive_publish().payload == b"after"


@pytest.mark.parametrize("how", STOPS)
def test_qos2_exactly_once_across_restart(durable, version, how):
    """v311[MQTT-4.3.3-2] v5[MQTT-4.3.3-2] v311[MQTT-4.4.0-1] v5[MQTT-4.4.0-1]:
    a QoS 2 flow cut by a restart after PUBREC completes with PUBREL /
    PUBCOMP afterwards and the message reaches the persistent subscriber
    exactly once; the broker resends PUBREL, not the PUBLISH, to a subscriber
    that had sent PUBREC."""
    sub, _ = persistent_client(durable, version, "once-sub")
    sub.subscribe("once/#", 2)
    sub.disconnect()
    pub, _ = persistent_client(durable, version, "once-pub")
    pub.send(publish_packet(version, "once/t", b"exactly once", qos=2, pid=7))
    assert pub.expect(PUBREC).pid == 7
    durable.restart(how)
    pub, connack = persistent_client(durable, version, "once-pub")
    assert connack.session_present
    pub.send(ack_packet(version, PUBREL, 7))
    assert pub.expect(PUBCOMP).pid == 7
    sub, connack = persistent_client(durable, version, "once-sub")
    assert connack.session_present
    delivery = sub.expect(PUBLISH)
    sub.send(ack_packet(version, PUBREC, delivery.pid))
    assert sub.expect(PUBREL).pid == delivery.pid
    durable.restart(how)
    sub, connack = persistent_client(durable, version, "once-sub")
    assert connack.session_present
    pubrel = sub.expect(PUBREL)
    assert pubrel.pid == delivery.pid
    sub.send(ack_packet(version, PUBCOMP, delivery.pid))
    assert sub.collect(quiet=0.5) == []


# ---------------------------------------------------------------- crash loop

CRASH_ITERATIONS = 20
# Keeps each round to a few hundred messages, which the Python subscribers
# can take (QoS 2 costs them a round trip per message) in well under a second.
PUBLISH_PAUSE_S = 0.003
SUBSCRIBERS = {"crash-sub-v311": V311, "crash-sub-v5": V5}


class CrashLedger:
    """What the publishers had acknowledged and what the subscribers got."""

    def __init__(self):
        self.acked = {}  # payload -> QoS, for messages to crash/#
        self.delivered = {name: {} for name in SUBSCRIBERS}  # payload -> count
        self.retained_acked = {}  # topic -> last acknowledged payload
        self.retained_later = {}  # topic -> payloads sent after it, not acknowledged


class Killer:
    """kill -9 of a broker after a delay; notes whether it had already exited
    by itself (a crash of ours, not the test's)."""

    def __init__(self, broker, delay_s):
        self.broker = broker
        self.died_by_itself = None
        self.timer = threading.Timer(delay_s, self._fire)
        self.timer.start()

    def _fire(self):
        self.died_by_itself = self.broker.proc.poll()
        self.broker.kill9()

    def join(self):
        self.timer.join()


def publish_until_killed(broker, ledger, rng, iteration):
    """Publishes mixed QoS 1, QoS 2 and retained messages from a 3.1.1 and a
    v5 client until the broker dies (bounded by a deadline)."""
    clients = []
    deadline = time.monotonic() + 5.0
    seq = 0
    try:
        # The kill may come while these connect (a loaded machine): that is a
        # crash like any other, so it belongs inside the try.
        clients.append(publisher(broker, V311, "crash-pub-v311"))
        clients.append(publisher(broker, V5, "crash-pub-v5"))
        while time.monotonic() < deadline:
            seq += 1
            time.sleep(PUBLISH_PAUSE_S)
            client = clients[seq % 2]
            kind = rng.choice(("qos1", "qos2", "retained"))
            payload = f"{client.version}:{iteration}:{seq}".encode()
            if kind == "retained":
                topic = f"ret/{client.version}/{seq % 4}"
                ledger.retained_later.setdefault(topic, set()).add(payload)
                client.publish(topic, payload, qos=1, retain=True)
                ledger.retained_acked[topic] = payload
                ledger.retained_later[topic] = set()
            else:
                qos = 1 if kind == "qos1" else 2
                client.publish(f"crash/{client.version}", payload, qos=qos)
                ledger.acked[payload] = qos
    except (Closed, OSError, TimeoutError, AssertionError):
        pass
    finally:
        for client in clients:
            client.close()


def collect_sessions(broker, ledger):
    """Each persistent subscriber comes back (session present), takes what
    was queued for it and leaves with a normal DISCONNECT."""
    for name, version in SUBSCRIBERS.items():
        client, connack = persistent_client(broker, version, name)
        assert (connack.reason_code, connack.session_present) == (0, True), (name, connack)
        counts = ledger.delivered[name]
        for packet in collect_until(client, set(ledger.acked) - set(counts), quiet=0.3):
            counts[packet.payload] = counts.get(packet.payload, 0) + 1
        client.disconnect()


def check_ledger(broker, ledger, iteration):
    for name, counts in ledger.delivered.items():
        missing = [p for p in ledger.acked if p not in counts]
        assert not missing, f"{name} lacks {len(missing)} acknowledged messages, e.g. {missing[:3]}"
        twice = [p for p, n in counts.items() if n > 1 and ledger.acked.get(p, 2) == 2]
        assert not twice, f"{name} got QoS 2 messages more than once: {twice[:3]}"
    retained = retained_values(broker, V311, "ret/#", ledger.retained_acked.values())
    for topic, payload in ledger.retained_acked.items():
        allowed = {payload} | ledger.retained_later.get(topic, set())
        assert retained.get(topic) in allowed, (iteration, topic, retained.get(topic), payload)


@pytest.mark.stellwerk_only(reason=KILL9_REASON)
def test_crash_loop_loses_nothing_acknowledged(tmp_path):
    """[MQTT-4.3.2-2] [MQTT-4.3.3-2] v311[MQTT-3.1.2-4] v5[MQTT-3.1.2-23]: 20
    times: publish for a random 0.2-1 s, kill -9 at a random moment, restart.
    After each restart every acknowledged QoS 1 message has reached both
    persistent subscribers at least once, every QoS 2 one exactly once,
    each retained topic holds its last acknowledged value (or a later one
    whose ack was lost in the crash) and both sessions are present."""
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    store = tmp_path / "store"
    store.mkdir()
    ledger = CrashLedger()
    with restartable_broker(tmp_path, persistence_config(store)) as broker:
        for name, version in SUBSCRIBERS.items():
            client, _ = persistent_client(broker, version, name)
            client.subscribe("crash/#", 2)
            client.disconnect()
        for iteration in range(CRASH_ITERATIONS):
            killer = Killer(broker.broker, rng.uniform(0.2, 1.0))
            publish_until_killed(broker, ledger, rng, iteration)
            killer.join()
            assert killer.died_by_itself is None, (
                f"the broker exited ({killer.died_by_itself}) before the kill, iteration "
                f"{iteration}, CRASH_SEED={seed}; log:\n{broker.broker.log()}")
            broker.start()
            collect_sessions(broker, ledger)
            check_ledger(broker, ledger, f"iteration {iteration}, CRASH_SEED={seed}")
        assert len(ledger.acked) > CRASH_ITERATIONS


# ---------------------------------------------------------------- files


def store_files(store):
    return [path for path in pathlib.Path(store).rglob("*") if path.is_file()]


def test_store_files_are_private(tmp_path):
    """Every file the store writes has mode 0600: it holds message payloads."""
    store = tmp_path / "store"
    store.mkdir()
    with restartable_broker(tmp_path, persistence_config(store)) as broker:
        pub = publisher(broker)
        pub.publish("private/t", b"payload", qos=1, retain=True)
        pub.close()
        time.sleep(1.5)  # one autosave_interval
        broker.restart("sigterm")
    files = store_files(store)
    assert files
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in files} == \
        {path.name: 0o600 for path in files}


def newest_log_segment(store):
    # wal-spare.log, an old segment's file kept for reuse, is not one.
    segments = sorted(path for path in store_files(store) if re.fullmatch(r"wal-\d{20}\.log", path.name))
    assert segments, f"no log segment in {store}: {store_files(store)}"
    return segments[-1]


def damage(path, how):
    data = bytearray(path.read_bytes())
    assert len(data) > 16, f"{path} is too short to damage ({len(data)} bytes)"
    if how == "truncate":
        path.write_bytes(bytes(data[:-5]))
    else:
        data[len(data) // 2] ^= 0x5A
        path.write_bytes(bytes(data))


@pytest.mark.stellwerk_only(reason="the damage is aimed at Stellwerk's log segment files")
@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_damaged_store_still_starts(tmp_path, how):
    """A log segment cut short by a few bytes, or with one byte flipped, does
    not stop the broker: it starts, says so in its log, and keeps what came
    before the damage."""
    store = tmp_path / "store"
    store.mkdir()
    with restartable_broker(tmp_path, persistence_config(store)) as broker:
        pub = publisher(broker)
        for n in range(40):
            pub.publish(f"damage/{n}", f"value {n}".encode(), qos=1, retain=True)
        pub.close()
        broker.stop("kill9")
        damage(newest_log_segment(store), how)
        broker.start()
        assert DAMAGE_LOG_LINE.search(broker.broker.log()), broker.broker.log()
        retained = retained_values(broker, V311, "damage/#")
        assert retained.get("damage/0") == b"value 0"
        publisher(broker, V311, "after").publish("damage/new", b"ok", qos=1, retain=True)
        assert retained_values(broker, V311, "damage/new") == {"damage/new": b"ok"}


def debian_config(tmp_path):
    """Debian's /etc/mosquitto/mosquitto.conf with its paths moved into tmp_path."""
    rewrites = {"pid_file": f"pid_file {tmp_path}/mosquitto.pid",
                "persistence_location": f"persistence_location {tmp_path}/store/",
                "log_dest": f"log_dest file {tmp_path}/mosquitto.log",
                "include_dir": f"include_dir {tmp_path}/conf.d"}
    (tmp_path / "store").mkdir()
    (tmp_path / "conf.d").mkdir()
    lines = []
    for line in DEBIAN_CONF.read_text().splitlines():
        key = line.split(" ", 1)[0]
        lines.append(rewrites.get(key, line))
    return "\n".join(lines) + "\nallow_anonymous true\n"


@pytest.mark.skipif(not DEBIAN_CONF.exists(), reason="needs Debian's mosquitto package")
def test_debian_default_config_starts(tmp_path):
    """Debian's default mosquitto.conf (pid file, persistence, a log file,
    include_dir), with its paths moved to a temporary directory and a
    listener added, starts the broker, which then keeps a retained message
    across a restart."""
    with restartable_broker(tmp_path, debian_config(tmp_path)) as broker:
        # The pid file comes right after the listener opens: wait for it.
        pid_file = tmp_path / "mosquitto.pid"
        deadline = time.monotonic() + 10
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pid_file.read_text().strip() == str(broker.broker.pid)
        publisher(broker).publish("debian/t", b"default", qos=1, retain=True)
        broker.restart("sigterm")
        assert retained_values(broker, V311, "debian/#") == {"debian/t": b"default"}
    assert (tmp_path / "mosquitto.log").exists()
    assert store_files(tmp_path / "store")
