"""MQTT 5 enhanced authentication with SCRAM-SHA-256 (RFC 5802 / RFC 7677)
against the real broker: a password file made by `stellwerk passwd -H
scram-sha-256`, MQTT.js doing SCRAM in JavaScript, a byte-level Python
client for the exchange's details, failures and re-authentication, and
mosquitto_pub logging in with a plain password against the same verifier.

mosquitto has no SCRAM, so the whole module is stellwerk_only.
"""

import base64
import hashlib
import hmac
import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess

import pytest

from auth_support import auth_config, wait_for_refusal_log
from harness import REPO_ROOT, sanitizer_report, start_broker, stellwerk_bin
from rawmqtt import (AUTH, AUTHENTICATION_DATA, AUTHENTICATION_METHOD, CONNACK, DISCONNECT,
                     PUBACK, V311, V5, RawClient, connect_packet, fixed_header, properties,
                     publish_packet)

pytestmark = pytest.mark.stellwerk_only(reason="mosquitto 2.0 has no SCRAM-SHA-256")

METHOD = "SCRAM-SHA-256"
SCRIPT = pathlib.Path(__file__).with_name("scram_client.js")
MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"
TOOL_TIMEOUT_S = 30
SCRAM_USERS = {"alice": "pencil", "bob": "correct horse, battery=staple"}
PBKDF2_USER = ("carol", "old-style")

CONTINUE, REAUTHENTICATE = 0x18, 0x19
SUCCESS, NOT_AUTHORIZED, PROTOCOL_ERROR, BAD_AUTHENTICATION_METHOD = 0x00, 0x87, 0x82, 0x8C

ACL = """\
user alice
topic readwrite alice/#

user bob
topic readwrite bob/#
"""

VERIFIER_LINE = re.compile(
    r"^(?P<user>[^:]+):SCRAM-SHA-256\$(?P<iterations>\d+):(?P<salt>[A-Za-z0-9+/=]{24})"
    r"\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$")


def passwd(*args):
    result = subprocess.run([stellwerk_bin(), "passwd", *[str(a) for a in args]],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=TOOL_TIMEOUT_S, check=False)
    assert result.returncode == 0, result
    return result


@pytest.fixture(name="scram_files", scope="module")
def scram_files_fixture(tmp_path_factory):
    """A password file with SCRAM verifiers for SCRAM_USERS and a $7$ entry
    for carol, and the ACL file."""
    folder = tmp_path_factory.mktemp("scram")
    password_file = folder / "passwords"
    for index, (user, password) in enumerate(SCRAM_USERS.items()):
        passwd("-H", "scram-sha-256", *(["-c"] if index == 0 else []), "-b", password_file, user,
               password)
    passwd("-b", password_file, *PBKDF2_USER)
    acl_file = folder / "acl"
    acl_file.write_text(ACL)
    return password_file, acl_file


@pytest.fixture(name="broker")
def scram_broker_fixture(scram_files):
    password_file, acl_file = scram_files
    with start_broker(config=auth_config(password_file, acl_file)) as broker:
        yield broker
        broker.stop()
        report = sanitizer_report(broker.log())
    if report:
        pytest.fail(f"sanitizer report from the broker:\n{report}")


# ---------------------------------------------------------------- a SCRAM client in Python


def _hmac(key, text):
    return hmac.new(key, text.encode() if isinstance(text, str) else text, hashlib.sha256).digest()


class Scram:
    """RFC 5802's client side: first(), final(server_first), then
    server_final is checked by verify()."""

    def __init__(self, user, password, nonce=None):
        self.password = password.encode()
        self.nonce = nonce or secrets.token_urlsafe(18)
        name = user.replace("=", "=3D").replace(",", "=2C")
        self.first_bare = f"n={name},r={self.nonce}"
        self.expected_final = None

    def first(self):
        return f"n,,{self.first_bare}".encode()

    def final(self, server_first):
        server_first = server_first.decode()
        fields = dict(field.split("=", 1) for field in server_first.split(","))
        assert fields["r"].startswith(self.nonce) and len(fields["r"]) > len(self.nonce)
        salted = hashlib.pbkdf2_hmac("sha256", self.password, base64.b64decode(fields["s"]),
                                     int(fields["i"]))
        client_key = _hmac(salted, "Client Key")
        without_proof = f"c=biws,r={fields['r']}"
        auth_message = f"{self.first_bare},{server_first},{without_proof}"
        signature = _hmac(hashlib.sha256(client_key).digest(), auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_signature = _hmac(_hmac(salted, "Server Key"), auth_message)
        self.expected_final = b"v=" + base64.b64encode(server_signature)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final):
        return server_final == self.expected_final


def auth_props(data=None, method=METHOD):
    props = [(AUTHENTICATION_METHOD, method)]
    if data is not None:
        props.append((AUTHENTICATION_DATA, data))
    return props


def auth_packet(reason, data=None, method=METHOD):
    return fixed_header(AUTH, 0, bytes([reason]) + properties(auth_props(data, method)))


def scram_connect(client_id, first, method=METHOD, **connect_args):
    """CONNECT naming `method`, with `first` as Authentication Data."""
    return connect_packet(V5, client_id, props=auth_props(first, method), **connect_args)


def start_scram(broker, user, password, client_id=None, **connect_args):
    """CONNECT with client-first; returns the client, its Scram and the
    broker's first answer (AUTH 0x18 with server-first, or a CONNACK)."""
    scram = Scram(user, password)
    client = RawClient(broker, V5)
    client.send(scram_connect(client_id or f"scram-{user}", scram.first(), **connect_args))
    return client, scram, client.recv()


def scram_login(broker, user, password, **connect_args):
    """The whole exchange; returns (client, scram, CONNACK)."""
    client, scram, challenge = start_scram(broker, user, password, **connect_args)
    assert challenge.type == AUTH, challenge
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
    return client, scram, client.expect(CONNACK)


def refused(client, reason):
    """The broker answered with CONNACK `reason` and closed."""
    packet = client.recv()
    assert packet.type == CONNACK and packet.reason_code == reason, packet
    client.wait_closed(timeout=3)
    return packet


# ---------------------------------------------------------------- MQTT.js


def run_mqttjs(broker, user, password):
    node = shutil.which("node")
    assert node, "node is not installed (scripts/install-deps installs it)"
    assert (REPO_ROOT / "node_modules" / "mqtt").is_dir(), "MQTT.js is missing: npm ci at the repo root"
    result = subprocess.run([node, str(SCRIPT), str(broker.port), user, password],
                            capture_output=True, text=True, timeout=30, check=False)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, result
    return json.loads(lines[-1])


def test_mqttjs_scram_login_and_server_proof(broker):
    """[MQTT-4.12.0-2] [MQTT-4.12.0-5]: MQTT.js sends client-first in CONNECT,
    gets AUTH 0x18 with the method, answers with client-final and is accepted
    with a CONNACK that carries the method and server-final, whose
    ServerSignature the client checks; then it publishes and receives."""
    report = run_mqttjs(broker, "alice", SCRAM_USERS["alice"])
    assert report["ok"], report
    assert report["reason"] == SUCCESS
    assert report["authPackets"] == 1 and report["authMethod"] == METHOD
    assert report["connackMethod"] == METHOD
    assert report["serverVerified"] is True
    assert report["roundTrip"] == "via scram"


def test_mqttjs_scram_escaped_name_and_password(broker):
    """A password with ',' and '=' and spaces goes through SCRAM unchanged."""
    report = run_mqttjs(broker, "bob", SCRAM_USERS["bob"])
    assert report["ok"] and report["serverVerified"], report


@pytest.mark.parametrize("user,password", [("alice", "Pencil"), ("mallory", "pencil")],
                         ids=["wrong-password", "unknown-user"])
def test_mqttjs_scram_refused_not_authorized(broker, user, password):
    """[MQTT-4.12.0-4]: a wrong password or an unknown user is refused with
    CONNACK 0x87 after the exchange (the unknown user is not told apart)."""
    report = run_mqttjs(broker, user, password)
    assert not report["ok"]
    assert report["reason"] == NOT_AUTHORIZED, report
    assert report["authPackets"] == 1
    wait_for_refusal_log(broker)


# ---------------------------------------------------------------- byte level


def test_exchange_packets_and_acl_for_the_proven_user(broker):
    """[MQTT-4.12.0-2] [MQTT-4.12.0-5]: the AUTH and the CONNACK carry the
    method; server-first extends the client nonce and names salt and 4096
    iterations; the ACL then applies to the SCRAM user."""
    client, scram, challenge = start_scram(broker, "alice", SCRAM_USERS["alice"])
    assert challenge.type == AUTH and challenge.reason_code == CONTINUE, challenge
    assert challenge.prop(AUTHENTICATION_METHOD) == METHOD
    server_first = challenge.prop(AUTHENTICATION_DATA).decode()
    assert server_first.startswith(f"r={scram.nonce}") and server_first.endswith(",i=4096")
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
    connack = client.expect(CONNACK)
    assert connack.reason_code == SUCCESS
    assert connack.prop(AUTHENTICATION_METHOD) == METHOD
    assert scram.verify(connack.prop(AUTHENTICATION_DATA))
    assert client.subscribe("alice/#", 1).reason_codes == [1]
    assert client.subscribe("bob/#", 1).reason_codes == [NOT_AUTHORIZED]
    client.close()


def test_wrong_proof_gets_0x87_with_scram_error(broker):
    """[MQTT-4.12.0-4]: the refusal is CONNACK 0x87 carrying SCRAM's
    "e=invalid-proof", then the close; the refusal is logged."""
    client, scram, challenge = start_scram(broker, "alice", "not the password")
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
    connack = refused(client, NOT_AUTHORIZED)
    assert connack.prop(AUTHENTICATION_DATA) == b"e=invalid-proof"
    wait_for_refusal_log(broker)


def test_unknown_user_looks_like_a_known_one(broker):
    """No user enumeration: an unknown user's server-first has the same shape
    (16-byte salt, 4096 iterations), the same salt each time, and the
    failure is the same as a wrong password's."""
    answers = []
    for user in ("alice", "mallory", "mallory"):
        client, scram, challenge = start_scram(broker, user, "guess")
        fields = dict(f.split("=", 1) for f in challenge.prop(AUTHENTICATION_DATA).decode().split(","))
        answers.append((len(base64.b64decode(fields["s"])), fields["i"], fields["s"]))
        client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
        assert refused(client, NOT_AUTHORIZED).prop(AUTHENTICATION_DATA) == b"e=invalid-proof"
    assert answers[0][:2] == answers[1][:2] == (16, "4096")
    assert answers[1][2] == answers[2][2]


def test_pbkdf2_user_cannot_use_scram_but_plain_password_works(broker):
    """A $7$ entry holds no SCRAM verifier: SCRAM fails for carol as for an
    unknown user, while her plain CONNECT password still works."""
    user, password = PBKDF2_USER
    client, scram, challenge = start_scram(broker, user, password)
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
    refused(client, NOT_AUTHORIZED)
    plain = RawClient(broker, V5)
    assert plain.connect("carol-plain", username=user, password=password).reason_code == SUCCESS
    plain.close()


def test_unsupported_method_refused_0x8c(broker):
    """[MQTT-4.12.0-1]: a method the broker does not offer gets CONNACK 0x8C."""
    client = RawClient(broker, V5)
    client.send(scram_connect("sha1", b"n,,n=alice,r=abc", method="SCRAM-SHA-1"))
    refused(client, BAD_AUTHENTICATION_METHOD)


def test_without_password_file_scram_is_not_offered():
    """[MQTT-4.12.0-1]: with no password file there are no verifiers: 0x8C."""
    with start_broker(config="") as broker:
        client, _, answer = start_scram(broker, "alice", "pencil")
        assert answer.type == CONNACK and answer.reason_code == BAD_AUTHENTICATION_METHOD, answer
        client.wait_closed(timeout=3)


def test_connect_user_name_must_match_scram_user(broker):
    """A CONNECT User Name other than the SCRAM user is refused with 0x87."""
    client, scram, challenge = start_scram(broker, "alice", SCRAM_USERS["alice"], username="bob")
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
    refused(client, NOT_AUTHORIZED)


def test_only_auth_before_connack(broker):
    """[MQTT-3.1.2-30]: a PUBLISH in the middle of the exchange is a protocol
    error; the connection is closed and nothing is published."""
    client, _, challenge = start_scram(broker, "alice", SCRAM_USERS["alice"])
    assert challenge.type == AUTH
    client.send(publish_packet(V5, "alice/x", b"early", 0))
    client.wait_closed(timeout=3)


def test_auth_with_another_method_before_connack(broker):
    """[MQTT-4.12.0-5]: an AUTH naming another method is a protocol error."""
    client, scram, challenge = start_scram(broker, "alice", SCRAM_USERS["alice"])
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA)), "PLAIN"))
    refused(client, PROTOCOL_ERROR)


def test_malformed_client_first_refused(broker):
    """A client-first with channel binding ("p=") is refused; never a crash."""
    client = RawClient(broker, V5)
    client.send(scram_connect("cb", b"p=tls-unique,,n=alice,r=abc"))
    assert refused(client, NOT_AUTHORIZED).prop(AUTHENTICATION_DATA) == b"e=channel-binding-not-supported"
    for garbage in (b"", b"\xff\xfe", b"n,,n=alice", b"n,,n=a=ZZ,r=x"):
        client = RawClient(broker, V5)
        client.send(scram_connect("garbage", garbage))
        refused(client, NOT_AUTHORIZED)


# ---------------------------------------------------------------- re-authentication


def reauthenticate(client, user, password):
    """AUTH 0x19 with client-first, then client-final; returns (scram, challenge)."""
    scram = Scram(user, password)
    client.send(auth_packet(REAUTHENTICATE, scram.first()))
    return scram, client.expect(AUTH)


def test_reauthentication_while_publishing(broker):
    """[MQTT-4.12.1-1]: AUTH 0x19 with the same method starts a new exchange
    that ends in AUTH 0x00 with server-final; a QoS 1 PUBLISH sent during
    it is acknowledged as usual."""
    client, _, connack = scram_login(broker, "alice", SCRAM_USERS["alice"])
    assert connack.reason_code == SUCCESS
    scram, challenge = reauthenticate(client, "alice", SCRAM_USERS["alice"])
    assert challenge.reason_code == CONTINUE and challenge.prop(AUTHENTICATION_METHOD) == METHOD
    client.send(publish_packet(V5, "alice/during", b"x", 1, pid=7))
    assert client.expect(PUBACK).pid == 7
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
    done = client.expect(AUTH)
    assert done.reason_code == SUCCESS
    assert scram.verify(done.prop(AUTHENTICATION_DATA))
    assert client.is_open()
    client.close()


@pytest.mark.parametrize("user,password", [("alice", "wrong"), ("bob", SCRAM_USERS["bob"])],
                         ids=["wrong-password", "other-user"])
def test_failed_reauthentication_disconnects_0x87(broker, user, password):
    """[MQTT-4.12.1-2]: a failed re-authentication, or one as another user,
    gets DISCONNECT 0x87 and the close."""
    client, _, connack = scram_login(broker, "alice", SCRAM_USERS["alice"])
    assert connack.reason_code == SUCCESS
    scram, challenge = reauthenticate(client, user, password)
    client.send(auth_packet(CONTINUE, scram.final(challenge.prop(AUTHENTICATION_DATA))))
    packets = client.wait_closed(timeout=3)
    assert [(p.type, p.reason_code) for p in packets] == [(DISCONNECT, NOT_AUTHORIZED)], packets


def test_auth_without_method_in_connect_is_a_protocol_error(broker):
    """[MQTT-4.12.0-7]: a client that logged in with a password may not send
    AUTH: DISCONNECT 0x82."""
    client = RawClient(broker, V5)
    assert client.connect("plain", username="alice", password="pencil").reason_code == SUCCESS
    client.send(auth_packet(REAUTHENTICATE, b"n,,n=alice,r=abc"))
    packets = client.wait_closed(timeout=3)
    assert [(p.type, p.reason_code) for p in packets] == [(DISCONNECT, PROTOCOL_ERROR)], packets


# ---------------------------------------------------------------- the verifier file


def test_passwd_writes_scram_verifiers(scram_files, tmp_path):
    """`stellwerk passwd -H scram-sha-256` writes RFC 5803's layout with a
    16-byte salt and 4096 iterations; -I changes the count."""
    lines = scram_files[0].read_text().splitlines()
    for line, user in zip(lines, SCRAM_USERS):
        match = VERIFIER_LINE.match(line)
        assert match and match["user"] == user and match["iterations"] == "4096", line
        assert len(base64.b64decode(match["salt"])) == 16
    path = tmp_path / "pw"
    passwd("-H", "scram-sha-256", "-I", "8192", "-c", "-b", path, "dave", "x")
    match = VERIFIER_LINE.match(path.read_text().strip())
    assert match and match["iterations"] == "8192"


@pytest.mark.skipif(not os.access(MOSQUITTO_PUB, os.X_OK), reason="needs mosquitto_pub")
@pytest.mark.parametrize("protocol", ["mqttv311", "mqttv5"])
def test_mosquitto_pub_plain_password_against_scram_verifier(broker, protocol):
    """v311[MQTT-3.1.4-4] v5[MQTT-3.1.4-5]: one SCRAM entry also serves a
    plain CONNECT password (its StoredKey is derived and compared): the right
    password publishes, a wrong one is refused."""
    def pub(password):
        return subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(broker.port), "-V", protocol,
                               "-u", "alice", "-P", password, "-t", "alice/plain", "-m", "hi"],
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
    assert pub(SCRAM_USERS["alice"]).returncode == 0
    assert pub("pencil2").returncode != 0


def test_v311_client_cannot_send_auth(broker):
    """AUTH exists only in MQTT 5: a 3.1.1 client sending one is cut off."""
    client = RawClient(broker, V311)
    assert client.connect("old", username="alice", password="pencil").reason_code == 0
    client.send(auth_packet(REAUTHENTICATE, b"n,,n=alice,r=abc"))
    client.wait_closed(timeout=3)
