"""wakeup_coalescing_us (Stellwerk only): a worker that wakes often pauses
before it sleeps again. Messages may wait up to the pause, but none is lost,
doubled or reordered, and a client that waits for each answer still gets
it. Timing is not checked (benchmarks never fail on it); the figures are in
docs/performance.md.
"""

import subprocess

import pytest

from pahoclient import PahoClient
from test_bench import assert_clean, bench

COALESCING = pytest.mark.broker_config("wakeup_coalescing_us 2000\nmax_inflight_messages 0")
STELLWERK_ONLY = pytest.mark.stellwerk_only("wakeup_coalescing_us is Stellwerk's setting")


@STELLWERK_ONLY
@COALESCING
def test_slow_pairs_arrive_whole_and_in_order(broker):
    """[MQTT-4.6.0-6]: many clients that each publish now and then, the load
    the setting is for; QoS 1, every delivery checked by the generator."""
    code, summary = bench(broker, "slow", "-n", "300", "-q", "1", "-r", "20", "-w", "0.5", "-d", "2")
    assert_clean(code, summary)


@STELLWERK_ONLY
@COALESCING
@pytest.mark.parametrize("qos", [1, 2])
def test_one_message_at_a_time_clients_get_every_answer(broker, qos):
    """[MQTT-4.6.0-6]: mosquitto_pub -l waits for each acknowledgement before
    it sends the next line, so every one of its messages meets a pause; a
    paho subscriber gets them all, in order."""
    subscriber = PahoClient(broker, 4)
    try:
        assert subscriber.connect() == 0
        subscriber.subscribe("paused/#", qos)
        lines = [f"line {i}" for i in range(50)]
        subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-t", "paused/lines",
                        "-q", str(qos), "-l"], input="\n".join(lines) + "\n", text=True, check=True,
                       timeout=30, capture_output=True)
        received = [subscriber.expect_message().payload.decode() for _ in lines]
        assert received == lines
    finally:
        subscriber.close()
