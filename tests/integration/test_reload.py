"""SIGHUP reload (issue 5, point 6): password file, ACL file and TLS
certificates are read again while every client stays connected; a reload that
fails keeps the previous configuration and says why in the log.

mosquitto 2.0.11 reloads password and ACL files on SIGHUP as well, but not
certificates, and it logs differently: these tests read Stellwerk's log lines,
so they are stellwerk_only.
"""

import os
import shutil
import signal
import time

import pytest

from auth_support import write_password_file
from harness import free_port, sanitizer_report, start_broker, wait_port
from rawmqtt import V311, V5, RawClient
from tls_support import Endpoint, TlsRawClient, client_context, have_openssl, make_pki, tls_connack

pytestmark = pytest.mark.stellwerk_only("reload behaviour and its log lines are Stellwerk's")

RELOADED = "Reloaded the configuration"
RELOAD_FAILED = "Reload failed, the previous configuration stays in force"


def reload_and_wait(broker, marker=RELOADED, timeout=5.0):
    """Sends SIGHUP and waits until the log shows `marker` once more."""
    before = broker.log().count(marker)
    broker.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.log().count(marker) > before:
            return
        time.sleep(0.05)
    raise AssertionError(f"no '{marker}' in the log after SIGHUP:\n{broker.log()[-3000:]}")


def connack_code(broker, version, **kwargs):
    client = RawClient(broker, version)
    try:
        return client.connect(**kwargs).reason_code
    finally:
        client.close()


def round_trip(client, topic):
    """The client receives what it publishes itself: it is alive and served."""
    client.publish(topic, b"ping", qos=1)
    message = client.receive_publish()
    return message.topic == topic and message.payload == b"ping"


@pytest.fixture(name="files")
def files_fixture(tmp_path):
    passwords = tmp_path / "passwords"
    write_password_file(str(passwords), {"alice": "first"})
    acl = tmp_path / "acl"
    acl.write_text("user alice\ntopic readwrite alice/#\n")
    return passwords, acl


def auth_lines(passwords, acl):
    return f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}\n"


@pytest.mark.parametrize("version", [V311, V5])
def test_password_file_change_applies_without_dropping_clients(files, version):
    passwords, acl = files
    with start_broker(config=auth_lines(passwords, acl)) as broker:
        alice = RawClient(broker, version)
        assert alice.connect("alice-1", username="alice", password=b"first").reason_code == 0
        alice.subscribe("alice/#", options=1)

        write_password_file(str(passwords), {"alice": "second", "bob": "new"})
        reload_and_wait(broker)

        assert round_trip(alice, "alice/still-here"), "a connected client survives the reload"
        refused = connack_code(broker, version, client_id="alice-2", username="alice", password=b"first")
        assert refused != 0, "the old password no longer works"
        assert connack_code(broker, version, client_id="alice-3", username="alice", password=b"second") == 0
        assert connack_code(broker, version, client_id="bob-1", username="bob", password=b"new") == 0
        alice.close()
        assert not sanitizer_report(broker.log())


def test_acl_change_applies_to_deliveries_of_connected_clients(files):
    passwords, acl = files
    with start_broker(config=auth_lines(passwords, acl)) as broker:
        alice = RawClient(broker, V5)
        assert alice.connect("alice-acl", username="alice", password=b"first").reason_code == 0
        alice.subscribe("alice/#", options=1)
        assert round_trip(alice, "alice/a")

        acl.write_text("user alice\ntopic readwrite alice/#\ntopic deny alice/secret/#\n")
        reload_and_wait(broker)

        # The new deny rule is checked on delivery to the open session.
        alice.publish("alice/secret/x", b"hidden", qos=1)
        alice.expect_nothing(timeout=0.5)
        assert round_trip(alice, "alice/b")
        alice.close()


def test_a_broken_file_keeps_the_previous_configuration(files):
    passwords, acl = files
    with start_broker(config=auth_lines(passwords, acl)) as broker:
        acl.write_text("user alice\ntopic sometimes alice/#\n")  # not a valid access kind
        reload_and_wait(broker, RELOAD_FAILED)
        assert f"{acl}:2" in broker.log(), "the log names the file and line"
        assert connack_code(broker, V311, client_id="alice-x", username="alice", password=b"first") == 0

        passwords.write_text("this line has no colon\n")
        reload_and_wait(broker, RELOAD_FAILED)
        assert connack_code(broker, V311, client_id="alice-y", username="alice", password=b"first") == 0


def test_a_broken_config_file_keeps_the_previous_configuration(files):
    passwords, acl = files
    with start_broker(config=auth_lines(passwords, acl)) as broker:
        config_path = os.path.join(broker.workdir, "broker.conf")
        with open(config_path, "a", encoding="utf-8") as config:
            config.write("max_keepalive lots\n")
        reload_and_wait(broker, RELOAD_FAILED)
        assert "max_keepalive" in broker.log().split(RELOAD_FAILED)[-1].splitlines()[0]
        assert connack_code(broker, V311, client_id="alice-z", username="alice", password=b"first") == 0


def test_allow_anonymous_follows_the_config_file(files):
    passwords, acl = files
    with start_broker(config=auth_lines(passwords, acl)) as broker:
        assert connack_code(broker, V5, client_id="anon-1") != 0
        config_path = os.path.join(broker.workdir, "broker.conf")
        text = open(config_path, encoding="utf-8").read()
        # The harness puts `allow_anonymous true` first; ours comes later and wins. Flip ours.
        with open(config_path, "w", encoding="utf-8") as config:
            config.write(text.replace("allow_anonymous false", "allow_anonymous true"))
        reload_and_wait(broker)
        assert connack_code(broker, V5, client_id="anon-2") == 0


@pytest.mark.skipif(not have_openssl(), reason="needs the openssl command to make test certificates")
def test_tls_certificates_are_read_again(tmp_path):
    first = make_pki(str(tmp_path / "first"))
    second = make_pki(str(tmp_path / "second"))
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    shutil.copy(first.server.cert, cert)
    shutil.copy(first.server.key, key)
    port = free_port()
    config = f"listener {port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\n"
    with start_broker(config=config) as broker:
        endpoint = Endpoint("127.0.0.1", port)
        assert wait_port(port, proc=broker.proc)
        old = TlsRawClient(endpoint, V311, client_context(first.ca))
        assert old.connect("tls-old").reason_code == 0
        old.subscribe("tls/#", options=1)

        shutil.copy(second.server.cert, cert)
        shutil.copy(second.server.key, key)
        reload_and_wait(broker)

        assert tls_connack(endpoint, V311, client_context(second.ca), "tls-new") == 0
        assert str(tls_connack(endpoint, V311, client_context(first.ca), "tls-stale")).startswith("refused")
        assert round_trip(old, "tls/after-reload"), "the connection made before the reload goes on"
        old.close()

        # A key that does not load keeps the certificates in use.
        key.write_text("not a key\n")
        reload_and_wait(broker, RELOAD_FAILED)
        assert tls_connack(endpoint, V311, client_context(second.ca), "tls-kept") == 0
