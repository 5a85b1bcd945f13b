"""Sessions: what a persistent session keeps across connections (its
subscriptions, queued QoS 1/2 messages in order, unacknowledged deliveries
that are resent with DUP), what clean start discards, v5 session expiry, and
QoS 2 exactly-once delivery when the publisher repeats itself.

Raw sockets, so that acknowledgements can be held back. Statement ids
prefixed v311 or v5 apply to that version only.
"""

import time

from rawmqtt import (PUBCOMP, PUBLISH, PUBREC, PUBREL, SESSION_EXPIRY_INTERVAL, V5,
                     ack_packet, publish_packet)


def persistent(version, expiry=300):
    """CONNECT arguments for a session that outlives the connection."""
    props = [(SESSION_EXPIRY_INTERVAL, expiry)] if version == V5 else []
    return {"clean": False, "props": props}


def test_persistent_session_keeps_subscription_and_queues_in_order(raw, version):
    """v311[MQTT-3.1.2-4] v311[MQTT-3.1.2-5] v5[MQTT-3.1.2-5] v5[MQTT-3.1.2-23]
    v311[MQTT-4.1.0-1] [MQTT-4.5.0-1] v311[MQTT-4.6.0-6] v5[MQTT-4.6.0-5]
    [MQTT-3.1.3-2]: the client id names the session;
    QoS 1 and 2 messages published while the client is away are kept and
    delivered, in order, when it resumes; the subscription is still there."""
    client = raw(version, "keeper", **persistent(version))
    client.subscribe("sess/t", 2)
    client.disconnect()
    publisher = raw(version, "sess-pub")
    sent = [(f"m{i}".encode(), 1 + i % 2) for i in range(10)]
    for payload, qos in sent:
        publisher.publish("sess/t", payload, qos=qos)
    resumed = raw(version)
    assert resumed.connect("keeper", **persistent(version)).session_present is True
    received = [(p.payload, p.qos) for p in resumed.collect()]
    assert received == sent
    publisher.publish("sess/t", b"live", qos=1)
    assert resumed.receive_publish().payload == b"live"


def test_clean_start_discards_session(raw, version):
    """v311[MQTT-3.1.2-6] v5[MQTT-3.1.2-4] v311[MQTT-3.2.2-1] v5[MQTT-3.2.2-2]
    v311[MQTT-3.1.4-3] v5[MQTT-3.1.4-4]:
    connecting with clean session/start drops the stored session: no queued
    messages and no subscriptions."""
    client = raw(version, "forgetful", **persistent(version))
    client.subscribe("sess/t", 1)
    client.disconnect()
    publisher = raw(version, "sess-pub")
    publisher.publish("sess/t", b"queued", qos=1)
    fresh = raw(version)
    assert fresh.connect("forgetful", clean=True).session_present is False
    publisher.publish("sess/t", b"after", qos=1)
    assert fresh.collect() == []


def test_v5_session_expiry_zero_ends_session_with_connection(raw):
    """v5[MQTT-3.1.2-23] v5[MQTT-4.1.0-2]: with Session Expiry Interval 0 (or
    absent) the session ends with the network connection, even with clean
    start 0."""
    client = raw(V5, "short", clean=False)
    client.subscribe("sess/t", 1)
    client.disconnect()
    raw(V5, "sess-pub").publish("sess/t", b"lost", qos=1)
    again = raw(V5)
    assert again.connect("short", clean=False).session_present is False
    assert again.collect() == []


def test_v5_session_expiry_interval_elapses(raw):
    """v5[MQTT-3.1.2-23] v5[MQTT-4.1.0-2]: a session with expiry 1 s is kept
    for a reconnect within that time and discarded after it."""
    options = persistent(V5, expiry=1)
    client = raw(V5, "expiring", **options)
    client.subscribe("sess/t", 1)
    client.disconnect()
    soon = raw(V5)
    assert soon.connect("expiring", **options).session_present is True
    soon.disconnect()
    time.sleep(2.5)
    late = raw(V5)
    assert late.connect("expiring", **options).session_present is False


def test_unacknowledged_qos1_resent_with_dup(raw, version):
    """[MQTT-4.4.0-1] [MQTT-3.3.1-1] v311[MQTT-2.3.1-4] v5[MQTT-2.2.1-4]
    v311[MQTT-4.6.0-1] v5[MQTT-4.6.0-1] v5[MQTT-4.3.2-1] v5[MQTT-4.3.2-3]
    v311[MQTT-4.3.2-1]: unacknowledged QoS 1 deliveries carry distinct
    packet ids and are sent again after the client resumes its session,
    with DUP 1, the same packet ids, in their order."""
    client = raw(version, "slow-acker", **persistent(version))
    client.subscribe("dup/t", 1)
    publisher = raw(version, "dup-pub")
    for index in range(3):
        publisher.publish("dup/t", f"m{index}".encode(), qos=1)
    first = [client.expect(PUBLISH) for _ in range(3)]
    assert not any(p.dup for p in first)
    assert len({p.pid for p in first}) == 3
    client.close()
    resumed = raw(version)
    assert resumed.connect("slow-acker", **persistent(version)).session_present is True
    again = [resumed.expect(PUBLISH) for _ in range(3)]
    assert [(p.pid, p.payload, p.dup) for p in again] == [(p.pid, p.payload, True) for p in first]
    for packet in again:
        resumed.ack(packet)
    resumed.expect_nothing(0.3)


def test_unacknowledged_qos2_resends_pubrel_not_publish(raw, version):
    """[MQTT-4.4.0-1] v5[MQTT-4.3.3-6] v5[MQTT-4.3.3-5] v5[MQTT-4.3.3-3]
    v5[MQTT-4.3.3-1]: once the client has
    sent PUBREC, the server resends the PUBREL on resumption, not the
    PUBLISH."""
    client = raw(version, "half-done", **persistent(version))
    client.subscribe("dup/t", 2)
    raw(version, "dup-pub").publish("dup/t", b"qos2", qos=2)
    publish = client.expect(PUBLISH)
    client.send(ack_packet(version, PUBREC, publish.pid))
    assert client.expect(PUBREL).pid == publish.pid
    client.close()
    resumed = raw(version)
    assert resumed.connect("half-done", **persistent(version)).session_present is True
    pubrel = resumed.expect(PUBREL)
    assert pubrel.pid == publish.pid
    resumed.send(ack_packet(version, PUBCOMP, publish.pid))
    resumed.expect_nothing(0.3)


def test_qos2_repeated_publish_delivered_once(raw, version):
    """v311[MQTT-4.3.3-2] v5[MQTT-4.3.3-10] v5[MQTT-4.3.3-11]: a QoS 2 PUBLISH
    sent again (DUP) before PUBREL gets another PUBREC and is not delivered
    twice."""
    subscriber = raw(version, "once-sub")
    subscriber.subscribe("once/t", 2)
    publisher = raw(version, "once-pub")
    publisher.send(publish_packet(version, "once/t", b"exactly once", qos=2, pid=77))
    assert publisher.expect(PUBREC).pid == 77
    publisher.send(publish_packet(version, "once/t", b"exactly once", qos=2, pid=77, dup=True))
    assert publisher.expect(PUBREC).pid == 77
    publisher.send(ack_packet(version, PUBREL, 77))
    assert publisher.expect(PUBCOMP).pid == 77
    assert [p.payload for p in subscriber.collect()] == [b"exactly once"]


def test_qos2_publish_resent_after_publisher_reconnects_delivered_once(raw, version):
    """[MQTT-4.4.0-1] v311[MQTT-4.3.3-2] v5[MQTT-4.3.3-10]: a publisher that
    lost its connection after PUBREC resumes its session and resends the
    PUBLISH with DUP; the message is still delivered once."""
    subscriber = raw(version, "once-sub")
    subscriber.subscribe("once/t", 2)
    publisher = raw(version, "resuming-pub", **persistent(version))
    publisher.send(publish_packet(version, "once/t", b"exactly once", qos=2, pid=9))
    assert publisher.expect(PUBREC).pid == 9
    publisher.close()
    resumed = raw(version)
    assert resumed.connect("resuming-pub", **persistent(version)).session_present is True
    resumed.send(publish_packet(version, "once/t", b"exactly once", qos=2, pid=9, dup=True))
    assert resumed.expect(PUBREC).pid == 9
    resumed.send(ack_packet(version, PUBREL, 9))
    assert resumed.expect(PUBCOMP).pid == 9
    assert [p.payload for p in subscriber.collect()] == [b"exactly once"]
