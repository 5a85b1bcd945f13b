"""Debian's mosquitto_pub and mosquitto_sub against the broker, for protocol
versions 3.1, 3.1.1 and 5 (their -V option) and QoS 0, 1 and 2.

mosquitto_sub has no "subscribed" signal, so the live test publishes until
the subscriber, limited to one message (-C 1), has printed it and exited.
"""

import subprocess
import time

import pytest

VERSIONS = ["31", "311", "5"]


def mosquitto_pub(broker, version, topic, message, qos=0, retain=False):
    args = ["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-V", version,
            "-t", topic, "-m", message, "-q", str(qos)]
    if retain:
        args.append("-r")
    subprocess.run(args, check=True, timeout=10, capture_output=True)


def mosquitto_sub(broker, version, topic, qos=0):
    """A mosquitto_sub that prints "topic payload" for one message and exits."""
    args = ["mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-V", version,
            "-t", topic, "-q", str(qos), "-C", "1", "-W", "10", "-v"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_retained_round_trip(broker, version, qos):
    """v311[MQTT-3.3.1-6] v5[MQTT-3.3.1-9]: mosquitto_pub -r stores a message
    that a later mosquitto_sub of the same version receives."""
    mosquitto_pub(broker, version, f"cli/{version}/retained", f"kept at {qos}", qos, retain=True)
    sub = mosquitto_sub(broker, version, f"cli/{version}/+", qos)
    out, err = sub.communicate(timeout=15)
    assert sub.returncode == 0, err
    assert out.strip() == f"cli/{version}/retained kept at {qos}"


@pytest.mark.parametrize("pub_version,sub_version",
                         [(v, v) for v in VERSIONS] + [("5", "311"), ("311", "5"), ("31", "5")])
def test_live_round_trip(broker, pub_version, sub_version):
    """[MQTT-3.3.4-1]: a live QoS 1 message from mosquitto_pub reaches a
    running mosquitto_sub, across protocol versions too."""
    sub = mosquitto_sub(broker, sub_version, "cli/live/#", qos=1)
    try:
        deadline = time.monotonic() + 10
        while sub.poll() is None and time.monotonic() < deadline:
            mosquitto_pub(broker, pub_version, "cli/live/t", "live message", qos=1)
            time.sleep(0.1)
        out, err = sub.communicate(timeout=5)
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
    assert sub.returncode == 0, err
    assert out.strip() == "cli/live/t live message"
