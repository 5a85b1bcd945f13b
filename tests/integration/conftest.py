"""pytest wiring for the integration suite: the broker fixture, the protocol
version matrix and the stellwerk_only marker.

stellwerk_only(reason) marks a test whose expectation Debian's mosquitto
2.0.11 does not meet (it deviates from the spec, or from a choice Stellwerk
makes). Such a test is skipped, with the reason, only when BROKER_KIND is
mosquitto; against Stellwerk nothing is ever skipped.
"""

import pytest

from harness import broker_fixture, broker_kind  # noqa: F401  (registers the fixture)
from pahoclient import PahoClient
from rawmqtt import V311, V5, RawClient


def pytest_configure(config):
    config.addinivalue_line("markers", "broker_config(text): extra broker config lines")
    config.addinivalue_line(
        "markers", "stellwerk_only(reason): mosquitto deviates here; skipped for mosquitto only")


def pytest_collection_modifyitems(config, items):
    if broker_kind() != "mosquitto":
        return
    for item in items:
        marker = item.get_closest_marker("stellwerk_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"mosquitto 2.0.11: {reason}"))


@pytest.fixture(params=[V311, V5], ids=["v311", "v5"])
def version(request):
    """Runs a test once for MQTT 3.1.1 and once for MQTT 5."""
    return request.param


@pytest.fixture
def paho(broker):
    """Factory for connected paho clients, closed after the test:
    paho(version, client_id="", clean=True, keepalive=60, connect=True)."""
    made = []

    def make(version, client_id="", clean=True, keepalive=60, connect=True, properties=None):
        client = PahoClient(broker, version, client_id, clean, keepalive)
        made.append(client)
        if connect:
            assert client.connect(properties) == 0
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def raw(broker):
    """Factory for RawClient connections, closed after the test:
    raw(version, client_id=None, **connect_args) connects when client_id is
    given (use "" for an empty id) and asserts the CONNACK accepted it."""
    made = []

    def make(version, client_id=None, **connect_args):
        client = RawClient(broker, version)
        made.append(client)
        if client_id is not None:
            connack = client.connect(client_id, **connect_args)
            assert connack.reason_code == 0, connack
        return client

    yield make
    for client in made:
        client.close()
