"""Will messages: published when a connection ends without a normal
DISCONNECT (including a keep-alive timeout), not after one, with the will's
QoS and RETAIN; v5 will delay and DISCONNECT 0x04.

Statement ids prefixed v311 or v5 apply to that version only.
"""

import time

import pytest

from rawmqtt import SESSION_EXPIRY_INTERVAL, USER_PROPERTY, V5, WILL_DELAY_INTERVAL, pingreq_packet


def will(topic="will/t", payload=b"gone", qos=0, retain=False, props=()):
    return {"topic": topic, "payload": payload, "qos": qos, "retain": retain, "props": props}


@pytest.fixture
def watcher(raw, version):
    client = raw(version, "will-watcher")
    client.subscribe("will/#", 2)
    return client


@pytest.mark.parametrize("how", ["reset", "close"])
def test_will_published_on_abnormal_close(raw, version, watcher, how):
    """v311[MQTT-3.1.2-8] v5[MQTT-3.1.2-7] v5[MQTT-3.1.2-8] v311[MQTT-3.1.2-16]
    v5[MQTT-3.1.2-14]: when the network connection ends without DISCONNECT
    (reset or plain close) the will is published, not retained."""
    client = raw(version, "dying", will=will(payload=b"abnormal"))
    client.abort() if how == "reset" else client.close()
    packet = watcher.receive_publish()
    assert (packet.topic, packet.payload, packet.retain) == ("will/t", b"abnormal", False)


def test_no_will_after_disconnect(raw, version, watcher):
    """v311[MQTT-3.1.2-10] v5[MQTT-3.1.2-10] [MQTT-3.14.4-3]: after a normal
    DISCONNECT the will is discarded."""
    client = raw(version, "polite", will=will(payload=b"should not appear"))
    client.disconnect()
    watcher.expect_nothing(1.0)


def test_no_will_without_will_flag(raw, version, watcher):
    """v311[MQTT-3.1.2-12]: without the Will Flag nothing is published when
    the connection drops."""
    raw(version, "no-will").abort()
    watcher.expect_nothing(1.0)


@pytest.mark.parametrize("qos", [1, 2])
def test_will_qos_and_retain(raw, version, watcher, qos):
    """v311[MQTT-3.1.2-9] v5[MQTT-3.1.2-9] v311[MQTT-3.1.2-17] v5[MQTT-3.1.2-15]:
    the will is published with its QoS, and stored as retained when Will
    Retain is 1 (a later subscriber gets it with RETAIN 1)."""
    client = raw(version, "retainer", will=will(payload=b"last words", qos=qos, retain=True))
    client.abort()
    live = watcher.receive_publish()
    assert (live.payload, live.qos) == (b"last words", qos)
    later = raw(version, "later")
    later.subscribe("will/t", 2)
    stored = later.receive_publish()
    assert (stored.payload, stored.qos, stored.retain) == (b"last words", qos, True)


def test_keepalive_timeout_closes_and_publishes_will(raw, version, watcher):
    """v311[MQTT-3.1.2-24] v5[MQTT-3.1.2-22] v311[MQTT-3.1.2-8] v5[MQTT-3.1.2-8]:
    a client that sends nothing within its keep-alive is disconnected and
    its will is published."""
    client = raw(version, "silent", keepalive=1, will=will(payload=b"timed out"))
    client.wait_closed(timeout=10)
    assert watcher.receive_publish().payload == b"timed out"


@pytest.mark.stellwerk_only(reason="checks keep-alive coarsely: Keep Alive 1 s closes after ~5.5 s")
def test_keepalive_timeout_within_one_and_a_half_times(raw, version):
    """v311[MQTT-3.1.2-24] v5[MQTT-3.1.2-22] v5[MQTT-3.2.2-22]: with Keep Alive
    1 s and no traffic the server closes the connection after 1.5 s (plus
    scheduling slack), not before 1 s."""
    client = raw(version, "silent", keepalive=1)
    started = time.monotonic()
    client.wait_closed(timeout=5)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 2.5, elapsed


def test_keepalive_kept_by_pings(raw, version, watcher):
    """v311[MQTT-3.1.2-24] v5[MQTT-3.1.2-22]: a client that pings within the
    keep-alive stays connected and no will is sent."""
    client = raw(version, "pinging", keepalive=1, will=will(payload=b"should not appear"))
    for _ in range(6):
        time.sleep(0.5)
        client.send(pingreq_packet())
        assert client.recv(2).name == "PINGRESP"
    watcher.expect_nothing(0.1)


def test_v5_will_user_properties_forwarded_in_order(raw):
    """v5[MQTT-3.1.3-10]: the will's user properties reach the subscriber in
    their order."""
    watcher = raw(V5, "will-watcher")
    watcher.subscribe("will/#", 1)
    pairs = [("z", "1"), ("a", "2"), ("z", "3")]
    client = raw(V5, "props", will=will(props=[(USER_PROPERTY, p) for p in pairs]))
    client.abort()
    assert watcher.receive_publish().props(USER_PROPERTY) == pairs


def test_v5_will_delay_interval(raw):
    """v5[MQTT-3.1.2-8]: with a Will Delay Interval of 2 s the will is
    published only after that delay."""
    watcher = raw(V5, "will-watcher")
    watcher.subscribe("will/#", 1)
    client = raw(V5, "delayed", props=[(SESSION_EXPIRY_INTERVAL, 60)],
                 will=will(payload=b"delayed", props=[(WILL_DELAY_INTERVAL, 2)]))
    client.abort()
    started = time.monotonic()
    watcher.expect_nothing(1.2)
    assert watcher.receive_publish(timeout=5).payload == b"delayed"
    assert time.monotonic() - started >= 1.8


def test_v5_will_not_sent_when_client_returns_within_delay(raw):
    """v5[MQTT-3.1.3-9]: reconnecting to the session before the will delay
    has passed cancels the will."""
    watcher = raw(V5, "will-watcher")
    watcher.subscribe("will/#", 1)
    props = [(SESSION_EXPIRY_INTERVAL, 60)]
    client = raw(V5, "returning", props=props, clean=False,
                 will=will(payload=b"should not appear", props=[(WILL_DELAY_INTERVAL, 2)]))
    client.abort()
    time.sleep(0.5)
    raw(V5, "returning", props=props, clean=False)
    watcher.expect_nothing(2.5)


def test_v5_will_sent_when_session_ends_before_delay(raw):
    """v5[MQTT-3.1.2-8]: the will goes out when the session ends, even if the
    will delay is longer than the session expiry."""
    watcher = raw(V5, "will-watcher")
    watcher.subscribe("will/#", 1)
    client = raw(V5, "short-session", props=[(SESSION_EXPIRY_INTERVAL, 1)],
                 will=will(payload=b"session over", props=[(WILL_DELAY_INTERVAL, 30)]))
    client.abort()
    assert watcher.receive_publish(timeout=5).payload == b"session over"


def test_v5_disconnect_with_will_message_reason_sends_will(raw):
    """v5[MQTT-3.1.2-10] v5[MQTT-3.14.4-3]: only DISCONNECT 0x00 discards the
    will; 0x04 (Disconnect with Will Message) publishes it."""
    watcher = raw(V5, "will-watcher")
    watcher.subscribe("will/#", 1)
    client = raw(V5, "leaving", will=will(payload=b"asked for"))
    client.disconnect(reason_code=0x04)
    assert watcher.receive_publish().payload == b"asked for"


def test_will_not_published_twice(raw, version, watcher):
    """v311[MQTT-3.1.2-10] v5[MQTT-3.1.2-10]: once published the will is
    removed; the connection's end publishes it exactly once."""
    client = raw(version, "once", will=will(payload=b"once", qos=1))
    client.abort()
    assert [p.payload for p in watcher.collect(0.8)] == [b"once"]
