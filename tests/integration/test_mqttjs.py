"""MQTT.js (npm `mqtt`, pinned 5.x in the repo's package.json) against the
broker: connect, subscribe at QoS 2, publish and receive at QoS 0, 1 and 2,
over MQTT 3.1.1 and 5 (user properties must survive for 5).

The Node side lives in mqttjs_client.js; node_modules comes from
scripts/install-deps (`npm ci` at the repo root).
"""

import json
import pathlib
import shutil
import subprocess

from harness import REPO_ROOT

SCRIPT = pathlib.Path(__file__).with_name("mqttjs_client.js")


def run_mqttjs(broker, version):
    node = shutil.which("node")
    assert node, "node is not installed (scripts/install-deps installs it)"
    assert (REPO_ROOT / "node_modules" / "mqtt").is_dir(), \
        "MQTT.js is missing: run scripts/install-deps (npm ci at the repo root)"
    result = subprocess.run([node, str(SCRIPT), str(broker.port), str(version)],
                            capture_output=True, text=True, timeout=30, check=False)
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output from MQTT.js; stderr:\n{result.stderr}"
    report = json.loads(lines[-1])
    assert result.returncode == 0 and report["ok"], (report, result.stderr)
    return report


def test_mqttjs_round_trip(broker, version):
    """[MQTT-3.3.4-1] [MQTT-3.8.4-1]: MQTT.js subscribes (granted QoS 2) and
    gets its own messages back at QoS 0, 1 and 2 with their payloads; v5
    user properties arrive unaltered (v5[MQTT-3.3.2-17]). A third-party
    client needs no extension to talk to the broker (v311[MQTT-7.0.0-2])."""
    report = run_mqttjs(broker, version)
    assert report["granted"] == [2]
    received = report["received"]
    assert [(m["qos"], m["payload"]) for m in received] == \
        [(qos, f"hello qos {qos}") for qos in (0, 1, 2)]
    if version == 5:
        assert [m["userProperties"] for m in received] == \
            [{"sender": "mqtt.js", "qos": str(qos)} for qos in (0, 1, 2)]
