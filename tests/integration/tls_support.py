"""Helpers for the TLS and WebSocket integration tests.

A throwaway PKI made with the `openssl` CLI at test time (no key material is
kept in the tree), a broker with extra listeners on their own free ports
beside the harness's plain one, a RawClient that speaks through TLS, and a
small WebSocket (RFC 6455) client side for raw frame tests.
"""

import base64
import contextlib
import hashlib
import os
import pathlib
import shutil
import socket
import ssl
import struct
import subprocess
import time
from dataclasses import dataclass

import pytest

from harness import free_port, sanitizer_report, start_broker, wait_port
from pahoclient import PahoClient
from rawmqtt import Closed, RawClient, parse_packet

OPENSSL_TIMEOUT_S = 30

# One config for every openssl call: `ca` needs a database for revocation,
# and the sections give the certificates the extensions they need.
_OPENSSL_CNF = """\
[ca]
default_ca = test_ca
[test_ca]
dir = {dir}
database = $dir/index.txt
certificate = $dir/ca.crt
private_key = $dir/ca.key
crlnumber = $dir/crlnumber
new_certs_dir = $dir
default_md = sha256
default_crl_days = 2
policy = any_name
[any_name]
commonName = supplied
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
"""


@dataclass
class Endpoint:
    """Where a listener is: what RawClient and PahoClient need of a broker."""
    host: str
    port: int


@dataclass
class KeyPair:
    cert: str
    key: str


@dataclass
class Pki:
    """Paths of a test PKI: ca signs server, good and revoked (whose
    revocation is in crl); other_ca signs other."""
    ca: str
    other_ca: str
    crl: str
    server: KeyPair
    good: KeyPair
    other: KeyPair
    revoked: KeyPair


GOOD_CLIENT_CN = "good-client"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                   timeout=OPENSSL_TIMEOUT_S)


def _make_ca(ca_dir, cnf, common_name):
    """A self-signed CA with its database, in ca_dir (ca.crt, ca.key)."""
    os.makedirs(ca_dir)
    pathlib.Path(cnf).write_text(_OPENSSL_CNF.format(dir=ca_dir))
    pathlib.Path(ca_dir, "index.txt").write_text("")
    pathlib.Path(ca_dir, "crlnumber").write_text("01\n")
    _openssl("req", "-config", cnf, "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", f"/CN={common_name}", "-extensions", "ca_ext", cwd=ca_dir)


def _issue(ca_dir, cnf, name, common_name, extensions, serial):
    """A key and certificate signed by the CA in ca_dir."""
    _openssl("req", "-config", cnf, "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", f"/CN={common_name}", cwd=ca_dir)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-set_serial", str(serial), "-days", "2", "-sha256", "-extfile", cnf,
             "-extensions", extensions, "-out", f"{name}.crt", cwd=ca_dir)
    return KeyPair(cert=os.path.join(ca_dir, f"{name}.crt"),
                   key=os.path.join(ca_dir, f"{name}.key"))


def make_pki(directory):
    """Creates the test PKI under directory and returns its paths."""
    ca_dir, other_dir = os.path.join(directory, "ca"), os.path.join(directory, "other")
    cnf, other_cnf = os.path.join(directory, "ca.cnf"), os.path.join(directory, "other.cnf")
    _make_ca(ca_dir, cnf, "Stellwerk Test CA")
    _make_ca(other_dir, other_cnf, "Some Other CA")
    server = _issue(ca_dir, cnf, "server", "localhost", "server_ext", 1001)
    good = _issue(ca_dir, cnf, "good", GOOD_CLIENT_CN, "client_ext", 1002)
    revoked = _issue(ca_dir, cnf, "revoked", "revoked-client", "client_ext", 1003)
    # Same common name as the good client: only the issuer tells them apart.
    other = _issue(other_dir, other_cnf, "other", GOOD_CLIENT_CN, "client_ext", 1002)
    _openssl("ca", "-config", cnf, "-revoke", revoked.cert, cwd=ca_dir)
    _openssl("ca", "-config", cnf, "-gencrl", "-out", "crl.pem", cwd=ca_dir)
    return Pki(ca=os.path.join(ca_dir, "ca.crt"), other_ca=os.path.join(other_dir, "ca.crt"),
               crl=os.path.join(ca_dir, "crl.pem"), server=server, good=good, other=other,
               revoked=revoked)


def have_openssl():
    return shutil.which("openssl") is not None


# ---------------------------------------------------------------- brokers

@contextlib.contextmanager
def broker_with_listeners(sections, global_config=""):
    """Starts a broker with extra listeners on 127.0.0.1. sections is a list
    of config line lists, one per listener (without the `listener` line).
    Yields (broker, [Endpoint, ...]) once every listener accepts; fails the
    test if the broker's log holds a sanitizer report, as the harness does."""
    ports = _distinct_free_ports(len(sections))
    blocks = [global_config]
    for port, lines in zip(ports, sections):
        blocks.append("\n".join([f"listener {port} 127.0.0.1", *lines]))
    with start_broker(config="\n".join(blocks)) as broker:
        endpoints = [Endpoint("127.0.0.1", port) for port in ports]
        for endpoint in endpoints:
            if not wait_port(endpoint.port, proc=broker.proc):
                raise RuntimeError(f"listener {endpoint.port} did not open; log:\n{broker.log()}")
        yield broker, endpoints
        broker.stop()
        report = sanitizer_report(broker.log())
    if report:
        pytest.fail(f"sanitizer report from the broker:\n{report}")


def _distinct_free_ports(count):
    ports = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def tls_listener(pki, *extra):
    """Config lines of a TLS listener with the test CA and server key."""
    return [f"cafile {pki.ca}", f"certfile {pki.server.cert}", f"keyfile {pki.server.key}", *extra]


# ---------------------------------------------------------------- clients

def client_context(cafile, cert=None, minimum=None, maximum=None):
    """An ssl client context that trusts cafile and checks the host name;
    cert is a KeyPair to present, minimum/maximum ssl.TLSVersion bounds."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    return context


class TlsRawClient(RawClient):
    """RawClient through TLS: the handshake runs in the constructor and may
    raise ssl.SSLError (or a connection error) there."""

    def __init__(self, endpoint, version, context, timeout=5.0):
        super().__init__(endpoint, version, timeout)
        self.sock = context.wrap_socket(self.sock, server_hostname=endpoint.host)

    def tls_version(self):
        return self.sock.version()


# What a client sees when the broker refuses it during or right after the
# TLS handshake (with TLS 1.3 the client's certificate is checked after the
# client has finished its side of the handshake, so the refusal may only show
# on the first read).
REFUSED = (ssl.SSLError, ConnectionError, OSError)


def tls_connack(endpoint, version, context, client_id="tls-probe"):
    """The CONNACK reason code a TLS client gets, or the exception that
    stopped it before a CONNACK (as a string, prefixed with "refused: ")."""
    try:
        client = TlsRawClient(endpoint, version, context)
    except REFUSED as exc:
        return f"refused: {exc!r}"
    try:
        return client.connect(client_id).reason_code
    except (Closed, TimeoutError, *REFUSED) as exc:
        return f"refused: {exc!r}"
    finally:
        client.close()


def paho_client(endpoint, version, client_id="", cafile=None, cert=None, transport="tcp",
                tls_insecure=False):
    """A PahoClient (not yet connected) for endpoint; with cafile it speaks
    TLS and presents cert (a KeyPair) if given."""
    client = PahoClient(endpoint, version, client_id)
    if transport != "tcp":
        # paho 1.6.1 takes the transport only in its constructor, which
        # PahoClient calls; the attribute is what reconnect() reads.
        client.client._transport = transport  # pylint: disable=protected-access
    if cafile is not None:
        client.client.tls_set(ca_certs=cafile, certfile=cert.cert if cert else None,
                              keyfile=cert.key if cert else None,
                              tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.client.tls_insecure_set(tls_insecure)
    return client


def mosquitto_tls_args(endpoint, cafile=None, cert=None, tls_version=None, psk=None):
    """Connection options for mosquitto_pub/mosquitto_sub. psk is
    (identity, hexkey)."""
    args = ["-h", endpoint.host, "-p", str(endpoint.port)]
    if cafile:
        args += ["--cafile", cafile]
    if cert is not None:
        args += ["--cert", cert.cert, "--key", cert.key]
    if tls_version:
        args += ["--tls-version", tls_version]
    if psk is not None:
        args += ["--psk-identity", psk[0], "--psk", psk[1]]
    return args


def cli_round_trip(connection_args, version, topic, message, qos=1, timeout=10.0):
    """Runs mosquitto_sub (one message) and publishes with mosquitto_pub
    until it arrives or timeout passes. Returns (sub exit code, sub stdout,
    sub stderr, last pub result)."""
    sub = subprocess.Popen(["mosquitto_sub", *connection_args, "-V", version, "-t", topic,
                            "-q", str(qos), "-C", "1", "-W", str(int(timeout)), "-v"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pub = None
    try:
        deadline = time.monotonic() + timeout
        while sub.poll() is None and time.monotonic() < deadline:
            pub = subprocess.run(["mosquitto_pub", *connection_args, "-V", version, "-t", topic,
                                  "-m", message, "-q", str(qos)],
                                 capture_output=True, text=True, timeout=timeout)
            time.sleep(0.2)
        out, err = sub.communicate(timeout=timeout)
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
    return sub.returncode, out, err, pub


def cli_publish(connection_args, version, topic, message):
    """One mosquitto_pub run; returns the CompletedProcess."""
    return subprocess.run(["mosquitto_pub", *connection_args, "-V", version, "-t", topic,
                           "-m", message, "-q", "1"],
                          capture_output=True, text=True, timeout=15)


# ---------------------------------------------------------------- WebSocket

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def ws_accept_key(key):
    digest = hashlib.sha1((key + WS_GUID).encode()).digest()
    return base64.b64encode(digest).decode()


def ws_frame(opcode, payload, fin=True, mask=True):
    """A client frame (masked unless mask=False)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WsRawConnection:
    """A WebSocket client connection at the frame level: handshake on
    construction, then send frames and read the server's frames."""

    def __init__(self, endpoint, path="/mqtt", subprotocol="mqtt", timeout=5.0):
        self.sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
        self.timeout = timeout
        self._buffer = b""
        self._mqtt = b""  # MQTT bytes received but not yet parsed
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {endpoint.host}:{endpoint.port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n")
        self.sock.sendall(request.encode())
        self.response_head = self._read_head()
        self.status_line = self.response_head.split("\r\n", 1)[0]
        self.headers = _parse_headers(self.response_head)
        self.expected_accept = ws_accept_key(key)

    def _read_head(self):
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        return head.decode("latin-1")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self._buffer += chunk

    def _take(self, count):
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def send(self, data):
        self.sock.sendall(data)

    def recv_frame(self, timeout=None):
        """(opcode, fin, payload) of the next frame; raises ConnectionError
        when the server closes, socket.timeout when nothing comes."""
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8))[0]
        key = self._take(4) if second & 0x80 else None
        payload = self._take(length)
        if key is not None:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return first & 0x0F, bool(first & 0x80), payload

    def recv_packets(self, version, count, timeout=None):
        """The next count MQTT packets, from however many binary or
        continuation frames they span."""
        packets = []
        while len(packets) < count:
            split = split_packet(version, self._mqtt)
            if split is not None:
                packet, self._mqtt = split
                packets.append(packet)
                continue
            opcode, _fin, payload = self.recv_frame(timeout)
            if opcode in (OP_BINARY, OP_CONTINUATION):
                self._mqtt += payload
            elif opcode == OP_CLOSE:
                raise ConnectionError(f"close frame {payload!r}")
        return packets

    def closed_by_server(self, timeout=5.0):
        """True if the server sends a close frame or closes the TCP
        connection within timeout (data frames before that are skipped)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                opcode, _fin, _payload = self.recv_frame(max(0.01, deadline - time.monotonic()))
                if opcode == OP_CLOSE:
                    return True
        except TimeoutError:
            return False
        except (ConnectionError, OSError):
            return True
        return False

    def close(self):
        self.sock.close()


def _parse_headers(head):
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def split_packet(version, data):
    """(first whole MQTT packet parsed, rest) or None while data holds only
    part of one."""
    length, shift, index = 0, 0, 1
    while True:
        if index >= len(data):
            return None
        byte = data[index]
        length |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            break
        shift += 7
    end = index + length
    if len(data) < end:
        return None
    packet = parse_packet(version, data[0] >> 4, data[0] & 0x0F, data[index:end], end)
    return packet, data[end:]
