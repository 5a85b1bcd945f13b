"""MQTT over WebSocket (`protocol websockets` listeners, MQTT spec chapter 6):
MQTT.js in node (ws:// and wss://) and paho (transport="websockets") at
QoS 0, 1 and 2 for MQTT 3.1.1 and 5, plus a raw client that writes frames by
hand: several packets in one frame, one packet over several frames, and
frames the broker must refuse (unmasked, text).
"""

import json
import shutil
import subprocess

import pytest

from harness import REPO_ROOT
from rawmqtt import (CONNACK, PUBACK, PUBLISH, SUBACK, V5, connect_packet,
                     publish_packet, subscribe_packet)
from tls_support import (OP_BINARY, OP_CONTINUATION, OP_TEXT, WsRawConnection,
                         broker_with_listeners, have_openssl, make_pki, paho_client,
                         tls_listener, ws_frame)

# MQTT.js: subscribe at QoS 2 and get one message back at each QoS.
MQTTJS_SCRIPT = r"""
'use strict';
const fs = require('fs');
const mqtt = require('mqtt');
const [url, version, cafile] = process.argv.slice(1);
const protocolVersion = Number(version);
const topic = `ws/mqttjs/v${protocolVersion}`;
const fail = (message) => {
  console.log(JSON.stringify({ ok: false, error: String(message) }));
  process.exit(1);
};
setTimeout(() => fail('timed out'), 8000);
async function main() {
  const options = { protocolVersion, clientId: `mqttjs-ws-${protocolVersion}`, clean: true,
                    reconnectPeriod: 0 };
  if (cafile) Object.assign(options, { ca: fs.readFileSync(cafile), rejectUnauthorized: true });
  const client = await mqtt.connectAsync(url, options);
  const received = [];
  client.on('message', (_topic, payload, packet) =>
    received.push({ qos: packet.qos, payload: payload.toString() }));
  const granted = await client.subscribeAsync(topic, { qos: 2 });
  for (const qos of [0, 1, 2]) await client.publishAsync(topic, `ws qos ${qos}`, { qos });
  while (received.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
  await client.endAsync();
  received.sort((a, b) => a.qos - b.qos);
  console.log(JSON.stringify({ ok: true, granted: granted.map((g) => g.qos), received }));
  process.exit(0);
}
main().catch(fail);
"""

EXPECTED_RECEIVED = [{"qos": qos, "payload": f"ws qos {qos}"} for qos in (0, 1, 2)]


def run_mqttjs(url, version, cafile=None):
    node = shutil.which("node")
    assert node, "node is not installed (scripts/install-deps installs it)"
    assert (REPO_ROOT / "node_modules" / "mqtt").is_dir(), \
        "MQTT.js is missing: run scripts/install-deps (npm ci at the repo root)"
    args = [node, "-e", MQTTJS_SCRIPT, url, str(version)] + ([cafile] if cafile else [])
    result = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False,
                            cwd=REPO_ROOT)
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output from MQTT.js; stderr:\n{result.stderr}"
    report = json.loads(lines[-1])
    assert result.returncode == 0 and report["ok"], (report, result.stderr)
    return report


@pytest.fixture(name="ws")
def ws_fixture():
    """A broker with a WebSocket listener: (broker, Endpoint)."""
    with broker_with_listeners([["protocol websockets"]]) as (broker, (endpoint,)):
        yield broker, endpoint


def test_mqttjs_round_trip(ws, version):
    """[MQTT-6.0.0-3] [MQTT-3.3.4-1]: MQTT.js over ws://.../mqtt subscribes at
    QoS 2 and gets its messages back at QoS 0, 1 and 2."""
    _broker, endpoint = ws
    report = run_mqttjs(f"ws://127.0.0.1:{endpoint.port}/mqtt", version)
    assert report["granted"] == [2]
    assert report["received"] == EXPECTED_RECEIVED


def test_paho_round_trip(ws, version):
    """[MQTT-3.3.4-1]: paho with transport="websockets" at QoS 0, 1 and 2,
    and a client on the plain TCP port receives the same messages."""
    broker, endpoint = ws
    client = paho_client(endpoint, version, transport="websockets")
    tcp = paho_client(broker, version)
    try:
        assert client.connect() == 0
        assert tcp.connect() == 0
        client.subscribe("ws/paho", qos=2)
        tcp.subscribe("ws/paho", qos=2)
        for qos in (0, 1, 2):
            client.publish("ws/paho", f"paho {qos}".encode(), qos=qos)
        for receiver in (client, tcp):
            got = sorted((m.qos, m.payload) for m in (receiver.expect_message() for _ in range(3)))
            assert got == [(qos, f"paho {qos}".encode()) for qos in (0, 1, 2)]
    finally:
        client.close()
        tcp.close()


def test_handshake_selects_mqtt_subprotocol(ws):
    """[MQTT-6.0.0-4]: the upgrade answer is 101 with the right
    Sec-WebSocket-Accept and the subprotocol "mqtt"."""
    _broker, endpoint = ws
    conn = WsRawConnection(endpoint)
    try:
        assert " 101 " in conn.status_line + " ", conn.response_head
        assert conn.headers.get("sec-websocket-accept") == conn.expected_accept
        assert conn.headers.get("sec-websocket-protocol", "").lower() == "mqtt"
    finally:
        conn.close()


@pytest.fixture(name="ws_raw")
def ws_raw_fixture(ws, version):
    """A raw WebSocket connection that has sent CONNECT and SUBSCRIBE
    (ws/raw/#, QoS 1) in one frame and read CONNACK and SUBACK."""
    _broker, endpoint = ws
    conn = WsRawConnection(endpoint)
    try:
        both = connect_packet(version, "ws-raw") + subscribe_packet(version, 1, [("ws/raw/#", 1)])
        conn.send(ws_frame(OP_BINARY, both))
        connack, suback = conn.recv_packets(version, 2)
        assert (connack.type, connack.reason_code) == (CONNACK, 0)
        assert (suback.type, suback.reason_codes) == (SUBACK, [1])
        yield conn
    finally:
        conn.close()


def test_two_packets_in_one_frame(ws_raw, version):
    """[MQTT-6.0.0-2]: CONNECT + SUBSCRIBE in one frame both count (the
    fixture), and so do two PUBLISHes in one frame."""
    two = publish_packet(version, "ws/raw/a", b"first", qos=1, pid=10) + \
        publish_packet(version, "ws/raw/b", b"second", qos=1, pid=11)
    ws_raw.send(ws_frame(OP_BINARY, two))
    packets = ws_raw.recv_packets(version, 4)
    assert sorted(p.pid for p in packets if p.type == PUBACK) == [10, 11]
    assert sorted((p.topic, p.payload) for p in packets if p.type == PUBLISH) == \
        [("ws/raw/a", b"first"), ("ws/raw/b", b"second")]


@pytest.mark.parametrize("fragmented", [False, True], ids=["messages", "fragments"])
def test_packet_split_across_frames(ws_raw, version, fragmented):
    """[MQTT-6.0.0-2]: a PUBLISH cut into three pieces, sent as three binary
    messages or as one fragmented message (binary + continuation frames),
    arrives whole."""
    packet = publish_packet(version, "ws/raw/split", b"x" * 300, qos=1, pid=20)
    pieces = [packet[:1], packet[1:40], packet[40:]]
    if fragmented:
        frames = [ws_frame(OP_BINARY, pieces[0], fin=False),
                  ws_frame(OP_CONTINUATION, pieces[1], fin=False),
                  ws_frame(OP_CONTINUATION, pieces[2], fin=True)]
    else:
        frames = [ws_frame(OP_BINARY, piece) for piece in pieces]
    for frame in frames:
        ws_raw.send(frame)
    packets = ws_raw.recv_packets(version, 2)
    assert [p.pid for p in packets if p.type == PUBACK] == [20]
    assert [(p.topic, p.payload) for p in packets if p.type == PUBLISH] == \
        [("ws/raw/split", b"x" * 300)]


@pytest.mark.stellwerk_only(reason="with libwebsockets it accepts MQTT in text frames and in "
                            "unmasked frames and answers with a CONNACK")
@pytest.mark.parametrize("bad_frame", ["unmasked", "text"])
def test_bad_frame_closes_connection(ws, version, bad_frame):
    """[MQTT-6.0.0-1]: MQTT in a text frame closes the connection; so does an
    unmasked client frame (RFC 6455 section 5.1). The broker keeps serving
    other WebSocket clients."""
    _broker, endpoint = ws
    connect = connect_packet(version, f"ws-bad-{bad_frame}")
    frame = ws_frame(OP_BINARY, connect, mask=False) if bad_frame == "unmasked" \
        else ws_frame(OP_TEXT, connect)
    conn = WsRawConnection(endpoint)
    try:
        conn.send(frame)
        assert conn.closed_by_server(timeout=5)
    finally:
        conn.close()
    other = WsRawConnection(endpoint)
    try:
        other.send(ws_frame(OP_BINARY, connect_packet(version, "ws-good")))
        (connack,) = other.recv_packets(version, 1)
        assert (connack.type, connack.reason_code) == (CONNACK, 0)
    finally:
        other.close()


@pytest.fixture(name="wss")
def wss_fixture(tmp_path_factory):
    """A broker with a WebSocket listener over TLS: (pki, Endpoint)."""
    if not have_openssl():
        pytest.skip("the openssl CLI is needed")
    pki = make_pki(str(tmp_path_factory.mktemp("pki")))
    with broker_with_listeners([["protocol websockets", *tls_listener(pki)]]) as (_b, (ep,)):
        yield pki, ep


def test_mqttjs_over_wss(wss, version):
    """[MQTT-3.3.4-1]: MQTT.js over wss:// verifies the broker's certificate
    against the test CA and gets its messages back at QoS 0, 1 and 2."""
    pki, endpoint = wss
    report = run_mqttjs(f"wss://127.0.0.1:{endpoint.port}/mqtt", version, cafile=pki.ca)
    assert report["received"] == EXPECTED_RECEIVED


def test_paho_over_wss(wss):
    """paho with transport="websockets" and TLS round-trips a QoS 1 message."""
    pki, endpoint = wss
    client = paho_client(endpoint, V5, transport="websockets", cafile=pki.ca)
    try:
        assert client.connect() == 0
        client.subscribe("wss/paho", qos=1)
        client.publish("wss/paho", b"secure ws", qos=1)
        assert client.expect_message().payload == b"secure ws"
    finally:
        client.close()

