"""Byte-level abuse: malformed packets and protocol errors close the
connection (v5: after DISCONNECT with a reason code), other clients carry on;
oversized packets against max_packet_size; a huge claimed remaining length
must not make the broker allocate it.

Statement ids prefixed v311 or v5 apply to that version only.
"""

import time

import pytest

from harness import proc_status_kib, start_broker
from rawmqtt import (AUTH, CONNACK, CONTENT_TYPE, DISCONNECT, MAXIMUM_PACKET_SIZE, PINGREQ,
                     PUBLISH, PUBREL, REQUEST_PROBLEM_INFORMATION, SESSION_EXPIRY_INTERVAL, SUBACK,
                     SUBSCRIBE,
                     SUBSCRIPTION_IDENTIFIER, TOPIC_ALIAS,
                     UNSUBSCRIBE, V311, V5, RawClient, fixed_header, publish_packet,
                     subscribe_packet, u16, unsubscribe_packet, utf8, varint)

MALFORMED = 0x81
PROTOCOL_ERROR = 0x82
TOPIC_NAME_INVALID = 0x90
TOPIC_ALIAS_INVALID = 0x94
PACKET_TOO_LARGE = 0x95

MOSQUITTO_SILENT_CLOSE = "closes without sending DISCONNECT with a reason code"


def no_props(version):
    """An empty v5 property block, nothing for 3.1.1."""
    return b"\x00" if version == V5 else b""


def with_header_flags(packet, flags):
    """packet with the low nibble of its first byte replaced."""
    return bytes([(packet[0] & 0xF0) | flags]) + packet[1:]


class Case:
    """One bad input: how to build it for a version, the v5 DISCONNECT
    reason codes that fit it, and where mosquitto deviates."""

    def __init__(self, name, build, v5_codes, v5_only=False, mosquitto_v311=None,
                 mosquitto_v5=None):
        self.name = name
        self.build = build
        self.v5_codes = v5_codes
        self.v5_only = v5_only
        self.deviations = {V311: mosquitto_v311, V5: mosquitto_v5}


CASES = [
    # v311[MQTT-3.8.1-1] v5[MQTT-3.8.1-1]
    Case("subscribe-flags", lambda v: with_header_flags(subscribe_packet(v, 1, [("a", 0)]), 0),
         {MALFORMED}),
    # [MQTT-3.10.1-1]
    Case("unsubscribe-flags", lambda v: with_header_flags(unsubscribe_packet(v, 1, ["a"]), 0),
         {MALFORMED}),
    # [MQTT-3.6.1-1]
    Case("pubrel-flags", lambda v: fixed_header(PUBREL, 0, u16(1)), {MALFORMED},
         mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    # v311[MQTT-3.3.1-4] v5[MQTT-3.3.1-4]
    Case("publish-qos3", lambda v: fixed_header(PUBLISH, 0x06, utf8("a") + u16(1) + no_props(v)),
         {MALFORMED}),
    # [MQTT-3.3.2-2] v311[MQTT-4.7.1-1] v5[MQTT-4.7.0-1]
    Case("publish-plus-wildcard", lambda v: publish_packet(v, "a/+", b"x"),
         {MALFORMED, PROTOCOL_ERROR, TOPIC_NAME_INVALID}),
    Case("publish-hash-wildcard", lambda v: publish_packet(v, "a/#", b"x"),
         {MALFORMED, PROTOCOL_ERROR, TOPIC_NAME_INVALID}),
    # v311[MQTT-1.5.3-2] v5[MQTT-1.5.4-2] [MQTT-4.7.3-2]
    Case("publish-nul-in-topic", lambda v: publish_packet(v, "a\x00b", b"x"), {MALFORMED}),
    # v311[MQTT-1.5.3-1] v5[MQTT-1.5.4-1] [MQTT-3.3.2-1]
    Case("publish-surrogate-utf8",
         lambda v: fixed_header(PUBLISH, 0, u16(3) + b"\xed\xa0\x80" + no_props(v)), {MALFORMED}),
    Case("publish-overlong-utf8",
         lambda v: fixed_header(PUBLISH, 0, u16(2) + b"\xc0\x80" + no_props(v)), {MALFORMED}),
    # [MQTT-4.7.3-1]
    Case("publish-empty-topic", lambda v: publish_packet(v, "", b"x"),
         {MALFORMED, PROTOCOL_ERROR, TOPIC_NAME_INVALID}),
    # v311[MQTT-2.3.1-1] v5[MQTT-2.2.1-3]
    Case("publish-packet-id-0", lambda v: publish_packet(v, "a", b"x", qos=1, pid=0),
         {MALFORMED, PROTOCOL_ERROR}),
    Case("subscribe-packet-id-0", lambda v: subscribe_packet(v, 0, [("a", 0)]),
         {MALFORMED, PROTOCOL_ERROR}),
    # v311[MQTT-3.8.3-3] v5[MQTT-3.8.3-2]
    Case("subscribe-no-filter", lambda v: fixed_header(SUBSCRIBE, 2, u16(1) + no_props(v)),
         {MALFORMED, PROTOCOL_ERROR}),
    # [MQTT-3.10.3-2]
    Case("unsubscribe-no-filter", lambda v: fixed_header(UNSUBSCRIBE, 2, u16(1) + no_props(v)),
         {MALFORMED, PROTOCOL_ERROR}),
    # v311[MQTT-3.8.3-3] (its [MQTT-3-8.3-4]); v5 section 3.8.3.1 calls Maximum QoS 3 a Protocol Error
    Case("subscribe-qos3", lambda v: subscribe_packet(v, 1, [("a", 3)]), {PROTOCOL_ERROR}),
    Case("subscribe-reserved-option-bits", lambda v: subscribe_packet(v, 1, [("a", 0xC0)]),
         {MALFORMED}),
    # v311[MQTT-3.14.1-1] v5[MQTT-3.14.1-1]
    Case("disconnect-flags", lambda v: fixed_header(DISCONNECT, 1, b""), {MALFORMED},
         mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    # v311[MQTT-2.2.2-1] v311[MQTT-2.2.2-2] v5[MQTT-2.1.3-1]
    Case("pingreq-flags", lambda v: fixed_header(PINGREQ, 1, b""), {MALFORMED},
         mosquitto_v311="answers a PINGREQ with reserved flags set",
         mosquitto_v5="answers a PINGREQ with reserved flags set"),
    # v311[MQTT-4.8.0-1] v5[MQTT-4.13.1-1]
    Case("reserved-packet-type-0", lambda v: fixed_header(0, 0, b""), {MALFORMED, PROTOCOL_ERROR}),
    Case("remaining-length-5-bytes", lambda v: bytes([0xC0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
         {MALFORMED}, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    Case("connack-from-client", lambda v: fixed_header(CONNACK, 0, b"\x00\x00" + no_props(v)),
         {MALFORMED, PROTOCOL_ERROR}, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    # v5[MQTT-3.3.4-6]
    Case("v5-subscription-id-from-client",
         lambda v: publish_packet(v, "a", b"x", props=[(SUBSCRIPTION_IDENTIFIER, 1)]),
         {MALFORMED, PROTOCOL_ERROR}, v5_only=True,
         mosquitto_v5="accepts a Subscription Identifier in a client's PUBLISH"),
    Case("v5-property-length-past-end", lambda v: fixed_header(PUBLISH, 0, utf8("a") + b"\x10\x01"),
         {MALFORMED}, v5_only=True),
    # v5[MQTT-3.3.2-8]
    Case("v5-topic-alias-0", lambda v: publish_packet(v, "a", b"x", props=[(TOPIC_ALIAS, 0)]),
         {MALFORMED, PROTOCOL_ERROR, TOPIC_ALIAS_INVALID}, v5_only=True),
    Case("v5-content-type-twice",
         lambda v: publish_packet(v, "a", b"x", props=[(CONTENT_TYPE, "a"), (CONTENT_TYPE, "b")]),
         {MALFORMED, PROTOCOL_ERROR}, v5_only=True, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    Case("v5-unknown-property", lambda v: fixed_header(PUBLISH, 0, utf8("a") + b"\x02\x7f\x00"),
         {MALFORMED}, v5_only=True),
    # v311[MQTT-3.8.3-1] v5[MQTT-3.8.3-1]
    Case("subscribe-filter-not-utf8",
         lambda v: fixed_header(SUBSCRIBE, 2, u16(1) + no_props(v) + u16(3) + b"\xed\xa0\x80\x00"),
         {MALFORMED}),
    # v311[MQTT-3.10.3-1] v5[MQTT-3.10.3-1]
    Case("unsubscribe-filter-not-utf8",
         lambda v: fixed_header(UNSUBSCRIBE, 2, u16(1) + no_props(v) + u16(3) + b"\xed\xa0\x80"),
         {MALFORMED}),
    # v5[MQTT-3.3.2-19] v5[MQTT-1.5.4-1]
    Case("v5-content-type-not-utf8",
         lambda v: fixed_header(PUBLISH, 0, utf8("a") + b"\x06\x03\x00\x03\xed\xa0\x80"),
         {MALFORMED}, v5_only=True, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    # v5[MQTT-3.3.2-13]
    Case("v5-response-topic-not-utf8",
         lambda v: fixed_header(PUBLISH, 0, utf8("a") + b"\x06\x08\x00\x03\xed\xa0\x80"),
         {MALFORMED}, v5_only=True, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    # v5[MQTT-1.5.7-1]
    Case("v5-user-property-not-utf8",
         lambda v: fixed_header(PUBLISH, 0, utf8("a") + b"\x09\x26\x00\x03\xed\xa0\x80\x00\x01v"),
         {MALFORMED}, v5_only=True, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    # v5[MQTT-3.15.1-1]
    Case("v5-auth-flags", lambda v: fixed_header(AUTH, 1, b""), {MALFORMED, PROTOCOL_ERROR},
         v5_only=True, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
    # v5[MQTT-4.12.0-7]
    Case("v5-auth-without-method", lambda v: fixed_header(AUTH, 0, b""),
         {MALFORMED, PROTOCOL_ERROR}, v5_only=True, mosquitto_v5=MOSQUITTO_SILENT_CLOSE),
]


def case_params():
    params = []
    for case in CASES:
        for version, tag in ((V311, "v311"), (V5, "v5")):
            if case.v5_only and version != V5:
                continue
            deviation = case.deviations[version]
            marks = [pytest.mark.stellwerk_only(reason=deviation)] if deviation else []
            params.append(pytest.param(version, case, id=f"{tag}-{case.name}", marks=marks))
    return params


def round_trip_works(broker, version):
    """True if a fresh client can still subscribe and receive its own message."""
    client = RawClient(broker, version)
    try:
        client.connect("bystander-check")
        client.subscribe("alive/t", 1)
        client.publish("alive/t", b"still here", qos=1)
        return client.receive_publish().payload == b"still here"
    finally:
        client.close()


@pytest.mark.parametrize("version,case", case_params())
def test_bad_packet_closes_connection_only(broker, raw, version, case):
    """v311[MQTT-4.8.0-1] v5[MQTT-4.13.1-1] v5[MQTT-4.13.2-1] v311[MQTT-2.2.2-2]
    v5[MQTT-3.14.2-1] v5[MQTT-3.14.2-2] v5[MQTT-3.14.4-1] v5[MQTT-3.14.4-2]: a
    malformed packet or protocol error closes that connection: silently for
    3.1.1, for v5 after one DISCONNECT with a fitting reason code (0x81
    Malformed Packet, 0x82 Protocol Error, ...) and no Session Expiry
    Interval. Another client connected at the time keeps working, and so
    does a new one."""
    bystander = raw(version, "bystander")
    bystander.subscribe("by/t", 1)
    victim = raw(version, "victim")
    victim.send(case.build(version))
    packets = victim.wait_closed()
    if version == V5:
        assert len(packets) == 1 and packets[0].type == DISCONNECT, packets
        assert packets[0].reason_code in case.v5_codes, packets
        assert packets[0].prop(SESSION_EXPIRY_INTERVAL) is None
    else:
        assert packets == []
    raw(version, "by-pub").publish("by/t", b"after", qos=1)
    assert bystander.receive_publish().payload == b"after"
    assert round_trip_works(broker, version)


def test_v5_disconnect_fits_client_maximum_packet_size(raw):
    """v5[MQTT-3.14.2-3] v5[MQTT-3.14.2-4] v5[MQTT-3.1.2-24]: a DISCONNECT the
    server sends leaves out Reason String and User Properties that would
    exceed the client's Maximum Packet Size (20 bytes here)."""
    client = raw(V5)
    client.connect("small-disconnect", props=[(MAXIMUM_PACKET_SIZE, 20),
                                              (REQUEST_PROBLEM_INFORMATION, 1)])
    client.send(fixed_header(PUBLISH, 0x06, utf8("a") + u16(1) + b"\x00"))
    packets = client.wait_closed()
    assert all(p.size <= 20 for p in packets), packets


@pytest.mark.parametrize("topic_filter", ["a/#/b", "a#", "a/b+", "+a/b", ""])
def test_invalid_topic_filter_is_refused(raw, version, topic_filter):
    """v311[MQTT-4.7.1-2] v311[MQTT-4.7.1-3] v5[MQTT-4.7.1-1] v5[MQTT-4.7.1-2]
    [MQTT-4.7.3-1]: an invalid filter is never accepted as a subscription:
    either SUBACK with a failure code (0x80, v5 also 0x8F) or a close
    (v5 after DISCONNECT 0x81/0x82/0x8F)."""
    client = raw(version, "filter-check")
    client.send(subscribe_packet(version, 1, [(topic_filter, 1)]))
    try:
        reply = client.recv()
    except Exception:  # noqa: BLE001  (a close is one of the allowed answers)
        return
    if reply.type == SUBACK:
        assert reply.reason_codes[0] in (0x80, 0x8F), reply
    else:
        assert version == V5 and reply.type == DISCONNECT, reply
        assert reply.reason_code in (0x81, 0x82, 0x8F), reply
        client.wait_closed()


@pytest.mark.broker_config("max_packet_size 100")
def test_packet_over_max_packet_size_closes(raw, version):
    """v5[MQTT-3.2.2-15] v5[MQTT-4.13.1-1]: the server announces its Maximum
    Packet Size in the v5 CONNACK; a larger packet closes the connection (v5:
    DISCONNECT 0x95 Packet too large). Packets within the limit still pass."""
    client = raw(version)
    connack = client.connect("oversize")
    if version == V5:
        assert connack.prop(MAXIMUM_PACKET_SIZE) == 100
    client.subscribe("size/t", 0)
    client.publish("size/t", b"x" * 50, qos=0)
    assert client.receive_publish().payload == b"x" * 50
    client.send(publish_packet(version, "size/t", b"y" * 200))
    packets = client.wait_closed()
    if version == V5:
        assert [(p.type, p.reason_code) for p in packets] == [(DISCONNECT, PACKET_TOO_LARGE)]
    else:
        assert packets == []


HUGE = 200 * 1024 * 1024
CLAIMING_CLIENTS = 5


def claim_huge_packets(broker):
    """Five connections each start a PUBLISH that claims 200 MB and send
    64 KiB of it, one more claims a 200 MB CONNECT; then they stall."""
    clients = []
    for index in range(CLAIMING_CLIENTS):
        client = RawClient(broker, V311)
        client.connect(f"claim-{index}")
        client.send(bytes([PUBLISH << 4]) + varint(HUGE) + utf8("huge/t") + b"x" * 65536)
        clients.append(client)
    before_connect = RawClient(broker, V311)
    before_connect.send(bytes([0x10]) + varint(HUGE) + utf8("MQTT") + bytes([4]))
    clients.append(before_connect)
    time.sleep(1.0)
    return clients


@pytest.mark.parametrize("config", ["", "max_packet_size 268435455"], ids=["default", "max-limit"])
def test_huge_remaining_length_does_not_grow_rss(config):
    """DESIGN principle 4 ("a claimed length is never allocated before the
    bytes arrive"): clients claiming 200 MB packets and stalling do not grow
    the broker's resident memory by more than 50 MB."""
    with start_broker(config=config) as broker:
        before = proc_status_kib(broker.pid, "VmRSS")
        clients = claim_huge_packets(broker)
        after = proc_status_kib(broker.pid, "VmRSS")
        assert after - before < 50 * 1024, (before, after)
        assert round_trip_works(broker, V311)
        for client in clients:
            client.close()


@pytest.mark.stellwerk_only(reason="allocates the claimed remaining length up front "
                                   "(200 MB of address space per stalled client)")
@pytest.mark.parametrize("config", ["", "max_packet_size 268435455"], ids=["default", "max-limit"])
def test_huge_remaining_length_is_not_allocated(config):
    """DESIGN principle 4: the claimed 200 MB are not even reserved: the
    broker's data segment (VmData) grows by less than 100 MB for six
    clients that claim 200 MB each."""
    with start_broker(config=config) as broker:
        before = proc_status_kib(broker.pid, "VmData")
        clients = claim_huge_packets(broker)
        after = proc_status_kib(broker.pid, "VmData")
        assert after - before < 100 * 1024, (before, after)
        for client in clients:
            client.close()
