"""CONNECT and CONNACK: acceptance, client identifiers, session present,
takeover, and the ways a connection must be refused or closed.

Mostly raw sockets, because a library would not send a bad protocol level,
a reserved flag or a second CONNECT. Statement ids prefixed v311 or v5 apply
to that version only (the numbering differs between the two specs).
"""

import time

import pytest

from pahoclient import PahoClient
from rawmqtt import (ASSIGNED_CLIENT_IDENTIFIER, AUTHENTICATION_METHOD, CONNACK, DISCONNECT,
                     PINGRESP, PUBLISH, RESPONSE_INFORMATION, SESSION_EXPIRY_INTERVAL, V31, V311,
                     V5, RawClient, connect_packet, pingreq_packet, publish_packet)


def session_props(version, expiry=300):
    """v5 keeps a session after the connection only with an expiry interval."""
    return [(SESSION_EXPIRY_INTERVAL, expiry)] if version == V5 else []


def test_connect_accepted_with_connack_first(raw, version):
    """v311[MQTT-3.1.4-4] v5[MQTT-3.1.4-5] [MQTT-3.2.0-1] v311[MQTT-3.2.2-1] v5[MQTT-3.2.2-2]
    [MQTT-3.1.3-5] v5[MQTT-3.2.2-1] v5[MQTT-3.2.2-8] v5[MQTT-4.12.0-6] v5[MQTT-3.1.2-28]
    v5[MQTT-4.2.0-1] v311[MQTT-7.1.1-1]: a valid CONNECT over TCP with clean
    session gets CONNACK 0 with Session Present 0 and the reserved
    acknowledge flags 0; v5 without Authentication Method or Request
    Response Information gets neither an Authentication Method nor Response
    Information back."""
    client = raw(version)
    connack = client.connect("Az09azAZ09azAZ09azAZ09a", clean=True)
    assert connack.reason_code == 0
    assert connack.session_present is False
    assert connack.flags == 0
    assert connack.body[0] == 0
    assert connack.prop(AUTHENTICATION_METHOD) is None
    assert connack.prop(RESPONSE_INFORMATION) is None


def test_connect_with_every_payload_field(raw, version):
    """v311[MQTT-3.1.3-1] v5[MQTT-3.1.3-1] [MQTT-3.1.3-3] v311[MQTT-3.1.2-19]
    v311[MQTT-3.1.2-21] v5[MQTT-3.1.2-17] v5[MQTT-3.1.2-19] v311[MQTT-3.1.2-9]
    v5[MQTT-3.1.2-9]: client id, will topic, will message, user name and
    password in that order are all read: the connection is accepted and the
    will goes out on the right topic with the right payload."""
    watcher = raw(version, "all-fields-watcher")
    watcher.subscribe("all/#", 1)
    client = raw(version)
    connack = client.connect("all-fields", username="user", password=b"secret",
                             will={"topic": "all/will", "payload": b"will payload", "qos": 1})
    assert connack.reason_code == 0
    client.abort()
    packet = watcher.receive_publish()
    assert (packet.topic, packet.payload) == ("all/will", b"will payload")


def invalid_utf8(packet, field):
    """packet with the 3-byte ASCII `field` replaced by an encoded surrogate."""
    at = packet.index(field)
    return packet[:at] + b"\xed\xa0\x80" + packet[at + len(field):]


CONNECT_FLAGS_AT = 9  # fixed header (2) + "MQTT" (6) + level (1)


def with_flags(packet, extra_flags):
    return packet[:CONNECT_FLAGS_AT] + bytes([packet[CONNECT_FLAGS_AT] | extra_flags]) + \
        packet[CONNECT_FLAGS_AT + 1:]


BAD_CONNECTS = {
    # v311[MQTT-3.1.3-4] v5[MQTT-3.1.3-4] v311[MQTT-1.5.3-1] v5[MQTT-1.5.4-1]
    "client-id-not-utf8": lambda v: invalid_utf8(connect_packet(v, "abc"), b"abc"),
    # v311[MQTT-3.1.3-10] v5[MQTT-3.1.3-11]
    "will-topic-not-utf8": lambda v: invalid_utf8(
        connect_packet(v, "c", will={"topic": "wxy", "payload": b"p"}), b"wxy"),
    # v311[MQTT-3.1.3-11] v5[MQTT-3.1.3-12]
    "user-name-not-utf8": lambda v: invalid_utf8(connect_packet(v, "c", username="uvw"), b"uvw"),
    # v311[MQTT-3.1.2-11] v311[MQTT-3.1.2-13] v5[MQTT-3.1.2-11]
    "will-qos-without-will": lambda v: with_flags(connect_packet(v, "c"), 0x08),
    # v311[MQTT-3.1.2-15] v5[MQTT-3.1.2-13]
    "will-retain-without-will": lambda v: with_flags(connect_packet(v, "c"), 0x20),
    # v311[MQTT-3.1.2-14] v5[MQTT-3.1.2-12]
    "will-qos-3": lambda v: connect_packet(v, "c", will={"topic": "w", "payload": b"p", "qos": 3}),
    # v311[MQTT-3.1.2-19] v5[MQTT-3.1.2-17]
    "user-name-flag-without-name": lambda v: with_flags(connect_packet(v, "c"), 0x80),
    # v311[MQTT-3.1.2-21] v5[MQTT-3.1.2-19]
    "password-flag-without-password": lambda v: with_flags(connect_packet(v, "c", username="u"),
                                                           0x40),
}


@pytest.mark.parametrize("name", sorted(BAD_CONNECTS))
def test_invalid_connect_closes_without_accepting(raw, version, name):
    """v311[MQTT-3.1.4-1] v5[MQTT-3.1.4-1] v311[MQTT-3.2.2-6] v5[MQTT-3.14.0-1]: a
    CONNECT that does not follow section 3.1 (bad UTF-8, will flags without
    a will, a missing user name or password) closes the connection without
    accepting it: 3.1.1 sends no CONNACK, v5 at most a CONNACK >= 0x80 and
    never a DISCONNECT."""
    client = raw(version)
    client.send(BAD_CONNECTS[name](version))
    packets = client.wait_closed()
    allowed = (lambda p: p.type == CONNACK and p.reason_code >= 0x80) if version == V5 else \
        (lambda p: False)
    assert all(allowed(p) for p in packets), packets


def test_v311_password_without_user_name_closes(raw):
    """v311[MQTT-3.1.2-22] v311[MQTT-3.1.4-1]: in 3.1.1 the Password Flag
    requires the User Name Flag; a CONNECT with only a password is closed."""
    client = raw(V311)
    client.send(connect_packet(V311, "pw-only", password=b"secret"))
    assert client.wait_closed() == []


def test_v5_password_without_user_name_is_allowed(raw):
    """v5[MQTT-3.1.2-18] v5[MQTT-3.1.2-19]: v5 allows a password without a
    user name (the flags say which fields are present)."""
    client = raw(V5)
    assert client.connect("pw-only", password=b"secret").reason_code == 0


def test_v5_unsupported_authentication_method_is_refused(raw):
    """v5[MQTT-4.12.0-1] v5[MQTT-3.1.4-2] v5[MQTT-3.2.2-6] v5[MQTT-3.2.2-7]
    v5[MQTT-4.12.0-4]: an Authentication Method the server does not support
    gets CONNACK 0x8C or 0x87 (Session Present 0), or no CONNACK, and the
    connection is closed."""
    client = raw(V5)
    client.send(connect_packet(V5, "scram", props=[(AUTHENTICATION_METHOD, "SCRAM-SHA-1")]))
    packets = client.wait_closed()
    assert all(p.type == CONNACK and p.reason_code in (0x8C, 0x87) and not p.session_present
               for p in packets), packets


def test_pingreq_gets_pingresp(raw, version):
    """[MQTT-3.12.4-1]: the server answers PINGREQ with PINGRESP."""
    client = raw(version, "pinger")
    client.send(pingreq_packet())
    assert client.recv().type == PINGRESP


def test_mqtt31_mqisdp_connect(broker, raw):
    """MQTT 3.1 ("MQIsdp", level 3) is accepted, and a 3.1 client can
    publish and subscribe (paho's MQTTv31)."""
    connack = raw(V31).connect("old-client")
    assert connack.reason_code == 0
    client = PahoClient(broker, V31, client_id="paho31")
    try:
        assert client.connect() == 0
        client.subscribe("v31/t", qos=1)
        client.publish("v31/t", b"hello 3.1", qos=1)
        assert client.expect_message().payload == b"hello 3.1"
    finally:
        client.close()


def test_v311_empty_client_id_with_clean_session_is_accepted(raw):
    """v311[MQTT-3.1.3-6]: a zero-byte ClientId with CleanSession 1 gets a
    server-assigned identity and CONNACK 0."""
    assert raw(V311).connect("", clean=True).reason_code == 0


def test_v311_empty_client_id_without_clean_session_is_rejected(raw):
    """v311[MQTT-3.1.3-8] v311[MQTT-3.2.2-4] v311[MQTT-3.2.2-5]: zero-byte
    ClientId with CleanSession 0 gets CONNACK 0x02 (identifier rejected),
    Session Present 0, then the connection is closed."""
    client = raw(V311)
    connack = client.connect("", clean=False)
    assert connack.reason_code == 0x02
    assert connack.session_present is False
    assert client.wait_closed() == []


def test_v5_empty_client_id_gets_assigned_identifier(raw):
    """v5[MQTT-3.1.3-6] v5[MQTT-3.1.3-7] v5[MQTT-3.2.2-16]: an empty ClientID is
    replaced by a unique one, returned as Assigned Client Identifier."""
    first = raw(V5).connect("", clean=True)
    second = raw(V5).connect("", clean=True)
    assert first.reason_code == 0 and second.reason_code == 0
    first_id = first.prop(ASSIGNED_CLIENT_IDENTIFIER)
    second_id = second.prop(ASSIGNED_CLIENT_IDENTIFIER)
    assert first_id and second_id
    assert first_id != second_id


def test_session_present_reflects_stored_session(raw, version):
    """v311[MQTT-3.2.2-2] v311[MQTT-3.2.2-3] v5[MQTT-3.2.2-3] v311[MQTT-3.1.2-4]
    v5[MQTT-3.1.2-5] v5[MQTT-3.1.2-6]: Session Present is 0 for a new
    session, 1 when a stored session is resumed, and 0 after clean start."""
    props = session_props(version)
    first = raw(version)
    assert first.connect("sp-client", clean=False, props=props).session_present is False
    first.subscribe("sp/topic", 1)
    first.disconnect()
    resumed = raw(version)
    assert resumed.connect("sp-client", clean=False, props=props).session_present is True
    resumed.disconnect()
    cleaned = raw(version)
    assert cleaned.connect("sp-client", clean=True).session_present is False


def test_takeover_closes_existing_connection(raw, version):
    """v311[MQTT-3.1.4-2] v5[MQTT-3.1.4-3]: a second connection with the same
    ClientId makes the server close the first one."""
    old = raw(version, "twin")
    new = raw(version)
    assert new.connect("twin").reason_code == 0
    packets = old.wait_closed()
    assert all(p.type == DISCONNECT for p in packets), packets
    assert new.is_open()


@pytest.mark.stellwerk_only(reason="closes the old v5 connection without DISCONNECT 0x8E")
def test_v5_takeover_sends_session_taken_over(raw):
    """v5[MQTT-3.1.4-3]: the existing v5 client gets DISCONNECT 0x8E (Session
    taken over) before its connection is closed."""
    old = raw(V5, "twin5")
    assert raw(V5).connect("twin5").reason_code == 0
    packets = old.wait_closed()
    assert [(p.type, p.reason_code) for p in packets] == [(DISCONNECT, 0x8E)]


@pytest.mark.parametrize("level", [0, 2, 6, 255])
def test_unsupported_protocol_level_gets_connack_0x01(raw, level):
    """v311[MQTT-3.1.2-2] v311[MQTT-3.2.2-4] v311[MQTT-3.2.2-5] v311[MQTT-3.1.4-5]
    v5[MQTT-3.1.4-6]: an unsupported protocol level gets CONNACK 0x01
    (unacceptable protocol level), then a close; a PUBLISH sent right after
    the CONNECT is not processed. (A v5 client
    cannot send an unsupported level; the 3.1.1 answer is the one every
    client version can read.)"""
    watcher = raw(V311, "level-watcher")
    watcher.subscribe("level/#", 0)
    client = raw(V311)
    client.send(connect_packet(level, "lvl", protocol_name="MQTT") +
                publish_packet(V311, "level/t", b"must not be processed"))
    packets = client.wait_closed()
    assert [(p.type, p.reason_code, p.session_present) for p in packets] == \
        [(CONNACK, 0x01, False)]
    watcher.expect_nothing(0.3)


def test_wrong_protocol_name_for_level_is_refused(raw):
    """v311[MQTT-3.1.2-1] v5[MQTT-3.1.2-1] v5[MQTT-3.1.2-2]: "MQIsdp" with level 4 is not a
    protocol this server speaks: it does not go on as MQTT 3.1.1, it refuses
    (CONNACK 0x01 or 0x84) or just closes."""
    client = raw(V311)
    client.send(connect_packet(V311, "mixup", protocol_name="MQIsdp"))
    packets = client.wait_closed()
    assert all(p.type == CONNACK and p.reason_code in (0x01, 0x84) for p in packets), packets


def test_reserved_connect_flag_closes(raw, version):
    """v311[MQTT-3.1.2-3] v5[MQTT-3.1.2-3] [MQTT-3.1.4-1] v311[MQTT-3.2.2-6]
    v5[MQTT-3.14.0-1]: the reserved
    CONNECT flag must be 0, else the connection is closed (v3.1.1: without a
    CONNACK; v5 may first send CONNACK 0x81 Malformed Packet)."""
    client = raw(version)
    client.send(connect_packet(version, "reserved", reserved_flag=True))
    packets = client.wait_closed()
    allowed = [(CONNACK, 0x81)] if version == V5 else []
    assert all((p.type, p.reason_code) in allowed for p in packets), packets


def test_second_connect_closes(raw, version):
    """[MQTT-3.1.0-2] v311[MQTT-4.8.0-1] v5[MQTT-3.2.0-2]: a second CONNECT is
    a protocol violation and the connection is closed, without a second
    CONNACK."""
    client = raw(version, "double")
    client.send(connect_packet(version, "double"))
    packets = client.wait_closed()
    assert all(p.type == DISCONNECT and p.reason_code == 0x82 for p in packets), packets


@pytest.mark.stellwerk_only(reason="closes the connection without DISCONNECT 0x82")
def test_v5_second_connect_gets_protocol_error(raw):
    """v5[MQTT-3.1.0-2] v5[MQTT-4.13.1-1]: our choice for v5 is to say why:
    DISCONNECT 0x82 (Protocol Error), then close."""
    client = raw(V5, "double5")
    client.send(connect_packet(V5, "double5"))
    packets = client.wait_closed()
    assert [(p.type, p.reason_code) for p in packets] == [(DISCONNECT, 0x82)]


@pytest.mark.parametrize("first_packet", [pingreq_packet(),
                                          publish_packet(V311, "no/connect", b"x")],
                         ids=["pingreq", "publish"])
def test_first_packet_not_connect_closes(broker, version, first_packet):
    """[MQTT-3.1.0-1] [MQTT-3.2.0-1]: the first packet must be CONNECT; anything else
    closes the connection without a reply, and nothing is published."""
    watcher = RawClient(broker, version)
    watcher.connect("watcher")
    watcher.subscribe("no/#", 0)
    client = RawClient(broker, version)
    client.send(first_packet)
    assert client.wait_closed() == []
    watcher.expect_nothing(0.3)
    watcher.close()


@pytest.mark.stellwerk_only(
    reason="closes a silent pre-CONNECT connection only after 1.5 x its default 60 s keep-alive")
def test_idle_connection_without_connect_is_closed(broker):
    """[MQTT-3.1.0-1] (and DESIGN's bounded resources): a TCP connection that
    never sends CONNECT is closed by the server within a bounded time (30 s)."""
    client = RawClient(broker, V311)
    started = time.monotonic()
    assert client.wait_closed(timeout=30) == []
    assert time.monotonic() - started < 30


def test_connack_is_sent_once_and_publish_flows_after(raw, version):
    """v5[MQTT-3.2.0-2] [MQTT-3.2.0-1]: after the one CONNACK, normal traffic
    follows without further CONNACKs."""
    client = raw(version, "once")
    client.subscribe("once/t", 0)
    client.publish("once/t", b"ping", qos=0)
    packet = client.recv()
    assert packet.type == PUBLISH and packet.payload == b"ping"
