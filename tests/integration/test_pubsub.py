"""PUBLISH and SUBSCRIBE: the three QoS flows in both directions, QoS
downgrade, overlapping subscriptions, wildcards and $-topics, UNSUBSCRIBE,
ordering, and delivery between a 3.1.1 and a v5 client.

The flows are checked with raw sockets (packet ids, DUP, the exact ack
sequence), the round trips also with paho. Statement ids prefixed v311 or v5
apply to that version only.
"""

import pytest

from matrix import versions
from rawmqtt import (CONTENT_TYPE, MESSAGE_EXPIRY_INTERVAL, PUBACK, PUBCOMP, PUBLISH,
                     PUBREC, PUBREL, USER_PROPERTY, V311, V5, ack_packet, publish_packet)
from pahoclient import publish_properties


# v5 PUBACK/PUBREC: Success, or No matching subscribers.
SUCCESS_CODES = (0x00, 0x10)


def collect(client, quiet=0.4):
    return client.collect(quiet)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publisher_side_qos_flow(raw, version, qos):
    """[MQTT-3.3.4-1] v311[MQTT-2.3.1-6] v5[MQTT-2.2.1-5] v311[MQTT-4.3.2-2]
    v5[MQTT-4.3.2-4] v311[MQTT-4.3.3-2] v5[MQTT-4.3.3-8] v5[MQTT-4.3.3-11]
    v5[MQTT-3.4.2-1] v5[MQTT-3.5.2-1]: QoS 1 gets PUBACK, QoS 2 gets PUBREC
    then (after PUBREL) PUBCOMP, each with the PUBLISH's packet id (v5: reason
    0x00 or 0x10 "no matching subscribers", as nobody subscribed)."""
    publisher = raw(version, "pub-flow")
    pid = 4242
    publisher.send(publish_packet(version, "flow/t", b"data", qos=qos, pid=pid))
    if qos == 0:
        publisher.expect_nothing(0.3)
        return
    if qos == 1:
        puback = publisher.expect(PUBACK)
        assert puback.pid == pid and puback.reason_code in SUCCESS_CODES
        return
    pubrec = publisher.expect(PUBREC)
    assert pubrec.pid == pid and pubrec.reason_code in SUCCESS_CODES
    publisher.send(ack_packet(version, PUBREL, pid))
    pubcomp = publisher.expect(PUBCOMP)
    assert (pubcomp.pid, pubcomp.reason_code) == (pid, 0)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_subscriber_side_qos_flow(raw, version, qos):
    """[MQTT-3.3.1-2] [MQTT-4.3.1-1] v311[MQTT-4.3.2-1] v5[MQTT-4.3.2-2]
    v311[MQTT-4.3.3-1] v5[MQTT-4.3.3-2] v5[MQTT-2.2.1-4] v311[MQTT-2.3.1-5]
    v5[MQTT-2.2.1-2] [MQTT-3.3.2-3] v5[MQTT-4.3.3-4]: the server delivers
    with the granted QoS, DUP 0, a non-zero packet id only for QoS > 0, and
    for QoS 2 answers PUBREC with a PUBREL of the same id."""
    subscriber = raw(version, "sub-flow")
    assert subscriber.subscribe("flow/+", qos).reason_codes == [qos]
    raw(version, "pub-flow").publish("flow/t", b"data", qos=qos)
    packet = subscriber.expect(PUBLISH)
    assert (packet.topic, packet.payload, packet.qos, packet.dup) == ("flow/t", b"data", qos, False)
    if qos == 0:
        assert packet.pid is None
        return
    assert packet.pid != 0
    if qos == 1:
        subscriber.send(ack_packet(version, PUBACK, packet.pid))
    else:
        subscriber.send(ack_packet(version, PUBREC, packet.pid))
        assert subscriber.expect(PUBREL).pid == packet.pid
        subscriber.send(ack_packet(version, PUBCOMP, packet.pid))
    subscriber.expect_nothing(0.3)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_paho_round_trip(paho, version, qos):
    """[MQTT-3.3.4-1] v311[MQTT-4.5.0-1] v5[MQTT-4.5.0-1]: a paho client's
    message reaches a paho subscriber with its topic, payload and QoS."""
    subscriber = paho(version)
    subscriber.subscribe("paho/+/t", qos)
    publisher = paho(version)
    payload = bytes(range(256)) * 4
    publisher.publish("paho/x/t", payload, qos)
    message = subscriber.expect_message()
    assert (message.topic, message.payload, message.qos, message.retain) == \
        ("paho/x/t", payload, qos, False)


@pytest.mark.parametrize("sub_qos,pub_qos", [(0, 2), (1, 2), (0, 1), (2, 0), (2, 1)])
def test_delivery_qos_is_minimum_of_publish_and_subscription(raw, version, sub_qos, pub_qos):
    """v311[MQTT-3.8.4-6] v5[MQTT-3.8.4-8]: the QoS delivered is the minimum of
    the published QoS and the granted subscription QoS (never upgraded)."""
    subscriber = raw(version, "downgrade")
    assert subscriber.subscribe("dg/t", sub_qos).reason_codes == [sub_qos]
    raw(version, "dg-pub").publish("dg/t", b"m", qos=pub_qos)
    packet = subscriber.receive_publish()
    assert packet.qos == min(sub_qos, pub_qos)


@versions(v311="sends one copy at the QoS of one subscription, not the maximum")
def test_overlapping_subscriptions_respect_maximum_qos(raw, version):
    """v311[MQTT-3.3.5-1] v5[MQTT-3.3.4-2]: with overlapping subscriptions the
    message is delivered at least once, at the highest QoS of the matching
    subscriptions (extra copies are allowed)."""
    subscriber = raw(version, "overlap")
    subscriber.subscribe("ov/#", 0)
    subscriber.subscribe("ov/+", 2)
    subscriber.subscribe("ov/a", 1)
    raw(version, "ov-pub").publish("ov/a", b"m", qos=2)
    received = collect(subscriber)
    assert received, "no copy delivered"
    assert max(p.qos for p in received) == 2, received
    assert all(p.payload == b"m" for p in received)


WILDCARD_CASES = [
    ("sport/tennis/player1/#",
     ["sport/tennis/player1", "sport/tennis/player1/ranking",
      "sport/tennis/player1/score/wimbledon"],
     ["sport/tennis/player2", "sport/tennis"]),
    ("sport/#", ["sport", "sport/", "sport/a/b"], ["sports", "other/sport"]),
    ("#", ["a", "/", "a/b/c", "/leading"], []),
    ("sport/tennis/+", ["sport/tennis/player1", "sport/tennis/"],
     ["sport/tennis/player1/ranking", "sport/tennis"]),
    ("sport/+", ["sport/"], ["sport"]),
    ("+/+", ["/finance", "a/b"], ["a", "a/b/c"]),
    ("/+", ["/finance"], ["finance", "a/b"]),
    ("+", ["finance"], ["/finance", "a/b"]),
    ("+/tennis/#", ["sport/tennis", "sport/tennis/x/y", "/tennis"], ["sport/golf/tennis"]),
    ("a/b", ["a/b"], ["a//b", "A/b", "a/b/", "/a/b", "a/b "]),
]


@pytest.mark.parametrize("topic_filter,matching,not_matching", WILDCARD_CASES,
                         ids=[case[0] for case in WILDCARD_CASES])
def test_topic_filter_matching(raw, version, topic_filter, matching, not_matching):
    """v311[MQTT-4.7.1-2] v5[MQTT-4.7.1-1] v311[MQTT-4.7.1-3] v5[MQTT-4.7.1-2]
    [MQTT-4.7.3-4] [MQTT-3.3.2-3]: '#' matches the parent level and every
    level below, '+' exactly one level (empty levels count), and there is no
    normalisation or case folding."""
    subscriber = raw(version, "matcher")
    assert subscriber.subscribe(topic_filter, 1).reason_codes == [1]
    publisher = raw(version, "matcher-pub")
    for topic in not_matching + matching:
        publisher.publish(topic, topic.encode(), qos=1)
    received = sorted(p.topic for p in collect(subscriber))
    assert received == sorted(matching)


def test_dollar_topics_not_matched_by_leading_wildcards(raw, version):
    """[MQTT-4.7.2-1]: filters starting with # or + do not match topics that
    begin with $, while a filter starting with the $ level does."""
    wildcard = raw(version, "dollar-wild")
    wildcard.subscribe_many([("#", 1), ("+/monitor/Clients", 1), ("+", 1)])
    explicit = raw(version, "dollar-explicit")
    explicit.subscribe("$test/#", 1)
    raw(version, "dollar-pub").publish("$test/monitor/Clients", b"x", qos=1)
    assert [p.topic for p in collect(explicit)] == ["$test/monitor/Clients"]
    assert collect(wildcard, quiet=0.2) == []


def test_suback_has_one_code_per_filter_in_order(raw, version):
    """[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-3.9.3-1] v311[MQTT-3.8.4-4]
    v311[MQTT-3.8.4-5] v5[MQTT-3.8.4-5] v5[MQTT-3.8.4-6] v5[MQTT-3.8.4-7]:
    v311[MQTT-3.9.3-2] v5[MQTT-2.2.2-1]: one SUBACK with the same packet id
    and a granted QoS per filter, in the order of the filters (v5: with its
    property length, parsed strictly here)."""
    client = raw(version, "multi-sub")
    suback = client.subscribe_many([("m/2", 2), ("m/0", 0), ("m/1", 1)])
    assert suback.reason_codes == [2, 0, 1]


def test_resubscribe_replaces_subscription(raw, version):
    """v311[MQTT-3.8.4-3] v5[MQTT-3.8.4-3]: subscribing to an identical filter
    replaces the subscription: one copy, at the new QoS."""
    client = raw(version, "resub")
    client.subscribe("re/t", 2)
    client.subscribe("re/t", 0)
    raw(version, "re-pub").publish("re/t", b"m", qos=2)
    received = collect(client)
    assert [(p.payload, p.qos) for p in received] == [(b"m", 0)]


def test_unsubscribe_stops_delivery(raw, version):
    """v311[MQTT-3.10.4-4] v5[MQTT-3.10.4-4] v5[MQTT-3.10.4-5] [MQTT-3.10.4-2]
    v5[MQTT-2.2.1-6] v311[MQTT-2.3.1-7] v311[MQTT-4.1.0-2] v5[MQTT-4.1.0-1]: the
    subscription lasts while the connection does; UNSUBACK carries the UNSUBSCRIBE's
    packet id and no further messages are delivered for the filter."""
    subscriber = raw(version, "unsub")
    subscriber.subscribe("un/+", 1)
    publisher = raw(version, "unsub-pub")
    publisher.publish("un/a", b"before", qos=1)
    assert subscriber.receive_publish().payload == b"before"
    unsuback = subscriber.unsubscribe(["un/+"])
    if version == V5:
        assert unsuback.reason_codes == [0x00]
    publisher.publish("un/a", b"after", qos=1)
    assert collect(subscriber, quiet=0.3) == []


def test_unsubscribe_compares_filters_literally(raw, version):
    """[MQTT-3.10.4-1] v311[MQTT-3.10.4-5] v5[MQTT-3.10.4-5] [MQTT-3.10.4-6]
    v5[MQTT-3.11.3-1]: UNSUBSCRIBE "lit/a" does not remove "lit/+", an
    unknown filter still gets an UNSUBACK, and several filters get one
    UNSUBACK (v5: a reason code per filter, in order)."""
    subscriber = raw(version, "literal")
    subscriber.subscribe_many([("lit/+", 1), ("lit/b", 1)])
    unsuback = subscriber.unsubscribe(["lit/a", "lit/b", "never/subscribed"])
    if version == V5:
        assert unsuback.reason_codes == [0x11, 0x00, 0x11]
    raw(version, "literal-pub").publish("lit/a", b"still", qos=1)
    assert [p.payload for p in collect(subscriber)] == [b"still"]


def test_messages_on_a_topic_arrive_in_order(raw, version):
    """v311[MQTT-4.6.0-5] v311[MQTT-4.6.0-6] v5[MQTT-4.6.0-5] v5[MQTT-4.6.0-6]:
    messages from one publisher on one topic arrive in the order published."""
    subscriber = raw(version, "order")
    subscriber.subscribe("order/t", 1)
    publisher = raw(version, "order-pub")
    for index in range(30):
        publisher.publish("order/t", str(index).encode(), qos=1)
    assert [p.payload for p in collect(subscriber)] == [str(i).encode() for i in range(30)]


def test_v5_publish_with_properties_reaches_v311_subscriber_plain(raw):
    """v5 -> 3.1.1: a v5 PUBLISH with user properties, content type and
    expiry reaches a 3.1.1 subscriber as a plain 3.1.1 PUBLISH: same topic,
    same payload bytes, no property block."""
    subscriber = raw(V311, "old-sub")
    subscriber.subscribe("cross/t", 1)
    props = [(USER_PROPERTY, ("k", "v")), (CONTENT_TYPE, "text/plain"),
             (MESSAGE_EXPIRY_INTERVAL, 60)]
    raw(V5, "new-pub").publish("cross/t", b"payload", qos=1, props=props)
    packet = subscriber.receive_publish()
    assert (packet.topic, packet.payload, packet.qos) == ("cross/t", b"payload", 1)


def test_v311_publish_reaches_v5_subscriber(raw):
    """3.1.1 -> v5: a 3.1.1 message reaches a v5 subscriber with its payload
    and without invented properties."""
    subscriber = raw(V5, "new-sub")
    subscriber.subscribe("cross/t", 2)
    raw(V311, "old-pub").publish("cross/t", b"from 3.1.1", qos=2)
    packet = subscriber.receive_publish()
    assert (packet.topic, packet.payload, packet.qos) == ("cross/t", b"from 3.1.1", 2)
    assert packet.props(USER_PROPERTY) == []
    assert packet.prop(CONTENT_TYPE) is None


def test_paho_v5_user_properties_to_paho_v311(paho):
    """The same cross-version delivery through paho on both sides."""
    subscriber = paho(V311)
    subscriber.subscribe("cross/paho", 1)
    paho(V5).publish("cross/paho", b"hi", 1,
                     properties=publish_properties(UserProperty=[("a", "1"), ("b", "2")]))
    message = subscriber.expect_message()
    assert (message.topic, message.payload) == ("cross/paho", b"hi")


def test_byte_order_mark_in_topic_is_kept(raw, version):
    """v311[MQTT-1.5.3-3] v5[MQTT-1.5.4-3] [MQTT-4.7.3-4]: U+FEFF at the start
    of a topic is part of the name: it is neither stripped nor skipped."""
    with_bom = raw(version, "bom-sub")
    with_bom.subscribe("\ufeffbom/t", 1)
    without_bom = raw(version, "plain-sub")
    without_bom.subscribe("bom/t", 1)
    raw(version, "bom-pub").publish("\ufeffbom/t", b"x", qos=1)
    assert [p.topic for p in with_bom.collect()] == ["\ufeffbom/t"]
    assert without_bom.collect(0.2) == []


def test_incoming_dup_flag_is_not_propagated(raw, version):
    """v311[MQTT-3.3.1-3] v5[MQTT-3.3.1-3]: the DUP flag sent to subscribers
    says whether the server is retransmitting, not what the publisher set."""
    subscriber = raw(version, "dup-sub")
    subscriber.subscribe("dupin/t", 1)
    publisher = raw(version, "dup-pub")
    publisher.send(publish_packet(version, "dupin/t", b"x", qos=1, pid=5, dup=True))
    assert publisher.expect(PUBACK).pid == 5
    packet = subscriber.receive_publish()
    assert (packet.payload, packet.dup) == (b"x", False)


@pytest.mark.parametrize("qos", [1, 2])
def test_unsubscribe_completes_inflight_delivery(raw, version, qos):
    """v311[MQTT-3.10.4-3] v5[MQTT-3.10.4-3]: a QoS 1/2 delivery already started
    is completed after UNSUBSCRIBE (QoS 2: PUBREC still gets its PUBREL)."""
    subscriber = raw(version, "unsub-inflight")
    subscriber.subscribe("inflight/t", qos)
    raw(version, "inflight-pub").publish("inflight/t", b"x", qos=qos)
    publish = subscriber.expect(PUBLISH)
    subscriber.unsubscribe(["inflight/t"])
    subscriber.ack(publish)
    subscriber.expect_nothing(0.3)


@pytest.mark.parametrize("qos", [1, 2])
def test_packet_id_reused_after_ack_is_new_message(raw, version, qos):
    """v5[MQTT-4.3.2-5] v5[MQTT-4.3.3-12]: once the server has sent PUBACK (or
    PUBCOMP), a PUBLISH with the same packet id is a new message, DUP or not."""
    subscriber = raw(version, "reuse-sub")
    subscriber.subscribe("reuse/t", 2)
    publisher = raw(version, "reuse-pub")
    publisher.publish("reuse/t", b"first", qos=qos, pid=11)
    publisher.publish("reuse/t", b"second", qos=qos, pid=11, dup=True)
    assert [p.payload for p in subscriber.collect()] == [b"first", b"second"]


def test_ack_reason_codes_are_valid(raw):
    """v5[MQTT-3.9.3-2] v5[MQTT-3.11.3-2] v5[MQTT-3.6.2-1] v5[MQTT-3.7.2-1]
    v5[MQTT-3.4.2-1] v5[MQTT-3.5.2-1] v311[MQTT-3.9.3-2]: SUBACK, UNSUBACK,
    PUBACK, PUBREC, PUBREL and PUBCOMP from the server use only their
    packet's reason codes."""
    client = raw(V5, "codes")
    suback = client.subscribe_many([("codes/a", 0), ("codes/b", 1), ("codes/c", 2)])
    assert suback.reason_codes == [0, 1, 2]
    puback = client.publish("nobody/here", b"x", qos=1)
    assert puback.reason_code in (0x00, 0x10)
    pubcomp = client.publish("nobody/here", b"x", qos=2)
    assert pubcomp.reason_code in (0x00, 0x92)
    client.publish("codes/c", b"y", qos=2)
    publish = client.expect(PUBLISH)
    client.send(ack_packet(V5, PUBREC, publish.pid))
    assert client.expect(PUBREL).reason_code in (0x00, 0x92)
    client.send(ack_packet(V5, PUBCOMP, publish.pid))
    unsuback = client.unsubscribe(["codes/a", "codes/zzz"])
    assert unsuback.reason_codes == [0x00, 0x11]
