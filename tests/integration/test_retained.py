"""Retained messages: store, replace, clear with an empty payload, the RETAIN
flag on delivery, and v5's Retain Handling and Retain As Published options.

Statement ids prefixed v311 or v5 apply to that version only.
"""

import pytest

from rawmqtt import (CONNACK, DISCONNECT, RETAIN_AVAILABLE, V5, connect_packet, publish_packet,
                     sub_options)


def sync(client):
    """Returns once the broker has handled everything the client sent before
    (a PINGREQ is answered after the packets in front of it)."""
    assert client.is_open(timeout=5)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_retained_message_goes_to_new_subscriber_with_retain_set(raw, version, qos):
    """v311[MQTT-3.3.1-5] v5[MQTT-3.3.1-5] v311[MQTT-3.3.1-6] v311[MQTT-3.3.1-8]
    v5[MQTT-3.3.1-9] v311[MQTT-3.3.1-7]: a retained message (also QoS 0) is
    stored with its QoS and sent to a new subscription with RETAIN 1."""
    publisher = raw(version, "ret-pub")
    publisher.publish("ret/t", b"kept", qos=qos, retain=True)
    sync(publisher)
    subscriber = raw(version, "ret-sub")
    subscriber.subscribe("ret/#", 2)
    packet = subscriber.receive_publish()
    assert (packet.topic, packet.payload, packet.retain, packet.qos) == \
        ("ret/t", b"kept", True, qos)


def test_retained_message_is_replaced(raw, version):
    """v311[MQTT-3.3.1-5] v5[MQTT-3.3.1-5]: a new retained message on the topic
    replaces the stored one."""
    publisher = raw(version, "ret-pub")
    publisher.publish("ret/t", b"first", qos=1, retain=True)
    publisher.publish("ret/t", b"second", qos=1, retain=True)
    subscriber = raw(version, "ret-sub")
    subscriber.subscribe("ret/t", 1)
    assert [p.payload for p in subscriber.collect()] == [b"second"]


def test_empty_retained_payload_clears(raw, version):
    """v311[MQTT-3.3.1-10] v311[MQTT-3.3.1-11] v5[MQTT-3.3.1-6] v5[MQTT-3.3.1-7]:
    a retained PUBLISH with an empty payload goes to current subscribers as
    usual, and removes the retained message: later subscribers get nothing."""
    publisher = raw(version, "ret-pub")
    publisher.publish("ret/t", b"to be cleared", qos=1, retain=True)
    current = raw(version, "ret-current")
    current.subscribe("ret/t", 1)
    assert current.receive_publish().payload == b"to be cleared"
    publisher.publish("ret/t", b"", qos=1, retain=True)
    cleared = current.receive_publish()
    assert cleared.payload == b""
    later = raw(version, "ret-later")
    later.subscribe("ret/t", 1)
    assert later.collect() == []


def test_non_retained_publish_leaves_retained_message(raw, version):
    """v311[MQTT-3.3.1-12] v5[MQTT-3.3.1-8]: a PUBLISH with RETAIN 0 is not
    stored and does not replace or remove the retained message."""
    publisher = raw(version, "ret-pub")
    publisher.publish("ret/t", b"retained", qos=1, retain=True)
    publisher.publish("ret/t", b"live only", qos=1, retain=False)
    publisher.publish("ret/other", b"live only", qos=1, retain=False)
    subscriber = raw(version, "ret-sub")
    subscriber.subscribe("ret/#", 1)
    assert [(p.topic, p.payload) for p in subscriber.collect()] == [("ret/t", b"retained")]


def test_live_delivery_clears_retain_flag(raw, version):
    """v311[MQTT-3.3.1-9] v5[MQTT-3.3.1-12]: a retained message delivered to an
    established subscription carries RETAIN 0 (v5: Retain As Published 0)."""
    subscriber = raw(version, "ret-sub")
    subscriber.subscribe("ret/t", 1)
    raw(version, "ret-pub").publish("ret/t", b"live", qos=1, retain=True)
    packet = subscriber.receive_publish()
    assert (packet.payload, packet.retain) == (b"live", False)


def test_wildcard_subscription_gets_every_retained_topic(raw, version):
    """v311[MQTT-3.3.1-6] v5[MQTT-3.3.1-9]: the last retained message of each
    matching topic is sent."""
    publisher = raw(version, "ret-pub")
    for topic in ("house/a/temp", "house/b/temp", "house/b/hum", "garden/temp"):
        publisher.publish(topic, topic.encode(), qos=1, retain=True)
    subscriber = raw(version, "ret-sub")
    subscriber.subscribe("house/+/temp", 1)
    received = sorted((p.topic, p.retain) for p in subscriber.collect())
    assert received == [("house/a/temp", True), ("house/b/temp", True)]


def test_v5_retain_as_published_keeps_flag(raw):
    """v5[MQTT-3.3.1-13]: with Retain As Published 1 the forwarded RETAIN flag
    equals the published one."""
    subscriber = raw(V5, "rap-sub")
    subscriber.subscribe("rap/t", sub_options(qos=1, retain_as_published=True))
    publisher = raw(V5, "rap-pub")
    publisher.publish("rap/t", b"retained", qos=1, retain=True)
    publisher.publish("rap/t", b"plain", qos=1, retain=False)
    received = [(p.payload, p.retain) for p in subscriber.collect()]
    assert received == [(b"retained", True), (b"plain", False)]


@pytest.mark.parametrize("handling,first,again", [(0, 1, 1), (1, 1, 0), (2, 0, 0)])
def test_v5_retain_handling(raw, handling, first, again):
    """v5[MQTT-3.3.1-9] v5[MQTT-3.3.1-10] v5[MQTT-3.3.1-11] v5[MQTT-3.8.4-4]:
    Retain Handling 0 sends retained messages on every SUBSCRIBE, 1 only
    when the subscription is new, 2 never."""
    raw(V5, "rh-pub").publish("rh/t", b"retained", qos=1, retain=True)
    subscriber = raw(V5, "rh-sub")
    options = sub_options(qos=1, retain_handling=handling)
    subscriber.subscribe("rh/t", options)
    assert len(subscriber.collect(0.3)) == first
    subscriber.subscribe("rh/t", options)
    assert len(subscriber.collect(0.3)) == again


@pytest.mark.broker_config("retain_available false")
def test_v5_retain_not_available(raw):
    """v5[MQTT-3.2.2-13] v5[MQTT-3.2.2-7] v5[MQTT-3.2.2-6]: with retained
    messages switched off the CONNACK says Retain Available 0, a CONNECT
    whose will has Will Retain 1 is refused (CONNACK 0x9A, Session Present
    0, close), and a retained PUBLISH ends the connection with DISCONNECT
    0x9A (Retain not supported)."""
    client = raw(V5)
    assert client.connect("no-retain").prop(RETAIN_AVAILABLE) == 0
    client.send(publish_packet(V5, "nr/t", b"x", retain=True))
    assert [(p.type, p.reason_code) for p in client.wait_closed()] == [(DISCONNECT, 0x9A)]
    willing = raw(V5)
    willing.send(connect_packet(V5, "will-retainer",
                                will={"topic": "nr/will", "payload": b"p", "retain": True}))
    packets = willing.wait_closed()
    assert [(p.type, p.reason_code, p.session_present) for p in packets] == \
        [(CONNACK, 0x9A, False)]
