"""$SYS topics: the broker publishes its state under mosquitto's names
($SYS/broker/version, uptime, clients/connected, messages/received, ...)
every sys_interval seconds, and the values move with what happens.

Not part of the MQTT specification (it only reserves $-topics, see
[MQTT-4.7.2-1]); the names are mosquitto's so that existing dashboards work.
"""

import re
import time

import pytest

from rawmqtt import PUBLISH, V311

pytestmark = pytest.mark.broker_config("sys_interval 1")

INTEGER_TOPICS = [
    "$SYS/broker/clients/connected",
    "$SYS/broker/clients/total",
    "$SYS/broker/messages/received",
    "$SYS/broker/messages/sent",
    "$SYS/broker/publish/messages/received",
    "$SYS/broker/publish/messages/sent",
    "$SYS/broker/bytes/received",
    "$SYS/broker/bytes/sent",
    "$SYS/broker/subscriptions/count",
    "$SYS/broker/retained messages/count",
]


class SysWatcher:
    """Keeps the latest value of every $SYS topic seen by one client."""

    def __init__(self, client):
        self.client = client
        self.latest = {}
        client.subscribe("$SYS/#", 0)

    def wait_for(self, predicate, timeout=4.0):
        """Reads $SYS messages until predicate(latest) holds; fails after timeout."""
        deadline = time.monotonic() + timeout
        while not predicate(self.latest):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"$SYS never satisfied the condition; saw {sorted(self.latest)}"
            try:
                packet = self.client.recv(remaining)
            except TimeoutError:
                continue
            if packet.type == PUBLISH:
                self.latest[packet.topic] = packet.payload.decode()

    def integer(self, topic):
        return int(self.latest[topic])


def uptime_seconds(text):
    match = re.fullmatch(r"(\d+) seconds", text)
    assert match, f"uptime {text!r} is not 'N seconds'"
    return int(match.group(1))


def test_sys_topics_present_with_mosquitto_names(raw):
    """$SYS/broker/version, uptime ("N seconds") and the counters appear,
    the counters as decimal integers."""
    watcher = SysWatcher(raw(V311, "sys-watcher"))
    wanted = ["$SYS/broker/version", "$SYS/broker/uptime"] + INTEGER_TOPICS
    watcher.wait_for(lambda latest: all(topic in latest for topic in wanted))
    assert "version" in watcher.latest["$SYS/broker/version"]
    uptime_seconds(watcher.latest["$SYS/broker/uptime"])
    for topic in INTEGER_TOPICS:
        assert re.fullmatch(r"\d+", watcher.latest[topic]), (topic, watcher.latest[topic])


def test_sys_values_follow_activity(raw):
    """clients/connected counts new connections, messages/received and uptime
    grow between publications."""
    watcher = SysWatcher(raw(V311, "sys-watcher"))
    watcher.wait_for(lambda latest: "$SYS/broker/messages/received" in latest
                     and "$SYS/broker/uptime" in latest)
    received_before = watcher.integer("$SYS/broker/messages/received")
    uptime_before = uptime_seconds(watcher.latest["$SYS/broker/uptime"])
    others = [raw(V311, f"sys-client-{i}") for i in range(2)]
    for other in others:
        for _ in range(3):
            other.publish("sys/load", b"x", qos=1)
    watcher.wait_for(lambda latest: int(latest["$SYS/broker/clients/connected"]) >= 3
                     and int(latest["$SYS/broker/messages/received"]) > received_before
                     and uptime_seconds(latest["$SYS/broker/uptime"]) > uptime_before)


def test_sys_not_delivered_to_hash_subscription(raw):
    """[MQTT-4.7.2-1]: a "#" subscriber does not get $SYS messages."""
    client = raw(V311, "hash-only")
    client.subscribe("#", 0)
    assert client.collect(1.5) == []
