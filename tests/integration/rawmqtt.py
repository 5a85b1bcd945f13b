"""Byte-level MQTT 3.1 / 3.1.1 / 5.0 for black-box tests.

Real client libraries hide exactly what conformance tests need to control:
they acknowledge on their own, resend on their own and refuse to send
malformed packets. This module builds packets byte by byte, reads whatever
the broker sends back and parses it into plain objects, so a test can hold an
acknowledgement back, send garbage, or look at a flag bit.

Properties (v5) are lists of (property id, value) pairs, because user
properties and subscription identifiers may repeat. A user property value is
a (name, value) tuple of str.
"""

import socket
import struct
import time

# Packet types.
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT, AUTH = 12, 13, 14, 15

PACKET_NAMES = {
    CONNECT: "CONNECT", CONNACK: "CONNACK", PUBLISH: "PUBLISH", PUBACK: "PUBACK",
    PUBREC: "PUBREC", PUBREL: "PUBREL", PUBCOMP: "PUBCOMP", SUBSCRIBE: "SUBSCRIBE",
    SUBACK: "SUBACK", UNSUBSCRIBE: "UNSUBSCRIBE", UNSUBACK: "UNSUBACK", PINGREQ: "PINGREQ",
    PINGRESP: "PINGRESP", DISCONNECT: "DISCONNECT", AUTH: "AUTH",
}

# Protocol levels as they appear in CONNECT (and as paho numbers them).
V31, V311, V5 = 3, 4, 5

# v5 property identifiers.
PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTHENTICATION_METHOD = 0x15
AUTHENTICATION_DATA = 0x16
REQUEST_PROBLEM_INFORMATION = 0x17
WILL_DELAY_INTERVAL = 0x18
REQUEST_RESPONSE_INFORMATION = 0x19
RESPONSE_INFORMATION = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
SHARED_SUBSCRIPTION_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VARINT, _UTF8, _BINARY, _PAIR = range(7)
_PROPERTY_KINDS = {
    PAYLOAD_FORMAT_INDICATOR: _BYTE, MESSAGE_EXPIRY_INTERVAL: _U32, CONTENT_TYPE: _UTF8,
    RESPONSE_TOPIC: _UTF8, CORRELATION_DATA: _BINARY, SUBSCRIPTION_IDENTIFIER: _VARINT,
    SESSION_EXPIRY_INTERVAL: _U32, ASSIGNED_CLIENT_IDENTIFIER: _UTF8, SERVER_KEEP_ALIVE: _U16,
    AUTHENTICATION_METHOD: _UTF8, AUTHENTICATION_DATA: _BINARY,
    REQUEST_PROBLEM_INFORMATION: _BYTE, WILL_DELAY_INTERVAL: _U32,
    REQUEST_RESPONSE_INFORMATION: _BYTE, RESPONSE_INFORMATION: _UTF8, SERVER_REFERENCE: _UTF8,
    REASON_STRING: _UTF8, RECEIVE_MAXIMUM: _U16, TOPIC_ALIAS_MAXIMUM: _U16, TOPIC_ALIAS: _U16,
    MAXIMUM_QOS: _BYTE, RETAIN_AVAILABLE: _BYTE, USER_PROPERTY: _PAIR,
    MAXIMUM_PACKET_SIZE: _U32, WILDCARD_SUBSCRIPTION_AVAILABLE: _BYTE,
    SUBSCRIPTION_IDENTIFIER_AVAILABLE: _BYTE, SHARED_SUBSCRIPTION_AVAILABLE: _BYTE,
}


class Closed(Exception):
    """The broker closed the connection (EOF or reset)."""


class MalformedReply(Exception):
    """The broker sent bytes this module cannot parse."""


# ---------------------------------------------------------------- encoding

def varint(value):
    out = bytearray()
    while True:
        byte = value % 128
        value //= 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def u16(value):
    return struct.pack("!H", value)


def u32(value):
    return struct.pack("!I", value)


def utf8(text):
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return u16(len(raw)) + raw


def binary(data):
    return u16(len(data)) + bytes(data)


def fixed_header(packet_type, flags, body):
    """A whole packet: type and flags nibbles, remaining length, body."""
    return bytes([(packet_type << 4) | flags]) + varint(len(body)) + body


def _encode_property(prop_id, value):
    kind = _PROPERTY_KINDS[prop_id]
    head = varint(prop_id)
    if kind == _BYTE:
        return head + bytes([value])
    if kind == _U16:
        return head + u16(value)
    if kind == _U32:
        return head + u32(value)
    if kind == _VARINT:
        return head + varint(value)
    if kind == _UTF8:
        return head + utf8(value)
    if kind == _BINARY:
        return head + binary(value)
    return head + utf8(value[0]) + utf8(value[1])


def properties(props):
    """The v5 property block: length then each property."""
    body = b"".join(_encode_property(pid, value) for pid, value in props)
    return varint(len(body)) + body


def connect_packet(version=V311, client_id="", clean=True, keepalive=60, will=None,
                   username=None, password=None, props=(), protocol_name=None,
                   reserved_flag=False):
    """CONNECT. will = dict(topic, payload, qos=0, retain=False, props=()).

    protocol_name and version are taken as given so that tests can send what
    no library would."""
    if protocol_name is None:
        protocol_name = "MQIsdp" if version == V31 else "MQTT"
    flags = (0x02 if clean else 0) | (0x01 if reserved_flag else 0)
    if will is not None:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
    if password is not None:
        flags |= 0x40
    if username is not None:
        flags |= 0x80
    body = utf8(protocol_name) + bytes([version, flags]) + u16(keepalive)
    if version == V5:
        body += properties(props)
    body += utf8(client_id)
    if will is not None:
        if version == V5:
            body += properties(will.get("props", ()))
        body += utf8(will["topic"]) + binary(_as_bytes(will.get("payload", b"")))
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += binary(_as_bytes(password))
    return fixed_header(CONNECT, 0, body)


def publish_packet(version, topic, payload=b"", qos=0, retain=False, dup=False, pid=None,
                   props=()):
    flags = (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = utf8(topic)
    if qos > 0:
        body += u16(pid if pid is not None else 1)
    if version == V5:
        body += properties(props)
    return fixed_header(PUBLISH, flags, body + _as_bytes(payload))


def ack_packet(version, packet_type, pid, reason_code=0, props=()):
    """PUBACK / PUBREC / PUBREL / PUBCOMP. PUBREL has the fixed flags 0b0010."""
    flags = 0x02 if packet_type == PUBREL else 0
    body = u16(pid)
    if version == V5 and (reason_code or props):
        body += bytes([reason_code]) + properties(props)
    return fixed_header(packet_type, flags, body)


def subscribe_packet(version, pid, subscriptions, props=()):
    """subscriptions: list of (filter, options byte). For v3 the options byte
    is just the requested QoS; v5 adds no-local (0x04), retain-as-published
    (0x08) and retain handling (bits 4-5)."""
    body = u16(pid)
    if version == V5:
        body += properties(props)
    for topic_filter, options in subscriptions:
        body += utf8(topic_filter) + bytes([options])
    return fixed_header(SUBSCRIBE, 0x02, body)


def unsubscribe_packet(version, pid, filters, props=()):
    body = u16(pid)
    if version == V5:
        body += properties(props)
    for topic_filter in filters:
        body += utf8(topic_filter)
    return fixed_header(UNSUBSCRIBE, 0x02, body)


def disconnect_packet(version, reason_code=0, props=()):
    if version == V5 and (reason_code or props):
        return fixed_header(DISCONNECT, 0, bytes([reason_code]) + properties(props))
    return fixed_header(DISCONNECT, 0, b"")


def pingreq_packet():
    return fixed_header(PINGREQ, 0, b"")


def sub_options(qos=0, no_local=False, retain_as_published=False, retain_handling=0):
    return (qos | (0x04 if no_local else 0) | (0x08 if retain_as_published else 0)
            | (retain_handling << 4))


def _as_bytes(data):
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


# ---------------------------------------------------------------- decoding

class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, count):
        if count > self.remaining():
            raise MalformedReply("packet ends early")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def byte(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("!H", self.take(2))[0]

    def u32(self):
        return struct.unpack("!I", self.take(4))[0]

    def varint(self):
        value, shift = 0, 0
        for _ in range(4):
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise MalformedReply("variable byte integer longer than 4 bytes")

    def utf8(self):
        return self.take(self.u16()).decode("utf-8")

    def binary(self):
        return self.take(self.u16())

    def properties(self):
        end = self.varint() + self.pos
        props = []
        while self.pos < end:
            prop_id = self.varint()
            kind = _PROPERTY_KINDS.get(prop_id)
            readers = {_BYTE: self.byte, _U16: self.u16, _U32: self.u32, _VARINT: self.varint,
                       _UTF8: self.utf8, _BINARY: self.binary,
                       _PAIR: lambda: (self.utf8(), self.utf8())}
            if kind is None:
                raise MalformedReply(f"unknown property 0x{prop_id:02x}")
            props.append((prop_id, readers[kind]()))
        return props


class Packet:
    """One received packet. Fields present depend on the type: reason_code,
    properties, pid, topic, payload, qos, retain, dup, session_present,
    reason_codes."""

    def __init__(self, packet_type, flags, body, size):
        self.type = packet_type
        self.flags = flags
        self.body = body
        self.size = size  # whole packet on the wire, fixed header included
        self.properties = []
        self.reason_code = 0

    @property
    def name(self):
        return PACKET_NAMES.get(self.type, f"type {self.type}")

    def prop(self, prop_id, default=None):
        for pid, value in self.properties:
            if pid == prop_id:
                return value
        return default

    def props(self, prop_id):
        return [value for pid, value in self.properties if pid == prop_id]

    def __repr__(self):
        fields = {k: v for k, v in vars(self).items() if k not in ("body", "flags")}
        return f"<{self.name} {fields}>"


def parse_packet(version, packet_type, flags, body, size):
    packet = Packet(packet_type, flags, body, size)
    reader = _Reader(body)
    parser = _PARSERS.get(packet_type)
    if parser is not None:
        parser(packet, reader, version)
    return packet


def _parse_connack(packet, reader, version):
    packet.session_present = bool(reader.byte() & 0x01)
    packet.reason_code = reader.byte()
    if version == V5 and reader.remaining():
        packet.properties = reader.properties()


def _parse_publish(packet, reader, version):
    packet.dup = bool(packet.flags & 0x08)
    packet.qos = (packet.flags >> 1) & 0x03
    packet.retain = bool(packet.flags & 0x01)
    packet.topic = reader.utf8()
    packet.pid = reader.u16() if packet.qos else None
    if version == V5:
        packet.properties = reader.properties()
    packet.payload = reader.take(reader.remaining())


def _parse_ack(packet, reader, version):
    packet.pid = reader.u16()
    if version == V5 and reader.remaining():
        packet.reason_code = reader.byte()
        if reader.remaining():
            packet.properties = reader.properties()


def _parse_suback(packet, reader, version):
    packet.pid = reader.u16()
    if version == V5:
        packet.properties = reader.properties()
    packet.reason_codes = list(reader.take(reader.remaining()))


def _parse_disconnect(packet, reader, version):
    if reader.remaining():
        packet.reason_code = reader.byte()
        if reader.remaining():
            packet.properties = reader.properties()


_PARSERS = {
    CONNACK: _parse_connack, PUBLISH: _parse_publish, PUBACK: _parse_ack, PUBREC: _parse_ack,
    PUBREL: _parse_ack, PUBCOMP: _parse_ack, SUBACK: _parse_suback, UNSUBACK: _parse_suback,
    DISCONNECT: _parse_disconnect, AUTH: _parse_disconnect,
}


# ---------------------------------------------------------------- client

class RawClient:
    """One TCP connection speaking MQTT at the byte level. Nothing is sent
    that the test does not ask for: no automatic acks, pings or retries."""

    def __init__(self, broker, version=V311, timeout=5.0):
        self.version = version
        self.timeout = timeout
        self.sock = socket.create_connection((broker.host, broker.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""
        self._stashed = []  # packets read past while looking for another one
        self._next_pid = 0

    # -- plumbing
    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def abort(self):
        """Close with a TCP reset, as a crashed client would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def next_pid(self):
        self._next_pid = self._next_pid % 65535 + 1
        return self._next_pid

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no packet from the broker in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as exc:
            raise TimeoutError("no packet from the broker in time") from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise Closed(str(exc)) from exc
        if not chunk:
            raise Closed("connection closed by the broker")
        self._buffer += chunk

    def _split_packet(self):
        """A whole packet from the buffer, or None while bytes are missing."""
        if len(self._buffer) < 2:
            return None
        length, shift, index = 0, 0, 1
        while True:
            if index >= len(self._buffer):
                return None
            byte = self._buffer[index]
            length |= (byte & 0x7F) << shift
            index += 1
            if not byte & 0x80:
                break
            shift += 7
            if index > 4:
                raise MalformedReply("remaining length longer than 4 bytes")
        if len(self._buffer) < index + length:
            return None
        first = self._buffer[0]
        body = self._buffer[index:index + length]
        self._buffer = self._buffer[index + length:]
        return parse_packet(self.version, first >> 4, first & 0x0F, body, index + length)

    def recv(self, timeout=None):
        """The next packet; raises TimeoutError or Closed."""
        if self._stashed:
            return self._stashed.pop(0)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            packet = self._split_packet()
            if packet is not None:
                return packet
            self._fill(deadline)

    def expect(self, packet_type, timeout=None):
        packet = self.recv(timeout)
        assert packet.type == packet_type, f"expected {PACKET_NAMES[packet_type]}, got {packet}"
        return packet

    def expect_skipping(self, packet_type, timeout=None):
        """The next packet of this type; packets of other types read on the
        way are kept for later recv() calls, in order."""
        skipped = []
        try:
            while True:
                packet = self.recv(timeout)
                if packet.type == packet_type:
                    return packet
                skipped.append(packet)
        finally:
            self._stashed = skipped + self._stashed

    def expect_nothing(self, timeout=0.5):
        """Asserts that no packet arrives within timeout (the connection may stay open)."""
        try:
            packet = self.recv(timeout)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected packet {packet}")

    def wait_closed(self, timeout=None):
        """Reads until the broker closes the connection and returns the packets
        that came before the close. Fails if it is still open after timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        packets = []
        while True:
            try:
                packets.append(self.recv(max(0.0, deadline - time.monotonic())))
            except Closed:
                return packets
            except TimeoutError as exc:
                raise AssertionError(
                    f"connection still open after {timeout}s; received {packets}") from exc

    def is_open(self, timeout=0.3):
        """True if the connection is still open after a short wait (it pings)."""
        try:
            self.send(pingreq_packet())
            while True:
                if self.recv(timeout).type == PINGRESP:
                    return True
        except (Closed, BrokenPipeError, ConnectionResetError, OSError):
            return False

    # -- MQTT operations
    def connect(self, client_id="", **kwargs):
        """Sends CONNECT and returns the CONNACK packet."""
        self.send(connect_packet(self.version, client_id, **kwargs))
        return self.expect(CONNACK)

    def subscribe(self, topic_filter, options=0, props=()):
        """Subscribes to one filter and returns the SUBACK."""
        return self.subscribe_many([(topic_filter, options)], props)

    def subscribe_many(self, subscriptions, props=()):
        pid = self.next_pid()
        self.send(subscribe_packet(self.version, pid, subscriptions, props))
        suback = self.expect(SUBACK)
        assert suback.pid == pid
        return suback

    def unsubscribe(self, filters, props=()):
        pid = self.next_pid()
        self.send(unsubscribe_packet(self.version, pid, filters, props))
        unsuback = self.expect(UNSUBACK)
        assert unsuback.pid == pid
        return unsuback

    def publish(self, topic, payload=b"", qos=0, retain=False, props=(), pid=None, dup=False):
        """Publishes and completes the QoS flow (PUBACK, or PUBREC/PUBREL/PUBCOMP).
        Returns the final acknowledgement, or None for QoS 0."""
        if qos and pid is None:
            pid = self.next_pid()
        self.send(publish_packet(self.version, topic, payload, qos, retain, dup, pid, props))
        if qos == 0:
            return None
        # Deliveries to the client's own subscriptions may come first.
        if qos == 1:
            return self.expect_skipping(PUBACK)
        pubrec = self.expect_skipping(PUBREC)
        assert pubrec.pid == pid
        self.send(ack_packet(self.version, PUBREL, pid))
        return self.expect_skipping(PUBCOMP)

    def ack(self, publish):
        """Completes the receiving side of a QoS 1 or 2 PUBLISH."""
        if publish.qos == 1:
            self.send(ack_packet(self.version, PUBACK, publish.pid))
        elif publish.qos == 2:
            self.send(ack_packet(self.version, PUBREC, publish.pid))
            pubrel = self.expect_skipping(PUBREL)
            assert pubrel.pid == publish.pid
            self.send(ack_packet(self.version, PUBCOMP, publish.pid))

    def receive_publish(self, timeout=None, ack=True):
        packet = self.expect(PUBLISH, timeout)
        if ack:
            self.ack(packet)
        return packet

    def collect(self, quiet=0.4):
        """Every PUBLISH that arrives until none has come for `quiet` seconds,
        each acknowledged."""
        received = []
        while True:
            try:
                packet = self.recv(quiet)
            except TimeoutError:
                return received
            assert packet.type == PUBLISH, packet
            self.ack(packet)
            received.append(packet)

    def disconnect(self, reason_code=0, props=()):
        """Sends DISCONNECT and waits (briefly) until the broker has closed the
        connection, so that it has taken the session offline before the test
        goes on: with two workers, another client's next packet may otherwise
        be handled first."""
        self.send(disconnect_packet(self.version, reason_code, props))
        try:
            self.wait_closed(timeout=2)
        except AssertionError:
            pass
        self.close()
