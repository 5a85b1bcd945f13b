"""MQTT over TLS: listeners configured with mosquitto's keys (cafile,
certfile, keyfile, require_certificate, crlfile, use_identity_as_username,
tls_version, psk_hint + psk_file), driven by paho (tls_set),
mosquitto_pub/mosquitto_sub and a raw client behind Python's ssl module.

The PKI is made with the openssl CLI once per module in a temporary
directory: a CA with a server certificate for 127.0.0.1/localhost, a good and
a revoked client certificate (plus a CRL), and a client certificate from
another CA with the same common name as the good one.
"""

import ssl

import pytest

from rawmqtt import PUBLISH, V311, V5, RawClient, connect_packet
from tls_support import (GOOD_CLIENT_CN, TlsRawClient, broker_with_listeners, cli_publish, cli_round_trip,
                         client_context, have_openssl, make_pki, mosquitto_tls_args,
                         paho_client, tls_connack, tls_listener)

pytestmark = pytest.mark.skipif(not have_openssl(), reason="the openssl CLI is needed")

CLI_VERSIONS = {V311: "311", V5: "5"}
PSK_IDENTITY, PSK_KEY = "psk-client", "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module", name="pki")
def pki_fixture(tmp_path_factory):
    return make_pki(str(tmp_path_factory.mktemp("pki")))


def refused(result):
    return isinstance(result, str) and result.startswith("refused")


def paho_round_trip(endpoint, version, pki, cert=None, topic="tls/t"):
    """A paho client over TLS subscribes and gets its own QoS 0, 1 and 2
    messages back."""
    client = paho_client(endpoint, version, cafile=pki.ca, cert=cert)
    try:
        assert client.connect() == 0
        client.subscribe(topic, qos=2)
        for qos in (0, 1, 2):
            client.publish(topic, f"secret {qos}".encode(), qos=qos)
        received = sorted((m.qos, m.payload) for m in (client.expect_message() for _ in range(3)))
        assert received == [(qos, f"secret {qos}".encode()) for qos in (0, 1, 2)]
    finally:
        client.close()


def test_paho_round_trip(version, pki):
    """v5[MQTT-4.2.0-1] [MQTT-3.3.4-1]: TLS is a transport like TCP: paho
    verifies the server's certificate (IP SAN 127.0.0.1) and its messages
    come back at QoS 0, 1 and 2."""
    with broker_with_listeners([tls_listener(pki)]) as (_broker, (tls,)):
        paho_round_trip(tls, version, pki)


@pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])
def test_mosquitto_clients_round_trip(version, pki):
    """[MQTT-3.3.4-1]: mosquitto_pub --cafile reaches mosquitto_sub --cafile
    over TLS."""
    with broker_with_listeners([tls_listener(pki)]) as (_broker, (tls,)):
        rc, out, err, _pub = cli_round_trip(mosquitto_tls_args(tls, cafile=pki.ca),
                                            CLI_VERSIONS[version], "tls/cli", "over tls")
    assert rc == 0, err
    assert out.strip() == "tls/cli over tls"


def test_server_certificate_is_the_configured_one(pki):
    """certfile is what the broker presents: a client that trusts only the
    other CA refuses it, one that trusts the test CA accepts it."""
    with broker_with_listeners([tls_listener(pki)]) as (_broker, (tls,)):
        assert tls_connack(tls, V311, client_context(pki.ca)) == 0
        assert refused(tls_connack(tls, V311, client_context(pki.other_ca)))


@pytest.mark.parametrize("client_cert,accepted", [
    ("good", True), (None, False), ("other", False)], ids=["good", "missing", "other-ca"])
def test_require_certificate(pki, client_cert, accepted):
    """require_certificate true: only a client certificate signed by cafile
    gets a CONNACK; no certificate, or one from another CA with the same
    common name, ends the connection before any MQTT packet."""
    cert = getattr(pki, client_cert) if client_cert else None
    with broker_with_listeners([tls_listener(pki, "require_certificate true")]) as (broker, (tls,)):
        result = tls_connack(tls, V311, client_context(pki.ca, cert))
        if accepted:
            assert result == 0, broker.log()
        else:
            assert refused(result), result
            # The broker keeps serving: a good client still gets in.
            assert tls_connack(tls, V5, client_context(pki.ca, pki.good)) == 0, broker.log()


def test_require_certificate_paho_and_mosquitto_clients(version, pki):
    """[MQTT-3.3.4-1]: with require_certificate, paho and mosquitto_pub/sub
    presenting the good certificate exchange messages; mosquitto_pub without
    a certificate fails."""
    with broker_with_listeners([tls_listener(pki, "require_certificate true")]) as (_b, (tls,)):
        paho_round_trip(tls, version, pki, cert=pki.good)
        rc, out, err, _pub = cli_round_trip(mosquitto_tls_args(tls, pki.ca, pki.good),
                                            CLI_VERSIONS[version], "tls/cert", "with cert")
        assert rc == 0, err
        assert out.strip() == "tls/cert with cert"
        assert cli_publish(mosquitto_tls_args(tls, pki.ca), CLI_VERSIONS[version],
                           "tls/cert", "no cert").returncode != 0


def test_revoked_certificate_is_refused(pki):
    """crlfile: a certificate the CRL revokes is refused, an unrevoked one
    from the same CA is accepted."""
    listener = tls_listener(pki, "require_certificate true", f"crlfile {pki.crl}")
    with broker_with_listeners([listener]) as (broker, (tls,)):
        assert refused(tls_connack(tls, V311, client_context(pki.ca, pki.revoked)))
        assert tls_connack(tls, V311, client_context(pki.ca, pki.good)) == 0, broker.log()
        assert cli_publish(mosquitto_tls_args(tls, pki.ca, pki.revoked), "311",
                           "tls/crl", "revoked").returncode != 0


def test_use_identity_as_username(pki, tmp_path):
    """use_identity_as_username: the certificate's common name is the
    username the ACL sees (pattern %u), without any username in CONNECT: a
    v5 publish under users/<its CN>/ is accepted and delivered, one under
    another user's prefix gets PUBACK 0x87 Not authorized (v5[MQTT-3.4.2-1])."""
    acl = tmp_path / "acl"
    acl.write_text("pattern readwrite users/%u/#\n")
    listener = tls_listener(pki, "require_certificate true", "use_identity_as_username true")
    with broker_with_listeners([listener], f"acl_file {acl}") as (broker, (tls,)):
        client = TlsRawClient(tls, V5, client_context(pki.ca, pki.good))
        try:
            assert client.connect("identity").reason_code == 0, broker.log()
            assert client.subscribe(f"users/{GOOD_CLIENT_CN}/#", 1).reason_codes == [1]
            assert client.publish("users/someone-else/x", b"not mine", qos=1).reason_code == 0x87
            assert client.publish(f"users/{GOOD_CLIENT_CN}/x", b"mine", qos=1).reason_code == 0
            message = client.expect(PUBLISH)
            assert (message.topic, message.payload) == (f"users/{GOOD_CLIENT_CN}/x", b"mine")
        finally:
            client.close()


def test_tls13_only_listener(pki):
    """tls_version tlsv1.3: a client limited to TLS 1.2 is refused; TLS 1.3
    clients (raw and mosquitto_pub --tls-version tlsv1.3) get in.
    (mosquitto_pub's --tls-version is a minimum, so it cannot be held to 1.2.)"""
    with broker_with_listeners([tls_listener(pki, "tls_version tlsv1.3")]) as (broker, (tls,)):
        old = client_context(pki.ca, maximum=ssl.TLSVersion.TLSv1_2)
        assert refused(tls_connack(tls, V311, old))
        assert tls_connack(tls, V311, client_context(pki.ca)) == 0, broker.log()
        assert cli_publish(mosquitto_tls_args(tls, pki.ca, tls_version="tlsv1.3"), "311",
                           "tls/v", "new").returncode == 0


def test_tls12_listener_accepts_tls12(pki):
    """tls_version tlsv1.2: a TLS 1.2 client gets in and really speaks 1.2."""
    with broker_with_listeners([tls_listener(pki, "tls_version tlsv1.2")]) as (broker, (tls,)):
        client = TlsRawClient(tls, V311, client_context(pki.ca, maximum=ssl.TLSVersion.TLSv1_2))
        try:
            assert client.tls_version() == "TLSv1.2"
            assert client.connect("tls12").reason_code == 0, broker.log()
        finally:
            client.close()


def test_tls12_listener_accepts_tls13(pki):
    """tls_version tlsv1.2 is a minimum, as in mosquitto 2: a client that
    insists on TLS 1.3 still gets in."""
    with broker_with_listeners([tls_listener(pki, "tls_version tlsv1.2")]) as (_broker, (tls,)):
        assert tls_connack(tls, V311, client_context(pki.ca, minimum=ssl.TLSVersion.TLSv1_3)) == 0


@pytest.fixture(name="psk_broker")
def psk_broker_fixture(tmp_path):
    psk_file = tmp_path / "psk"
    psk_file.write_text(f"{PSK_IDENTITY}:{PSK_KEY}\n")
    with broker_with_listeners([["psk_hint stellwerk-test"]], f"psk_file {psk_file}") as started:
        yield started


@pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])
def test_psk_round_trip(psk_broker, version):
    """TLS-PSK (psk_hint + psk_file, no certificate): mosquitto_pub and
    mosquitto_sub with --psk/--psk-identity exchange a message."""
    _broker, (psk,) = psk_broker
    args = mosquitto_tls_args(psk, psk=(PSK_IDENTITY, PSK_KEY))
    rc, out, err, _pub = cli_round_trip(args, CLI_VERSIONS[version], "tls/psk", "shared key")
    assert rc == 0, err
    assert out.strip() == "tls/psk shared key"


@pytest.mark.parametrize("identity,key", [(PSK_IDENTITY, "00" * 16), ("stranger", PSK_KEY)],
                         ids=["wrong-key", "unknown-identity"])
def test_psk_refused(psk_broker, identity, key):
    """A wrong key or an identity that psk_file does not list fails the
    handshake; the right one still works afterwards."""
    _broker, (psk,) = psk_broker
    assert cli_publish(mosquitto_tls_args(psk, psk=(identity, key)), "311",
                       "tls/psk", "x").returncode != 0
    assert cli_publish(mosquitto_tls_args(psk, psk=(PSK_IDENTITY, PSK_KEY)), "311",
                       "tls/psk", "x").returncode == 0


def test_plain_client_on_tls_port_fails_others_keep_working(pki, version):
    """A client that speaks plain MQTT to the TLS port gets no CONNACK and
    is disconnected; a TLS subscriber connected before it, a new TLS client
    and a client on the plain port are unaffected ([MQTT-3.3.4-1])."""
    with broker_with_listeners([tls_listener(pki)]) as (broker, (tls,)):
        subscriber = paho_client(tls, version, cafile=pki.ca)
        plain = None
        try:
            assert subscriber.connect() == 0
            subscriber.subscribe("tls/others/#", qos=1)
            plain = RawClient(tls, version)
            plain.send(connect_packet(version, "plain-on-tls"))
            assert plain.wait_closed(timeout=5) == []
            publisher = paho_client(tls, version, cafile=pki.ca)
            assert publisher.connect() == 0
            publisher.publish("tls/others/tls", b"via tls", qos=1)
            publisher.close()
            on_plain_port = RawClient(broker, version)
            assert on_plain_port.connect("plain-port").reason_code == 0
            on_plain_port.publish("tls/others/plain", b"via tcp", qos=1)
            on_plain_port.close()
            got = sorted((m.topic, m.payload) for m in
                         (subscriber.expect_message(), subscriber.expect_message()))
            assert got == [("tls/others/plain", b"via tcp"), ("tls/others/tls", b"via tls")]
        finally:
            subscriber.close()
            if plain is not None:
                plain.close()
