"""MQTT 5 features: property pass-through (user properties, payload format,
content type, response topic, correlation data), message expiry, topic
aliases, Receive Maximum, Maximum Packet Size, shared subscriptions,
subscription identifiers and No Local.

All statement ids here are from the v5 specification.
"""

import time

import pytest

from rawmqtt import (CONTENT_TYPE, CORRELATION_DATA, DISCONNECT, MAXIMUM_PACKET_SIZE,
                     MESSAGE_EXPIRY_INTERVAL, PAYLOAD_FORMAT_INDICATOR, PINGRESP, PUBACK, PUBLISH,
                     PUBCOMP, PUBREC, PUBREL, REASON_STRING, RECEIVE_MAXIMUM,
                     REQUEST_PROBLEM_INFORMATION, RESPONSE_TOPIC,
                     SESSION_EXPIRY_INTERVAL, SUBSCRIPTION_IDENTIFIER, TOPIC_ALIAS,
                     TOPIC_ALIAS_MAXIMUM, USER_PROPERTY, V5, ack_packet, pingreq_packet,
                     publish_packet, sub_options, subscribe_packet)


def v5(raw, client_id, **kwargs):
    return raw(V5, client_id, **kwargs)


def test_user_properties_forwarded_unaltered_in_order(raw):
    """v5[MQTT-3.3.2-17] v5[MQTT-3.3.2-18]: user properties, repeated names
    included, reach the subscriber unaltered and in order."""
    subscriber = v5(raw, "up-sub")
    subscriber.subscribe("up/t", 1)
    pairs = [("b", "2"), ("a", "1"), ("b", "3"), ("ümlaut", "ß ✓"), ("empty", "")]
    v5(raw, "up-pub").publish("up/t", b"x", qos=1, props=[(USER_PROPERTY, p) for p in pairs])
    assert subscriber.receive_publish().props(USER_PROPERTY) == pairs


def test_acks_with_reason_string_and_user_properties_are_accepted(raw):
    """v5[MQTT-3.4.2-1] v5[MQTT-3.14.2-1]: a client's PUBACK and DISCONNECT may
    carry a Reason String and User Properties; the server takes them and
    carries on (and a DISCONNECT 0x00 with properties still discards the
    will)."""
    subscriber = v5(raw, "rs-sub")
    subscriber.subscribe("rs/t", 1)
    v5(raw, "rs-pub").publish("rs/t", b"x", qos=1)
    packet = subscriber.expect(PUBLISH)
    subscriber.send(ack_packet(V5, PUBACK, packet.pid, 0x00,
                               [(REASON_STRING, "fine"), (USER_PROPERTY, ("k", "v"))]))
    assert subscriber.is_open()
    subscriber.disconnect(0x00, [(REASON_STRING, "bye"), (USER_PROPERTY, ("k", "v"))])


def test_request_problem_information_zero_suppresses_reason_strings(raw):
    """v5[MQTT-3.1.2-29]: with Request Problem Information 0 the server sends
    no Reason String or User Property on a PUBACK."""
    publisher = v5(raw, "quiet", props=[(REQUEST_PROBLEM_INFORMATION, 0)])
    puback = publisher.publish("nobody/listens", b"x", qos=1)
    assert puback.prop(REASON_STRING) is None
    assert puback.props(USER_PROPERTY) == []


def test_format_content_type_response_topic_correlation_data_pass_through(raw):
    """v5[MQTT-3.3.2-4] v5[MQTT-3.3.2-15] v5[MQTT-3.3.2-16] v5[MQTT-3.3.2-20]:
    Payload Format Indicator, Content Type, Response Topic and Correlation
    Data reach the subscriber unaltered."""
    subscriber = v5(raw, "pt-sub")
    subscriber.subscribe("req/t", 1)
    props = [(PAYLOAD_FORMAT_INDICATOR, 1), (CONTENT_TYPE, "application/json; charset=utf-8"),
             (RESPONSE_TOPIC, "resp/client-7"), (CORRELATION_DATA, b"\x00\x01\xfe\xff")]
    v5(raw, "pt-pub").publish("req/t", b'{"ok": true}', qos=1, props=props)
    packet = subscriber.receive_publish()
    for prop_id, value in props:
        assert packet.prop(prop_id) == value, prop_id


def test_request_response_round_trip(raw):
    """v5[MQTT-3.3.2-15] v5[MQTT-3.3.2-16]: a responder answers on the
    Response Topic with the Correlation Data, and the requester gets it."""
    requester = v5(raw, "requester")
    requester.subscribe("resp/requester", 1)
    responder = v5(raw, "responder")
    responder.subscribe("service/echo", 1)
    requester.publish("service/echo", b"ping", qos=1,
                      props=[(RESPONSE_TOPIC, "resp/requester"), (CORRELATION_DATA, b"id-42")])
    request = responder.receive_publish()
    responder.publish(request.prop(RESPONSE_TOPIC), b"pong", qos=1,
                      props=[(CORRELATION_DATA, request.prop(CORRELATION_DATA))])
    response = requester.receive_publish()
    assert (response.payload, response.prop(CORRELATION_DATA)) == (b"pong", b"id-42")


def test_expired_message_not_delivered(raw):
    """v5[MQTT-3.3.2-5]: a queued message whose Message Expiry Interval has
    passed before delivery started is not delivered."""
    session = [(SESSION_EXPIRY_INTERVAL, 300)]
    client = v5(raw, "away", clean=False, props=session)
    client.subscribe("exp/t", 1)
    client.disconnect()
    publisher = v5(raw, "exp-pub")
    publisher.publish("exp/t", b"short-lived", qos=1, props=[(MESSAGE_EXPIRY_INTERVAL, 1)])
    publisher.publish("exp/t", b"long-lived", qos=1, props=[(MESSAGE_EXPIRY_INTERVAL, 100)])
    time.sleep(2.2)
    resumed = v5(raw, "away", clean=False, props=session)
    assert [p.payload for p in resumed.collect()] == [b"long-lived"]


def test_message_expiry_counts_down_while_queued(raw):
    """v5[MQTT-3.3.2-6]: the forwarded Message Expiry Interval is the
    received value minus the time the message waited in the server."""
    session = [(SESSION_EXPIRY_INTERVAL, 300)]
    client = v5(raw, "away", clean=False, props=session)
    client.subscribe("exp/t", 1)
    client.disconnect()
    v5(raw, "exp-pub").publish("exp/t", b"m", qos=1, props=[(MESSAGE_EXPIRY_INTERVAL, 20)])
    time.sleep(2.2)
    resumed = v5(raw, "away", clean=False, props=session)
    remaining = resumed.receive_publish().prop(MESSAGE_EXPIRY_INTERVAL)
    assert remaining is not None and 14 <= remaining <= 18, remaining


def test_expired_retained_message_not_sent(raw):
    """v5[MQTT-3.3.2-5]: a retained message is not sent to new subscribers
    after its expiry interval."""
    v5(raw, "exp-pub").publish("exp/retained", b"old", qos=1, retain=True,
                               props=[(MESSAGE_EXPIRY_INTERVAL, 1)])
    time.sleep(2.2)
    subscriber = v5(raw, "exp-sub")
    subscriber.subscribe("exp/retained", 1)
    assert subscriber.collect(0.3) == []


def test_inbound_topic_alias(raw):
    """v5[MQTT-3.3.2-12] v5[MQTT-3.3.2-7]: the server accepts a topic alias up
    to its Topic Alias Maximum: the first PUBLISH sets it, later ones with an
    empty topic name use it; subscribers get the full topic."""
    subscriber = v5(raw, "alias-sub")
    subscriber.subscribe("alias/#", 1)
    publisher = raw(V5)
    connack = publisher.connect("alias-pub")
    maximum = connack.prop(TOPIC_ALIAS_MAXIMUM, 0)
    if maximum == 0:
        pytest.skip("the server offers no topic aliases")
    publisher.publish("alias/long/topic/name", b"first", qos=1, props=[(TOPIC_ALIAS, maximum)])
    publisher.publish("", b"second", qos=1, props=[(TOPIC_ALIAS, maximum)])
    received = [(p.topic, p.payload) for p in subscriber.collect()]
    assert received == [("alias/long/topic/name", b"first"), ("alias/long/topic/name", b"second")]


def test_topic_alias_not_carried_to_next_connection(raw):
    """v5[MQTT-3.3.2-7] v5[MQTT-4.13.1-1]: an alias set on one connection is
    unknown on the next; using it there is a protocol error that closes the
    connection (DISCONNECT 0x82 or 0x94 if a reason is sent)."""
    first = v5(raw, "alias-pub")
    first.publish("alias/t", b"x", qos=1, props=[(TOPIC_ALIAS, 1)])
    first.disconnect()
    second = v5(raw, "alias-pub")
    second.send(publish_packet(V5, "", b"y", qos=1, pid=1, props=[(TOPIC_ALIAS, 1)]))
    packets = second.wait_closed()
    assert all(p.type == DISCONNECT and p.reason_code in (0x82, 0x94) for p in packets), packets


def test_topic_alias_above_maximum_closes(raw):
    """v5[MQTT-3.2.2-17] v5[MQTT-3.3.2-9] v5[MQTT-4.13.1-1]: a topic alias
    above the server's Topic Alias Maximum is refused with DISCONNECT 0x94
    (Topic Alias invalid) and a close."""
    client = raw(V5)
    maximum = client.connect("alias-big").prop(TOPIC_ALIAS_MAXIMUM, 0)
    client.send(publish_packet(V5, "alias/t", b"x", qos=0, props=[(TOPIC_ALIAS, maximum + 1)]))
    packets = client.wait_closed()
    assert [(p.type, p.reason_code) for p in packets] == [(DISCONNECT, 0x94)]


def test_server_sends_no_topic_alias_to_client_without_maximum(raw):
    """v5[MQTT-3.1.2-27] v5[MQTT-3.3.2-11]: a client that set no Topic Alias
    Maximum never gets a Topic Alias."""
    subscriber = v5(raw, "no-alias")
    subscriber.subscribe("na/t", 1)
    publisher = v5(raw, "na-pub")
    for _ in range(3):
        publisher.publish("na/t", b"x", qos=1)
    assert all(p.prop(TOPIC_ALIAS) is None and p.topic == "na/t" for p in subscriber.collect())


def narrow_subscriber_with_backlog(raw, count=6):
    """A v5 subscriber with Receive Maximum 2 and `count` QoS 1/2 messages
    published for it (delivered at QoS 1)."""
    subscriber = v5(raw, "narrow", props=[(RECEIVE_MAXIMUM, 2)])
    subscriber.subscribe("rm/t", 1)
    publisher = v5(raw, "rm-pub")
    for index in range(count):
        publisher.publish("rm/t", f"m{index}".encode(), qos=1 + index % 2)
    return subscriber


def test_receive_maximum_limits_initial_window(raw):
    """v5[MQTT-3.3.4-9] v5[MQTT-4.9.0-1] v5[MQTT-4.9.0-2] v5[MQTT-3.3.4-10]
    v5[MQTT-4.9.0-3]: with Receive Maximum 2 the server sends 2 QoS > 0
    PUBLISH and then waits for acknowledgements; other packets (PINGRESP)
    are not held back."""
    subscriber = narrow_subscriber_with_backlog(raw)
    in_flight = [subscriber.expect(PUBLISH), subscriber.expect(PUBLISH)]
    subscriber.send(pingreq_packet())
    assert subscriber.recv().type == PINGRESP
    subscriber.expect_nothing(0.5)
    assert [p.payload for p in in_flight] == [b"m0", b"m1"]


@pytest.mark.stellwerk_only(
    reason="after the first PUBACK it sends two more PUBLISH: 3 in flight with Receive Maximum 2")
def test_receive_maximum_holds_as_acks_arrive(raw):
    """v5[MQTT-3.3.4-9] v5[MQTT-4.9.0-2]: each acknowledgement releases exactly
    one more PUBLISH; never more than Receive Maximum are unacknowledged,
    and the order is kept."""
    subscriber = narrow_subscriber_with_backlog(raw)
    in_flight = [subscriber.expect(PUBLISH), subscriber.expect(PUBLISH)]
    received = list(in_flight)
    while len(received) < 6:
        subscriber.ack(in_flight.pop(0))
        in_flight.append(subscriber.expect(PUBLISH))
        received.append(in_flight[-1])
        subscriber.expect_nothing(0.3)
    assert [p.payload for p in received] == [f"m{i}".encode() for i in range(6)]
    for packet in in_flight:
        subscriber.ack(packet)


@pytest.mark.broker_config("max_inflight_messages 0")
def test_receive_maximum_holds_with_unlimited_server_inflight(raw):
    """v5[MQTT-3.3.4-9]: the client's Receive Maximum binds even when the
    server's own in-flight limit is off."""
    subscriber = v5(raw, "narrow", props=[(RECEIVE_MAXIMUM, 1)])
    subscriber.subscribe("rm/t", 1)
    publisher = v5(raw, "rm-pub")
    for index in range(3):
        publisher.publish("rm/t", f"m{index}".encode(), qos=1)
    first = subscriber.expect(PUBLISH)
    subscriber.expect_nothing(0.5)
    assert first.payload == b"m0"


def test_maximum_packet_size_respected(raw):
    """v5[MQTT-3.1.2-24] v5[MQTT-3.1.2-25]: the server never sends a client a
    packet larger than its Maximum Packet Size: a too-large message is
    dropped for that client (as if sent), the next ones still arrive."""
    small = v5(raw, "small", props=[(MAXIMUM_PACKET_SIZE, 100)])
    small.subscribe("mps/t", 1)
    big = v5(raw, "big")
    big.subscribe("mps/t", 1)
    publisher = v5(raw, "mps-pub")
    publisher.publish("mps/t", b"a" * 10, qos=1)
    publisher.publish("mps/t", b"b" * 200, qos=1)
    publisher.publish("mps/t", b"c" * 10, qos=1)
    received = small.collect()
    assert [p.payload for p in received] == [b"a" * 10, b"c" * 10]
    assert all(p.size <= 100 for p in received)
    assert [len(p.payload) for p in big.collect()] == [10, 200, 10]


def test_shared_subscription_delivers_each_message_to_one_member(raw):
    """v5[MQTT-4.8.2-1] v5[MQTT-4.8.2-2] v5[MQTT-4.8.2-3]: messages to a
    shared subscription go to exactly one member of the group each, with
    the granted QoS; a plain subscriber gets every message."""
    members = [v5(raw, f"member-{i}") for i in range(3)]
    for member in members:
        assert member.subscribe("$share/workers/jobs/+", 1).reason_codes == [1]
    plain = v5(raw, "plain")
    plain.subscribe("jobs/+", 1)
    publisher = v5(raw, "jobs-pub")
    sent = [f"job-{i}".encode() for i in range(30)]
    for payload in sent:
        publisher.publish("jobs/new", payload, qos=1)
    delivered = [packet for member in members for packet in member.collect()]
    assert sorted(p.payload for p in delivered) == sorted(sent)
    assert all(p.qos == 1 for p in delivered)
    assert sorted(p.payload for p in plain.collect()) == sorted(sent)


def test_two_share_groups_each_get_every_message(raw):
    """v5[MQTT-4.8.2-1]: each share group gets its own copy of each message."""
    group_a = [v5(raw, f"a-{i}") for i in range(2)]
    group_b = [v5(raw, "b-0")]
    for member in group_a:
        member.subscribe("$share/a/work", 0)
    group_b[0].subscribe("$share/b/work", 0)
    publisher = v5(raw, "work-pub")
    for index in range(10):
        publisher.publish("work", str(index).encode(), qos=1)
    count_a = sum(len(m.collect()) for m in group_a)
    assert count_a == 10
    assert len(group_b[0].collect()) == 10


def shared_group_with_one_delivery(raw, group, topic, expiry):
    """Two members with persistent sessions in one share group, a QoS 1
    message published to them, and the member that got it (unacknowledged)."""
    session = [(SESSION_EXPIRY_INTERVAL, expiry)]
    members = {}
    for name in (f"{group}-1", f"{group}-2"):
        members[name] = v5(raw, name, clean=False, props=session)
        members[name].subscribe(f"$share/{group}/{topic}", 1)
    v5(raw, f"{group}-pub").publish(topic, b"job", qos=1)
    for name, member in members.items():
        try:
            member.expect(PUBLISH, timeout=0.5)
        except TimeoutError:
            continue
        other = [m for n, m in members.items() if n != name][0]
        return name, member, other, session
    raise AssertionError("no member got the message")


def test_shared_delivery_completed_on_reconnect(raw):
    """v5[MQTT-4.8.2-4]: a shared-subscription message that was sent but not
    acknowledged goes to the same client when it reconnects, not to another
    member."""
    name, member, other, session = shared_group_with_one_delivery(raw, "ga", "sr/t", 300)
    member.close()
    assert other.collect(0.5) == []
    resumed = raw(V5)
    assert resumed.connect(name, clean=False, props=session).session_present
    again = resumed.receive_publish()
    assert (again.payload, again.dup) == (b"job", True)


def test_shared_delivery_dropped_when_session_ends(raw):
    """v5[MQTT-4.8.2-5]: if that client's session ends before it comes back,
    the message is not sent to any other member."""
    _, member, other, _ = shared_group_with_one_delivery(raw, "gb", "se/t", 1)
    member.close()
    time.sleep(2.2)
    assert other.collect(0.5) == []


@pytest.mark.stellwerk_only(reason="accepts No Local on a shared subscription")
def test_no_local_on_shared_subscription_is_protocol_error(raw):
    """v5[MQTT-3.8.3-4]: No Local on a shared subscription is a Protocol
    Error: DISCONNECT 0x82 and close (or a close without DISCONNECT)."""
    client = v5(raw, "bad-share")
    client.send(subscribe_packet(V5, 1, [("$share/g/t", sub_options(qos=1, no_local=True))]))
    packets = client.wait_closed()
    assert all(p.type == DISCONNECT and p.reason_code == 0x82 for p in packets), packets


def test_subscription_identifier_sent_with_message(raw):
    """v5[MQTT-3.3.4-3]: a message matching a subscription made with a
    Subscription Identifier carries that identifier."""
    subscriber = v5(raw, "sid")
    subscriber.subscribe("sid/+", 1, props=[(SUBSCRIPTION_IDENTIFIER, 268435455)])
    subscriber.subscribe("other/+", 1)
    publisher = v5(raw, "sid-pub")
    publisher.publish("sid/a", b"x", qos=1)
    publisher.publish("other/a", b"y", qos=1)
    received = {p.topic: p.props(SUBSCRIPTION_IDENTIFIER) for p in subscriber.collect()}
    assert received == {"sid/a": [268435455], "other/a": []}


def test_subscription_identifiers_of_overlapping_subscriptions(raw):
    """v5[MQTT-3.3.4-3] v5[MQTT-3.3.4-4] v5[MQTT-3.3.4-5]: with overlapping
    subscriptions every matching Subscription Identifier is sent, either all
    in one copy or each in its own copy."""
    subscriber = v5(raw, "sids")
    subscriber.subscribe("ov/#", 1, props=[(SUBSCRIPTION_IDENTIFIER, 1)])
    subscriber.subscribe("ov/+", 1, props=[(SUBSCRIPTION_IDENTIFIER, 2)])
    v5(raw, "sids-pub").publish("ov/a", b"x", qos=1)
    copies = [sorted(p.props(SUBSCRIPTION_IDENTIFIER)) for p in subscriber.collect()]
    assert copies in ([[1, 2]], [[1], [2]], [[2], [1]]), copies


def test_no_local(raw):
    """v5[MQTT-3.8.3-3]: with No Local a client does not get its own messages,
    but still gets other clients' messages on the topic."""
    client = v5(raw, "self-talker")
    client.subscribe("nl/t", sub_options(qos=1, no_local=True))
    client.publish("nl/t", b"mine", qos=1)
    v5(raw, "other").publish("nl/t", b"theirs", qos=1)
    assert [p.payload for p in client.collect()] == [b"theirs"]


def test_small_maximum_packet_size_bounds_every_reply(raw):
    """v5[MQTT-3.1.2-24] v5[MQTT-3.2.2-19] v5[MQTT-3.2.2-20] v5[MQTT-3.4.2-2]
    v5[MQTT-3.4.2-3] v5[MQTT-3.5.2-2] v5[MQTT-3.5.2-3] v5[MQTT-3.6.2-2]
    v5[MQTT-3.6.2-3] v5[MQTT-3.7.2-2] v5[MQTT-3.7.2-3] v5[MQTT-3.9.2-1]
    v5[MQTT-3.9.2-2] v5[MQTT-3.11.2-1] v5[MQTT-3.11.2-2]: with Maximum Packet
    Size 40, CONNACK, SUBACK, UNSUBACK, PUBACK, PUBREC, PUBREL and PUBCOMP
    all fit: Reason Strings and User Properties are left out when they
    would not."""
    client = raw(V5)
    connack = client.connect("tiny", props=[(MAXIMUM_PACKET_SIZE, 40),
                                            (REQUEST_PROBLEM_INFORMATION, 1)])
    replies = [connack]
    replies.append(client.subscribe_many([(f"tiny/{i}", 2) for i in range(8)]))
    replies.append(client.publish("nobody/listens", b"x", qos=1))
    replies.append(client.publish("nobody/listens", b"x", qos=2))
    client.publish("tiny/1", b"y", qos=2)
    publish = client.expect(PUBLISH)
    client.send(ack_packet(V5, PUBREC, publish.pid))
    replies.append(client.expect(PUBREL))
    client.send(ack_packet(V5, PUBCOMP, publish.pid))
    replies.append(client.unsubscribe(["tiny/1", "never/there"]))
    assert all(p.size <= 40 for p in [publish] + replies), [(p.name, p.size) for p in replies]


def test_server_topic_aliases_stay_within_client_maximum(raw):
    """v5[MQTT-3.1.2-26] v5[MQTT-3.3.2-11]: aliases the server uses towards a
    client never exceed the client's Topic Alias Maximum (2 here), and an
    aliased PUBLISH without a topic name only uses an alias set before."""
    subscriber = v5(raw, "few-aliases", props=[(TOPIC_ALIAS_MAXIMUM, 2)])
    subscriber.subscribe("ta/#", 0)
    publisher = v5(raw, "ta-pub")
    for round_number in range(3):
        for topic in ("ta/one", "ta/two", "ta/three", "ta/four"):
            publisher.publish(topic, f"{round_number}".encode(), qos=1)
    known = {}
    for packet in subscriber.collect():
        alias = packet.prop(TOPIC_ALIAS)
        if alias is None:
            assert packet.topic
            continue
        assert 1 <= alias <= 2, packet
        if packet.topic:
            known[alias] = packet.topic
        else:
            assert alias in known, packet


def test_puback_error_code_stops_retransmission(raw):
    """v5[MQTT-4.4.0-2]: a PUBLISH the client answered with PUBACK >= 0x80 is
    acknowledged: it is not sent again when the session resumes."""
    session = [(SESSION_EXPIRY_INTERVAL, 300)]
    client = v5(raw, "refuser", clean=False, props=session)
    client.subscribe("refuse/t", 1)
    v5(raw, "refuse-pub").publish("refuse/t", b"unwanted", qos=1)
    publish = client.expect(PUBLISH)
    client.send(ack_packet(V5, PUBACK, publish.pid, 0x80))
    assert client.is_open()
    client.close()
    resumed = raw(V5)
    assert resumed.connect("refuser", clean=False, props=session).session_present
    assert resumed.collect(0.5) == []


def test_shared_subscription_error_ack_not_redelivered_to_others(raw):
    """v5[MQTT-4.8.2-6]: when a group member answers PUBACK >= 0x80, the server
    discards the message and does not offer it to another member."""
    members = [v5(raw, f"sh-{i}") for i in range(2)]
    for member in members:
        member.subscribe("$share/g/refuse/t", 1)
    v5(raw, "sh-pub").publish("refuse/t", b"once", qos=1)
    deliveries = []
    for member in members:
        try:
            deliveries.append((member, member.expect(PUBLISH, timeout=0.5)))
        except TimeoutError:
            continue
    assert len(deliveries) == 1, deliveries
    refusing, publish = deliveries[0]
    refusing.send(ack_packet(V5, PUBACK, publish.pid, 0x80))
    for member in members:
        assert member.collect(0.5) == []


def test_qos2_flow_completes_after_message_expiry(raw):
    """v5[MQTT-4.3.3-13]: as receiver the server completes a QoS 2 exchange
    (PUBREL -> PUBCOMP) even if the message's expiry has passed meanwhile."""
    publisher = v5(raw, "slow-pub")
    publisher.send(publish_packet(V5, "exp/q2", b"x", qos=2, pid=3,
                                  props=[(MESSAGE_EXPIRY_INTERVAL, 1)]))
    assert publisher.expect(PUBREC).pid == 3
    time.sleep(1.5)
    publisher.send(ack_packet(V5, PUBREL, 3))
    assert publisher.expect(PUBCOMP).pid == 3


@pytest.mark.stellwerk_only(reason="drops an in-flight QoS 2 PUBLISH whose expiry passes while the "
                                   "subscriber is away")
def test_inflight_qos2_not_expired_once_sent(raw):
    """v5[MQTT-4.3.3-7] [MQTT-4.4.0-1]: a QoS 2 PUBLISH the server has sent is
    not dropped by message expiry: after a reconnect past its expiry it is
    sent again (DUP) until the exchange completes."""
    session = [(SESSION_EXPIRY_INTERVAL, 300)]
    client = v5(raw, "slow-sub", clean=False, props=session)
    client.subscribe("exp/q2", 2)
    v5(raw, "exp-pub").publish("exp/q2", b"x", qos=2, props=[(MESSAGE_EXPIRY_INTERVAL, 1)])
    first = client.expect(PUBLISH)
    client.close()
    time.sleep(2.5)
    resumed = raw(V5)
    assert resumed.connect("slow-sub", clean=False, props=session).session_present
    again = resumed.expect(PUBLISH)
    assert (again.pid, again.payload, again.dup) == (first.pid, b"x", True)
    resumed.ack(again)
