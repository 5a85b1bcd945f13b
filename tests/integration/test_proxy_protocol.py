"""PROXY protocol on a listener that asks for it (issue 5, point 7), with
mosquitto 2.1's key `enable_proxy_protocol 1|2`: the header from a load
balancer names the real client, whose address the broker logs; a connection
without the header is closed, so nobody can skip the proxy to spoof an
address. Debian's mosquitto 2.0.11 predates the key: stellwerk_only.
"""

import socket
import struct

import pytest

from harness import free_port, start_broker, wait_port
from rawmqtt import V311, V5, Closed, RawClient
from tls_support import Endpoint

pytestmark = pytest.mark.stellwerk_only("mosquitto 2.0.11 has no enable_proxy_protocol")

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v1_header(source, source_port):
    return f"PROXY TCP4 {source} 127.0.0.1 {source_port} 1883\r\n".encode()


def v2_header(source, source_port):
    addresses = socket.inet_aton(source) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", source_port, 1883)
    # version 2, command PROXY; AF_INET over STREAM
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(addresses)) + addresses


class ProxiedClient(RawClient):
    """A RawClient whose first bytes are a PROXY header, as HAProxy sends."""

    def __init__(self, endpoint, version, header):
        super().__init__(endpoint, version)
        self.send(header)


@pytest.mark.parametrize("version_key,header", [("1", v1_header), ("2", v2_header)])
@pytest.mark.parametrize("mqtt_version", [V311, V5])
def test_the_real_client_address_comes_from_the_header(version_key, header, mqtt_version):
    port = free_port()
    with start_broker(config=f"listener {port} 127.0.0.1\nenable_proxy_protocol {version_key}\n") as broker:
        assert wait_port(port, proc=broker.proc)
        endpoint = Endpoint("127.0.0.1", port)
        client = ProxiedClient(endpoint, mqtt_version, header("203.0.113.7", 40001))
        assert client.connect("behind-proxy").reason_code == 0
        client.subscribe("proxy/#", options=1)
        client.publish("proxy/t", b"x", qos=1)
        assert client.receive_publish().payload == b"x"
        client.close()
        assert "203.0.113.7:40001" in broker.log()

        bare = RawClient(endpoint, mqtt_version)
        bare.send(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")  # CONNECT without a header
        with pytest.raises(Closed):
            bare.recv(timeout=3.0)
        assert "PROXY header refused" in broker.log() or "no PROXY" in broker.log()
