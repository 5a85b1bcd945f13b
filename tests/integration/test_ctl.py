"""`stellwerk ctl` against a running broker over its admin socket: count,
list (with paging), show, delete, export and import retained messages, and
an online backup that a fresh broker starts from. Messages are published
with mosquitto_pub and paho and checked with a subscriber; deletes and
imports must reach the store like a client's retained PUBLISH.

Stellwerk's own tool: nothing here runs against mosquitto.
"""

import contextlib
import json
import os
import pathlib
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from auth_support import restartable_broker
from harness import broker_kind, stellwerk_bin
from pahoclient import PahoClient, publish_properties

pytestmark = pytest.mark.skipif(broker_kind() != "stellwerk", reason="stellwerk ctl is Stellwerk's tool")


@pytest.fixture(name="workdir")
def workdir_fixture():
    # Short: a Unix socket path has at most 107 bytes, pytest's tmp_path can be longer.
    path = pathlib.Path(tempfile.mkdtemp(prefix="ctl-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def admin_config(workdir, persistence=True):
    lines = [f"admin_socket {workdir}/admin.sock"]
    if persistence:
        (workdir / "store").mkdir(exist_ok=True)
        lines += ["persistence true", f"persistence_location {workdir}/store/", "persistence_sync always"]
    return "\n".join(lines)


def wait_for_admin_socket(path, timeout=15.0):
    """The broker opens its admin socket after its MQTT listeners, which are
    what restartable_broker waits for. A connection succeeds only once the
    socket is bound, made private and listening."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.02)


@contextlib.contextmanager
def admin_broker(workdir, config):
    with restartable_broker(workdir, config) as server:
        wait_for_admin_socket(workdir / "admin.sock")
        yield server


@pytest.fixture(name="server")
def server_fixture(workdir):
    with admin_broker(workdir, admin_config(workdir)) as server:
        yield server


def ctl(workdir, *args, stdin=None, check=True):
    result = subprocess.run([stellwerk_bin(), "ctl", "--socket", str(workdir / "admin.sock"), *args],
                            input=stdin, capture_output=True, text=True, timeout=60, check=False)
    if check:
        assert result.returncode == 0, f"ctl {args} failed ({result.returncode}): {result.stderr}"
    return result


def lines(result):
    return result.stdout.splitlines()


def retain(broker, topic, payload, qos=1):
    subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-t", topic, "-m", payload,
                    "-r", "-q", str(qos)], check=True, timeout=10)


def retained_seen(broker, topic_filter, version=4):
    """{topic: message} of the retained messages a new subscriber receives."""
    client = PahoClient(broker, version)
    client.connect()
    client.subscribe(topic_filter, qos=1)
    messages = client.drain(timeout=0.7)
    client.client.disconnect()
    client.client.loop_stop()
    assert all(message.retain for message in messages)
    return {message.topic: message for message in messages}


def populate(broker):
    for topic in ["a", "a/b", "a/b/c", "a-b", "b", "$app/x"]:
        retain(broker.broker, topic, f"v-{topic}")


def test_count_list_and_page(server, workdir):
    populate(server)
    # Without a filter: every stored topic, '$' topics included; '#' as a subscription sees it.
    assert lines(ctl(workdir, "retained", "count")) == ["6"]
    assert lines(ctl(workdir, "retained", "count", "#")) == ["5"]
    assert lines(ctl(workdir, "retained", "count", "+/b")) == ["1"]
    assert lines(ctl(workdir, "retained", "list")) == ["$app/x", "a", "a/b", "a/b/c", "a-b", "b"]
    assert lines(ctl(workdir, "retained", "list", "a/#")) == ["a", "a/b", "a/b/c"]  # [MQTT-4.7.1-2]
    paged, after = [], None
    while True:
        args = ["retained", "list", "#", "--limit", "2"] + (["--after", after] if after else [])
        result = ctl(workdir, *args)
        paged += lines(result)
        if "More topics follow" not in result.stderr:
            break
        after = lines(result)[-1]
    assert paged == ["a", "a/b", "a/b/c", "a-b", "b"]
    as_json = [json.loads(line) for line in lines(ctl(workdir, "retained", "list", "--json", "--limit", "1"))]
    assert as_json == [{"topic": "$app/x"}]


def test_show_gives_payload_qos_and_properties(server, workdir):
    client = PahoClient(server.broker, 5)
    client.connect()
    props = publish_properties(ContentType="text/plain", MessageExpiryInterval=3600,
                               UserProperty=[("site", "north")])
    client.publish("dev/1/state", b"on", qos=2, retain=True, properties=props)
    shown = ctl(workdir, "retained", "show", "dev/1/state").stdout
    assert "payload: on" in shown and "qos: 2" in shown and "text/plain" in shown and "north" in shown
    message = json.loads(ctl(workdir, "retained", "show", "dev/1/state", "--json").stdout)
    assert message["topic"] == "dev/1/state" and message["qos"] == 2 and message["payload"] == "b24="
    assert 3590 <= message["properties"]["message_expiry_interval"] <= 3600
    assert message["properties"]["user_properties"] == [["site", "north"]]
    missing = ctl(workdir, "retained", "show", "nothing/here", check=False)
    assert missing.returncode == 1 and "no retained message" in missing.stderr


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_delete_goes_through_broker_and_store(server, workdir, how):
    populate(server)
    assert lines(ctl(workdir, "retained", "delete", "a/#")) == ["deleted 3"]
    assert sorted(retained_seen(server.broker, "#")) == ["a-b", "b"]
    # Logged like a client's empty retained PUBLISH [MQTT-3.3.1-10]: gone after a restart too.
    server.restart(how)
    wait_for_admin_socket(workdir / "admin.sock")
    assert sorted(retained_seen(server.broker, "#")) == ["a-b", "b"]
    assert lines(ctl(workdir, "retained", "delete", "#")) == ["deleted 2"]
    assert lines(ctl(workdir, "retained", "count")) == ["1"]  # $app/x: '#' leaves '$' topics alone


def test_export_then_import_restores_payloads_and_properties(server, workdir):
    client = PahoClient(server.broker, 5)
    client.connect()
    binary = bytes(range(256))
    client.publish("bin", binary, qos=1, retain=True,
                   properties=publish_properties(ContentType="application/octet-stream",
                                                 UserProperty=[("k", "v")], CorrelationData=b"\x00\x01"))
    populate(server)
    exported = ctl(workdir, "retained", "export").stdout
    assert len(exported.splitlines()) == 7
    ctl(workdir, "retained", "delete", "#")
    ctl(workdir, "retained", "delete", "$app/#")
    assert lines(ctl(workdir, "retained", "count")) == ["0"]
    export_file = workdir / "retained.jsonl"
    export_file.write_text(exported)
    assert lines(ctl(workdir, "retained", "import", str(export_file))) == ["imported 7"]
    seen = retained_seen(server.broker, "#", version=5)
    assert seen["bin"].payload == binary and seen["bin"].qos == 1
    assert seen["bin"].properties.ContentType == "application/octet-stream"
    assert seen["bin"].properties.UserProperty == [("k", "v")]
    assert seen["a/b"].payload == b"v-a/b"
    # The import reached the store.
    server.restart("kill9")
    wait_for_admin_socket(workdir / "admin.sock")
    assert lines(ctl(workdir, "retained", "count")) == ["7"]
    assert ctl(workdir, "retained", "export").stdout == exported


def test_import_from_stdin_in_chunks(server, workdir):
    records = "".join(json.dumps({"topic": f"fleet/{i:05d}", "payload": "b2s=", "qos": 1}) + "\n"
                      for i in range(5000))
    assert lines(ctl(workdir, "retained", "import", "-", stdin=records)) == ["imported 5000"]
    assert lines(ctl(workdir, "retained", "count", "fleet/+")) == ["5000"]
    assert lines(ctl(workdir, "retained", "list", "fleet/#", "--after", "fleet/04997")) == \
        ["fleet/04998", "fleet/04999"]
    # A client is served while the admin work goes on in chunks.
    assert sorted(retained_seen(server.broker, "fleet/00001")) == ["fleet/00001"]
    assert lines(ctl(workdir, "retained", "delete", "fleet/#")) == ["deleted 5000"]


def test_bad_input_is_refused_with_a_message(server, workdir):
    bad_json = ctl(workdir, "retained", "import", "-", stdin="{not json\n", check=False)
    assert bad_json.returncode == 1 and "line 1 is not JSON" in bad_json.stderr
    wildcard = ctl(workdir, "retained", "import", "-", stdin='{"topic":"a/+","payload":""}\n', check=False)
    assert wildcard.returncode == 1 and "topic name" in wildcard.stderr
    bad_filter = ctl(workdir, "retained", "count", "a/#/b", check=False)
    assert bad_filter.returncode == 1 and "filter" in bad_filter.stderr
    assert ctl(workdir, "retained", "frobnicate", check=False).returncode == 2
    # Raw protocol: garbage gets an error line, and the broker carries on.
    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(workdir / "admin.sock"))
        raw.sendall(b"garbage\n")
        assert json.loads(raw.makefile().readline()) == {"error": "a request is one JSON object"}
    assert lines(ctl(workdir, "retained", "count")) == ["0"]


def test_admin_socket_is_private_replaces_stale_file_and_is_removed(workdir):
    sock_path = workdir / "admin.sock"
    # A socket file nobody listens on, as a crashed broker leaves it.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock_path))
    stale.close()
    with admin_broker(workdir, admin_config(workdir, persistence=False)) as server:
        assert stat.S_IMODE(os.stat(sock_path).st_mode) == 0o600
        assert lines(ctl(workdir, "retained", "count")) == ["0"]
        server.stop()
        assert not sock_path.exists()
    missing = ctl(workdir, "retained", "count", check=False)
    assert missing.returncode == 1 and "cannot connect" in missing.stderr


def test_backup_without_persistence_is_a_clear_error(workdir):
    with admin_broker(workdir, admin_config(workdir, persistence=False)):
        result = ctl(workdir, "backup", str(workdir / "backup"), check=False)
        assert result.returncode == 1 and "persistence is off" in result.stderr


def test_backup_starts_a_fresh_broker_with_retained_and_sessions(server, workdir):
    populate(server)
    keeper = PahoClient(server.broker, 4, client_id="keeper", clean=False)
    keeper.connect()
    keeper.subscribe("jobs/#", qos=1)
    keeper.client.disconnect()
    keeper.client.loop_stop()
    backup_dir = workdir / "backup"
    assert lines(ctl(workdir, "backup", str(backup_dir))) == [f"backup written to {backup_dir}"]
    refused = ctl(workdir, "backup", str(backup_dir), check=False)  # not over an existing backup
    assert refused.returncode == 1
    fresh_dir = pathlib.Path(tempfile.mkdtemp(prefix="ctl-fresh-"))
    try:
        config = f"persistence true\npersistence_location {backup_dir}/\nadmin_socket {fresh_dir}/admin.sock"
        with admin_broker(fresh_dir, config) as fresh:
            assert lines(ctl(fresh_dir, "retained", "list")) == ["$app/x", "a", "a/b", "a/b/c", "a-b", "b"]
            assert retained_seen(fresh.broker, "a/b")["a/b"].payload == b"v-a/b"
            again = PahoClient(fresh.broker, 4, client_id="keeper", clean=False)
            again.connect()
            assert again.session_present()
            retain(fresh.broker, "jobs/1", "go")  # the restored subscription delivers
            assert again.expect_message().payload == b"go"
            again.client.disconnect()
            again.client.loop_stop()
    finally:
        shutil.rmtree(fresh_dir, ignore_errors=True)
