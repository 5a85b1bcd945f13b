"""Wills of clients that were connected when the broker was killed (kill -9).

For a client, a broker that dies is a network connection that closed without
DISCONNECT, so its will must still go out [MQTT-3.1.2-8]: when the broker
starts again on its store, every persistent session that had a connection
attached publishes its will (or starts the will delay) and starts its expiry.
Driven with paho (Debian's python3-paho-mqtt, /usr/bin/python3).

mosquitto 2.0.11 keeps sessions only as of its last autosave and does not do
this after kill -9: the tests are stellwerk_only.
"""

import time

import pytest

from auth_support import restartable_broker
from pahoclient import PahoClient, connect_properties, will_properties

REASON = "kill -9 loses mosquitto's sessions since its last autosave; no will after a crash"
pytestmark = pytest.mark.stellwerk_only(reason=REASON)

V311, V5 = 4, 5


@pytest.fixture(name="durable")
def durable_fixture(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    config = f"persistence true\npersistence_location {store}/\npersistence_sync always"
    with restartable_broker(tmp_path, config) as broker:
        yield broker


def persistent(durable, version, client_id, will=None):
    """A connected paho client with a persistent session (clean session 0;
    v5: session expiry 3600 s), with `will` = (topic, payload, qos, retain,
    will properties) if given."""
    client = PahoClient(durable.broker, version, client_id, clean=False)
    if will:
        client.will_set(*will)
    props = connect_properties(SessionExpiryInterval=3600) if version == V5 else None
    assert client.connect(props) == 0
    return client


def watcher(durable):
    client = persistent(durable, V5, "watcher")
    client.subscribe("will/#", 1)
    return client


def kill9_and_restart(durable, *clients):
    durable.restart("kill9")
    for client in clients:
        client.wait_disconnected()
        client.close()


def retained_will(durable):
    """(topic, payload, retain) of what a new subscriber to will/# gets first."""
    late = PahoClient(durable.broker, V5, "late")
    assert late.connect() == 0
    late.subscribe("will/#", 1)
    message = late.expect_message()
    late.close()
    return (message.topic, message.payload, message.retain)


@pytest.mark.parametrize("version", [V311, V5], ids=["3.1.1", "5"])
def test_will_published_after_kill9_restart(durable, version):
    """v311[MQTT-3.1.2-8] v5[MQTT-3.1.2-8] [MQTT-3.1.2-9]: a persistent
    client with a will was connected when the broker was killed; after the
    restart, a persistent subscriber that was connected too gets the will,
    at its QoS, once it resumes its session."""
    before = watcher(durable)
    device = persistent(durable, version, "device", ("will/device", b"crashed", 1, False, None))
    kill9_and_restart(durable, before, device)
    after = PahoClient(durable.broker, V5, "watcher", clean=False)
    assert after.connect(connect_properties(SessionExpiryInterval=3600)) == 0
    assert after.session_present()
    message = after.expect_message()
    assert (message.topic, message.payload, message.qos) == ("will/device", b"crashed", 1)
    after.expect_no_message(1.0)
    after.close()


def test_retained_will_after_kill9_restart_reaches_a_new_subscriber(durable):
    """v5[MQTT-3.1.2-8] v5[MQTT-3.1.2-15]: a retained will of a client that
    was connected at the crash is the topic's retained message after the
    restart, for a subscriber that comes only then."""
    device = persistent(durable, V5, "device", ("will/retained", b"offline", 1, True, None))
    kill9_and_restart(durable, device)
    assert retained_will(durable) == ("will/retained", b"offline", True)


def test_will_delay_runs_from_the_restart(durable):
    """v5[MQTT-3.1.2-8]: with a Will Delay Interval the will goes out that
    long after the restart, not at once."""
    device = persistent(durable, V5, "device",
                        ("will/delayed", b"late", 1, False, will_properties(WillDelayInterval=2)))
    kill9_and_restart(durable, device)
    started = time.monotonic()
    listener = PahoClient(durable.broker, V5, "listener")
    assert listener.connect() == 0
    listener.subscribe("will/#", 1)
    message = listener.expect_message(timeout=10)
    assert message.payload == b"late"
    assert time.monotonic() - started >= 1.0, "published before its delay"
    listener.close()


def test_will_published_at_restart_survives_a_second_crash(durable):
    """v5[MQTT-3.1.2-8] [MQTT-4.3.2-2]: what the restart itself does is
    durable: the will it published stays queued for an offline persistent
    subscriber and retained across a second kill -9, also after the device
    came back without a will (so a second restart has no will to publish)."""
    before = watcher(durable)
    before.disconnect()
    device = persistent(durable, V5, "device", ("will/twice", b"gone", 1, True, None))
    kill9_and_restart(durable, before, device)
    device = persistent(durable, V5, "device")
    device.disconnect()
    durable.restart("kill9")
    after = PahoClient(durable.broker, V5, "watcher", clean=False)
    assert after.connect(connect_properties(SessionExpiryInterval=3600)) == 0
    assert after.session_present()
    message = after.expect_message()
    assert (message.topic, message.payload) == ("will/twice", b"gone")
    after.expect_no_message(1.0)
    after.close()
    assert retained_will(durable) == ("will/twice", b"gone", True)
