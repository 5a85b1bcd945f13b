"""Authentication and access control: mosquitto's password_file (made by
mosquitto_passwd and by `stellwerk passwd`), allow_anonymous, and acl_file
with `topic`, `user` and `pattern` (%c, %u) lines, for MQTT 3.1.1 and 5.

Every broker here is configured through the same mosquitto keys. Where
Debian's mosquitto 2.0.11 answers differently (it refuses a wrong password
with "not authorized" instead of "bad user name or password", grants every
SUBSCRIBE and filters deliveries instead, and substitutes a client id
containing '/' into a pattern) the stricter check is stellwerk_only; the
behaviour both share (nothing denied is delivered) is checked for both.

Statement ids prefixed v311 or v5 apply to that version only.
"""

import threading
import time

import pytest

from auth_support import (
    REFUSAL_LOG_LINE, V311_SUBACK_FAILURE, V5_NOT_AUTHORIZED, auth_config, bad_credentials,
    not_authorized, password_tool_available, refusal_log_lines, wait_for_refusal_log,
    write_bulk_password_file, write_password_file)
from harness import sanitizer_report, start_broker
from rawmqtt import (CONNACK, DISCONNECT, PUBACK, PUBCOMP, PUBREC, PUBREL, V311, V5, Closed,
                     RawClient, ack_packet, publish_packet)

USERS = {"alice": "secret", "bob": "hunter2 two words", "writer": "w:pass"}

# Anonymous clients read public/; alice owns alice/; bob reads everything but
# secret/ and may (by the ACL) write $SYS/; writer writes everywhere. The
# patterns give each client its clients/<id>/ tree and each user users/<name>/.
ACL = """\
topic read public/#

user alice
topic readwrite alice/#
topic read public/#

user bob
topic read #
topic deny secret/#
topic readwrite bob/#
topic readwrite $SYS/#

user writer
topic write #
topic write $SYS/#

pattern readwrite clients/%c/#
pattern readwrite users/%u/#
"""

# name -> (password tool or None, with the ACL file, allow_anonymous)
SETUPS = {
    "acl": ("mosquitto", True, False),
    "stellwerk_passwd": ("stellwerk", True, False),
    "anonymous": ("mosquitto", True, True),
    "open": (None, False, True),
}


@pytest.fixture(name="auth_files", scope="module")
def auth_files_fixture(tmp_path_factory):
    """The ACL file, and per password tool a password file made on first use."""
    folder = tmp_path_factory.mktemp("auth")
    acl_file = folder / "acl"
    acl_file.write_text(ACL)
    made = {}

    def password_file(tool):
        if tool not in made:
            if not password_tool_available(tool):
                pytest.skip(f"no {tool} password tool here")
            made[tool] = write_password_file(folder / f"pw-{tool}", USERS, tool)
        return made[tool]

    return acl_file, password_file


@pytest.fixture(name="auth_setup")
def auth_setup_fixture(request):
    """Which of SETUPS the broker uses; tests pick one with indirect parametrization."""
    return getattr(request, "param", "acl")


@pytest.fixture(name="broker")
def auth_broker_fixture(auth_setup, auth_files):
    """Replaces the harness's broker fixture (the raw/paho factories use it)."""
    tool, with_acl, anonymous = SETUPS[auth_setup]
    acl_file, password_file = auth_files
    config = auth_config(password_file(tool) if tool else None,
                         acl_file if with_acl else None, anonymous)
    with start_broker(config=config) as broker:
        yield broker
        broker.stop()
        report = sanitizer_report(broker.log())
    if report:
        pytest.fail(f"sanitizer report from the broker:\n{report}")


def setups(*names):
    return pytest.mark.parametrize("auth_setup", names, indirect=True)


def login(raw, version, client_id, user, **connect_args):
    """A raw client logged in as `user` with the right password."""
    return raw(version, client_id, username=user, password=USERS[user], **connect_args)


def try_connect(broker, version, client_id, **connect_args):
    client = RawClient(broker, version)
    try:
        return client, client.connect(client_id, **connect_args)
    except Closed:
        client.close()
        raise


def assert_refused(broker, version, client_id, expected_codes, **connect_args):
    """CONNECT is answered with a refusing CONNACK (one of expected_codes,
    session present 0) and the broker then closes the connection."""
    client, connack = try_connect(broker, version, client_id, **connect_args)
    try:
        assert connack.reason_code in expected_codes, connack
        assert not connack.session_present
        client.wait_closed(timeout=3)
    finally:
        client.close()
    return connack


def publish_denied(client, topic, payload=b"denied", qos=1):
    """Publishes where the client has no write access. v5: the PUBACK or
    PUBREC carries 0x87. 3.1.1 has no way to say no: a normal ack or a
    closed connection. Returns True if the connection is still usable."""
    pid = client.next_pid()
    client.send(publish_packet(client.version, topic, payload, qos, pid=pid))
    try:
        ack = client.expect_skipping(PUBACK if qos == 1 else PUBREC)
    except Closed:
        assert client.version == V311, "a v5 client must be told 0x87, not cut off"
        return False
    assert ack.pid == pid
    if client.version == V5:
        assert ack.reason_code == V5_NOT_AUTHORIZED, ack
    elif qos == 2:
        client.send(ack_packet(client.version, PUBREL, pid))
        assert client.expect_skipping(PUBCOMP).pid == pid
    return True


def topics_of(packets):
    return [packet.topic for packet in packets]


# ---------------------------------------------------------------- login


@pytest.mark.parametrize("auth_setup", ["acl", "stellwerk_passwd"], indirect=True)
def test_right_password_connects(broker, version, auth_setup):
    """v311[MQTT-3.1.4-4] v5[MQTT-3.1.4-5]: every user of a password file made
    by mosquitto_passwd or by `stellwerk passwd` (-b -c, default hash) logs in."""
    for user, password in USERS.items():
        client, connack = try_connect(broker, version, f"{user}-{auth_setup}", username=user,
                                      password=password)
        client.close()
        assert connack.reason_code == 0, (user, connack)


@setups("acl", "stellwerk_passwd", "anonymous")
@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "no-password"])
def test_wrong_credentials_refused_and_logged(broker, version, auth_setup, who):
    """v5[MQTT-3.1.4-2] v311[MQTT-3.2.2-4] v311[MQTT-3.2.2-5] v5[MQTT-3.2.2-6]
    v5[MQTT-3.2.2-7]: a wrong password, an unknown user or a missing password
    is refused with a non-zero CONNACK, session present 0, then the close;
    also when anonymous clients are allowed; the broker logs the refusal."""
    credentials = {"wrong-password": {"username": "alice", "password": "Secret"},
                   "unknown-user": {"username": "mallory", "password": "secret"},
                   "no-password": {"username": "alice"}}[who]
    codes = {bad_credentials(version == V5), not_authorized(version == V5)}
    assert_refused(broker, version, f"intruder-{auth_setup}", codes, **credentials)
    wait_for_refusal_log(broker)


@pytest.mark.stellwerk_only(reason="refuses a wrong password with 5 / 0x87 (not authorized)")
def test_wrong_password_says_bad_user_name_or_password(broker, version):
    """v311[MQTT-3.2.2-5] v5[MQTT-3.2.2-8]: the code for a wrong password is
    0x04 (3.1.1) / 0x86 (v5), "bad user name or password"."""
    assert_refused(broker, version, "guesser", {bad_credentials(version == V5)},
                   username="alice", password="wrong")


def test_no_username_refused_without_anonymous(broker, version):
    """v5[MQTT-3.1.4-2] v311[MQTT-3.2.2-5] v5[MQTT-3.2.2-7]: with
    allow_anonymous false a CONNECT without user name gets 0x05 (3.1.1) /
    0x87 (v5) and the close."""
    assert_refused(broker, version, "anon", {not_authorized(version == V5)})
    wait_for_refusal_log(broker)


@setups("anonymous")
def test_anonymous_allowed_reads_only_its_acl_lines(broker, raw, version):
    """v311[MQTT-3.3.5-2]: with allow_anonymous true a client without user
    name connects; it gets the ACL lines before the first `user` line (read
    public/#) and nothing else."""
    anon = raw(version, "anon")
    assert anon.subscribe("public/#", 1).reason_codes == [1]
    writer = login(raw, version, "writer-1", "writer")
    if publish_denied(anon, "public/by-anon"):
        writer.publish("public/news", b"hello", qos=1)
        assert anon.receive_publish().topic == "public/news"


# ---------------------------------------------------------------- publish


@pytest.mark.parametrize("qos", [1, 2])
def test_denied_publish_is_not_delivered(raw, version, qos):
    """v5[MQTT-3.4.2-1] v5[MQTT-3.5.2-1] v311[MQTT-3.3.5-2]: a PUBLISH to a
    topic without write access is answered with 0x87 (v5) or a normal ack
    (3.1.1) and reaches no subscriber; the next allowed one does."""
    reader = login(raw, version, "reader", "bob")
    assert reader.subscribe("#", 1).reason_codes == [1]
    alice = login(raw, version, "alice-1", "alice")
    if publish_denied(alice, "bob/inbox", qos=qos):
        alice.publish("alice/ok", b"allowed", qos=1)
    else:
        login(raw, version, "alice-2", "alice").publish("alice/ok", b"allowed", qos=1)
    assert reader.receive_publish().topic == "alice/ok"
    reader.expect_nothing(0.3)


# ---------------------------------------------------------------- subscribe


@pytest.mark.stellwerk_only(reason="grants every SUBSCRIBE and only filters the deliveries")
def test_denied_subscription_has_failure_code(raw, version):
    """v5[MQTT-3.8.4-7] v5[MQTT-3.9.3-2] v311[MQTT-3.8.4-5] v311[MQTT-3.9.3-2]
    [MQTT-3.9.3-1]: a filter without read access gets 0x80 (3.1.1) / 0x87
    (v5) in its place in the SUBACK; the allowed filters beside it are granted."""
    alice = login(raw, version, "alice-1", "alice")
    suback = alice.subscribe_many([("alice/#", 1), ("bob/#", 1), ("public/+", 0)])
    failure = V5_NOT_AUTHORIZED if version == V5 else V311_SUBACK_FAILURE
    assert suback.reason_codes == [1, failure, 0]


def test_denied_subscription_receives_nothing(raw, version):
    """[MQTT-3.8.4-1]: a subscription to a filter without read access, whatever
    its SUBACK says, delivers nothing; an allowed one on the same client does."""
    alice = login(raw, version, "alice-1", "alice")
    alice.subscribe("bob/#", 1)
    alice.subscribe("alice/#", 1)
    writer = login(raw, version, "writer-1", "writer")
    writer.publish("bob/private", b"no", qos=1)
    writer.publish("alice/mine", b"yes", qos=1)
    assert topics_of([alice.receive_publish()]) == ["alice/mine"]
    alice.expect_nothing(0.3)


def test_hash_subscriber_gets_only_readable_topics(raw, version):
    """A `#` subscriber with `read #` and `deny secret/#` gets each message it
    may read and none that secret/# matches (which includes "secret" itself)."""
    bob = login(raw, version, "bob-1", "bob")
    assert bob.subscribe("#", 1).reason_codes == [1]
    writer = login(raw, version, "writer-1", "writer")
    topics = ["public/a", "secret/b", "alice/c", "secret/deep/d", "secret", "z"]
    for topic in topics:
        writer.publish(topic, topic.encode(), qos=1)
    assert topics_of(bob.collect(quiet=0.5)) == ["public/a", "alice/c", "z"]


def test_retained_messages_filtered_on_subscribe(raw, version):
    """v311[MQTT-3.3.1-6] v5[MQTT-3.3.1-9]: the retained messages sent on
    SUBSCRIBE are only those the subscriber may read."""
    writer = login(raw, version, "writer-1", "writer")
    for topic in ("public/r", "secret/r", "alice/r", "bob/r"):
        writer.publish(topic, topic.encode(), qos=1, retain=True)
    bob = login(raw, version, "bob-1", "bob")
    bob.subscribe("#", 1)
    assert sorted(topics_of(bob.collect())) == ["alice/r", "bob/r", "public/r"]
    alice = login(raw, version, "alice-1", "alice")
    alice.subscribe_many([("public/#", 1), ("alice/#", 1)])
    assert sorted(topics_of(alice.collect())) == ["alice/r", "public/r"]


# ---------------------------------------------------------------- patterns


def test_patterns_grant_own_client_and_user_trees(raw, version):
    """`pattern readwrite clients/%c/#` and `users/%u/#`: a client reads and
    writes under its own id and user name, not under another's."""
    dev = login(raw, version, "dev1", "alice")
    assert dev.subscribe_many([("clients/dev1/cmd", 1), ("users/alice/mail", 1)]).reason_codes \
        == [1, 1]
    watcher = login(raw, version, "bob-1", "bob")
    watcher.subscribe("clients/#", 1)
    watcher.subscribe("users/#", 1)
    assert dev.publish("clients/dev1/state", b"up", qos=1).reason_code == 0
    assert dev.publish("users/alice/note", b"n", qos=1).reason_code == 0
    if publish_denied(dev, "clients/dev2/state") and publish_denied(dev, "users/bob/note"):
        dev.publish("clients/dev1/state", b"still up", qos=1)
    delivered = [(p.topic, p.payload) for p in watcher.collect()]
    assert delivered[:2] == [("clients/dev1/state", b"up"), ("users/alice/note", b"n")]
    assert all(topic in ("clients/dev1/state", "users/alice/note") for topic, _ in delivered)
    writer = login(raw, version, "writer-1", "writer")
    writer.publish("clients/dev1/cmd", b"reboot", qos=1)
    writer.publish("clients/dev2/cmd", b"not yours", qos=1)
    writer.publish("users/alice/mail", b"hi", qos=1)
    assert sorted(topics_of(dev.collect())) == ["clients/dev1/cmd", "users/alice/mail"]


@pytest.mark.parametrize("client_id", ["+", "#", "dev+", "x#"])
def test_wildcard_in_client_id_gains_nothing_from_patterns(raw, version, client_id):
    """A client id containing '+' or '#' would turn clients/%c/# into a
    wildcard: such a client reads and writes nothing through a pattern."""
    victim = login(raw, version, "dev1", "alice")
    victim.subscribe("clients/dev1/#", 1)
    sneaky = login(raw, version, client_id, "alice")
    sneaky.subscribe("clients/+/cmd", 1)
    sneaky.subscribe("clients/#", 1)
    usable = publish_denied(sneaky, "clients/dev1/cmd", b"forged")
    writer = login(raw, version, "writer-1", "writer")
    writer.publish("clients/dev1/cmd", b"genuine", qos=1)
    assert [p.payload for p in victim.collect()] == [b"genuine"]
    if usable:
        sneaky.expect_nothing(0.3)


@pytest.mark.stellwerk_only(reason="substitutes a client id containing '/' into %c patterns")
def test_slash_in_client_id_gains_nothing_from_patterns(raw, version):
    """A client id "dev1/cmd" would turn clients/%c/# into dev1's subtree:
    it writes nothing there and reads nothing from there."""
    victim = login(raw, version, "dev1", "alice")
    victim.subscribe("clients/dev1/#", 1)
    sneaky = login(raw, version, "dev1/cmd", "alice")
    sneaky.subscribe("clients/dev1/cmd/#", 1)
    assert publish_denied(sneaky, "clients/dev1/cmd/x", b"forged")
    writer = login(raw, version, "writer-1", "writer")
    writer.publish("clients/dev1/cmd/x", b"genuine", qos=1)
    assert [p.payload for p in victim.collect()] == [b"genuine"]
    sneaky.expect_nothing(0.3)


# ---------------------------------------------------------------- $SYS


def sys_watcher(raw, version, auth_setup):
    """A client that may read $SYS/test/#: bob with the ACL, anyone without."""
    if auth_setup == "open":
        watcher = raw(version, "sys-watcher")
    else:
        watcher = login(raw, version, "sys-watcher", "bob")
    assert watcher.subscribe("$SYS/test/#", 1).reason_codes == [1]
    return watcher


@setups("acl", "open")
def test_nobody_publishes_to_sys(raw, version, auth_setup):
    """No client may publish to $SYS, not even one the ACL grants `write
    $SYS/#`, nor without any ACL file: v5 answers 0x87, nothing is delivered
    and nothing is retained."""
    watcher = sys_watcher(raw, version, auth_setup)
    publisher = (raw(version, "anon") if auth_setup == "open"
                 else login(raw, version, "writer-1", "writer"))
    publish_denied(publisher, "$SYS/test/fake", b"x")
    publisher = raw(version, "anon-2") if auth_setup == "open" else login(raw, version, "w2", "writer")
    publisher.send(publish_packet(version, "$SYS/test/retained", b"r", 0, retain=True))
    watcher.expect_nothing(0.5)
    later = sys_watcher(raw, version, auth_setup)
    later.expect_nothing(0.3)


@setups("acl", "open")
def test_will_on_sys_is_never_published(broker, raw, version, auth_setup):
    """A will on $SYS is not published when its client dies (the broker may
    also refuse the CONNECT that carries it)."""
    watcher = sys_watcher(raw, version, auth_setup)
    credentials = {} if auth_setup == "open" else {"username": "writer",
                                                   "password": USERS["writer"]}
    will = {"topic": "$SYS/test/will", "payload": b"fake", "qos": 1, "retain": True}
    dying, connack = try_connect(broker, version, "dying", will=will, **credentials)
    dying.abort()
    watcher.expect_nothing(1.0)
    assert connack.type == CONNACK


# ---------------------------------------------------------------- take-over


@setups("acl", "anonymous")
def test_refused_connect_does_not_kick_live_client(broker, raw, version):
    """v311[MQTT-3.1.4-2] v5[MQTT-3.1.4-3] v5[MQTT-3.1.4-6]: only an accepted
    CONNECT takes over a client id; a refused one (wrong password, unknown
    user) leaves the live client connected and receiving."""
    live = login(raw, version, "victim", "alice")
    live.subscribe("alice/#", 1)
    for version_of_attacker in (V311, V5):
        is_v5 = version_of_attacker == V5
        codes = {bad_credentials(is_v5), not_authorized(is_v5)}
        assert_refused(broker, version_of_attacker, "victim", codes,
                       username="alice", password="guess")
        assert_refused(broker, version_of_attacker, "victim", codes,
                       username="mallory", password="x")
    assert live.is_open()
    login(raw, version, "writer-1", "writer").publish("alice/still", b"here", qos=1)
    packet = live.receive_publish()
    assert (packet.topic, packet.payload) == ("alice/still", b"here")
    assert DISCONNECT not in [p.type for p in live.collect(quiet=0.2)]
    assert len(refusal_log_lines(broker)) >= 1
    assert all(REFUSAL_LOG_LINE.search(line) for line in refusal_log_lines(broker))


# ---------------------------------------------------------------- storm

STORM_CLIENTS = 500
STORM_THREADS = 16
STORM_LIMIT_S = 20.0


@pytest.fixture(name="storm_broker")
def storm_broker_fixture(tmp_path):
    users = {f"user{n:03d}": f"pw-{n:03d}" for n in range(STORM_CLIENTS)}
    password_file = write_bulk_password_file(tmp_path / "pw", users)
    with start_broker(config=auth_config(password_file)) as broker:
        yield broker, users
        report = sanitizer_report(broker.log())
    if report:
        pytest.fail(f"sanitizer report from the broker:\n{report}")


def _storm_worker(broker, logins, results):
    """Connects each (index, user, password): even indexes speak 3.1.1, odd
    ones v5. Appends (index, reason code or the exception's name, client)."""
    for index, user, password in logins:
        version = V311 if index % 2 == 0 else V5
        try:
            client, connack = try_connect(broker, version, f"storm-{index}", username=user,
                                          password=password)
            results.append((index, connack.reason_code, client))
        except (OSError, Closed, TimeoutError) as error:
            results.append((index, type(error).__name__, None))


def _storm_round(broker, users):
    """All clients connect at once from STORM_THREADS threads; returns
    {index: (code, client)}."""
    logins = [(n, user, password) for n, (user, password) in enumerate(users.items())]
    results = []
    threads = [threading.Thread(target=_storm_worker,
                                args=(broker, logins[k::STORM_THREADS], results))
               for k in range(STORM_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(STORM_LIMIT_S * 2)
    return {index: (code, client) for index, code, client in results}


def test_reconnect_storm_with_passwords(storm_broker):
    """500 clients with mosquitto_passwd default hashes log in at once, then
    all of them log in again with the same ids while still connected (each
    takes over its own session): every CONNECT is accepted, within ~20 s."""
    broker, users = storm_broker
    started = time.monotonic()
    first = _storm_round(broker, users)
    second = _storm_round(broker, users)
    elapsed = time.monotonic() - started
    for round_results in (first, second):
        for code, client in round_results.values():
            if client is not None:
                client.close()
    refused = {index: code for results in (first, second)
               for index, (code, _client) in results.items() if code != 0}
    assert len(first) == len(second) == STORM_CLIENTS
    assert not refused, f"{len(refused)} refused, e.g. {sorted(refused.items())[:5]}"
    assert elapsed < STORM_LIMIT_S, f"the storm took {elapsed:.1f} s"
