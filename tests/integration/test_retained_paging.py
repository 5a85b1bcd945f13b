"""A '#' subscription over many retained messages, with the default limits.

The broker sends retained messages for a new subscription in chunks paced by
the client (its output draining at QoS 0, its acknowledgements at QoS 1), so
every one arrives even though the default queue holds 1000, and other
clients are served meanwhile (src/broker/retained_backlog.cpp).
v311[MQTT-3.3.1-6] v5[MQTT-3.3.1-9]: every matching retained message is sent.
"""

import threading
import time

import pytest

from rawmqtt import PINGRESP, PUBLISH, SUBACK, pingreq_packet, publish_packet

RETAINED = 50_000
# 50,000 x 256 bytes is more than the 8 MiB of unwritten output at which the
# server drops QoS 0: all at once, as before paging, most would be lost.
PAYLOAD_BYTES = 256
PING_BOUND_S = 5.0  # generous: the machine is shared; the figure is printed


def topic_of(i):
    return f"paging/{i // 1000:03d}/{i % 1000:03d}"


def payload_of(i):
    return f"v{i}".encode().ljust(PAYLOAD_BYTES, b".")


def fill_retained(raw, version, qos):
    """Publishes RETAINED retained messages in a few large writes."""
    publisher = raw(version, "paging-pub")
    batch = []
    for i in range(RETAINED):
        batch.append(publish_packet(version, topic_of(i), payload_of(i), qos=qos, retain=True,
                                    pid=i + 1 if qos else None))
        if len(batch) == 5000:
            publisher.send(b"".join(batch))
            batch = []
    if batch:
        publisher.send(b"".join(batch))
    assert publisher.is_open(timeout=30)  # the PINGRESP comes after every PUBLISH was handled


class Pinger(threading.Thread):
    """Another client: a PINGREQ every 20 ms, round trips recorded."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client = client
        self.stop = threading.Event()
        self.round_trips = []

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            self.client.send(pingreq_packet())
            self.client.expect(PINGRESP, timeout=30)
            self.round_trips.append(time.monotonic() - started)
            time.sleep(0.02)


def receive_all(subscriber, qos):
    """Topics of the retained PUBLISHes, in arrival order; QoS 1 acknowledged."""
    topics = []
    while len(topics) < RETAINED:
        packet = subscriber.recv(timeout=30)
        if packet.type == SUBACK:
            continue
        assert packet.type == PUBLISH, packet
        assert packet.retain and packet.qos == qos
        if qos:
            subscriber.ack(packet)
        assert packet.payload == payload_of(int(packet.topic[7:10]) * 1000 + int(packet.topic[11:]))
        topics.append(packet.topic)
    return topics


@pytest.mark.parametrize("qos", [0, 1])
def test_hash_subscription_receives_every_retained_message(raw, version, qos):
    fill_retained(raw, version, qos)
    pinger = Pinger(raw(version, "paging-ping"))
    subscriber = raw(version, "paging-sub")
    pinger.start()
    started = time.monotonic()
    subscriber.subscribe("#", qos)
    try:
        topics = receive_all(subscriber, qos)
    finally:
        pinger.stop.set()
        pinger.join(timeout=35)
    elapsed = time.monotonic() - started
    pings = sorted(pinger.round_trips)
    worst = pings[-1] if pings else 0.0
    print(f"\n'#' at QoS {qos}: {len(topics)} retained in {elapsed:.2f} s; other client's ping: "
          f"{len(pings)} round trips, median {pings[len(pings) // 2] * 1000 if pings else 0:.1f} ms, "
          f"max {worst * 1000:.1f} ms")
    assert len(set(topics)) == RETAINED  # each exactly once
    assert topics == sorted(topics)      # in topic order (names padded to sort alike)
    assert subscriber.is_open()
    assert worst < PING_BOUND_S
