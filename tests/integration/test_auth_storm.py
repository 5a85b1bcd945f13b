"""A password storm (issue 5, point 3): 10,000 clients, each with its own
user and $7$ password made by mosquitto_passwd, connect at once and then
reconnect at once. Every one must be accepted; the time each wave took is
printed (timing never fails a test). Password checks run on the
CredentialChecker's threads, so the event loops keep serving meanwhile.
"""

import asyncio
import os

import pytest

from auth_storm import storm
from auth_support import auth_config, password_tool_available, write_bulk_password_file
from harness import start_broker

STORM_CLIENTS = int(os.environ.get("STELLWERK_STORM_CLIENTS", "10000"))


@pytest.mark.skipif(not password_tool_available("mosquitto"), reason="needs mosquitto_passwd")
def test_ten_thousand_clients_with_passwords_connect_and_reconnect(tmp_path, capsys):
    users = {f"user-{i}": f"pw-{i}" for i in range(STORM_CLIENTS)}
    passwords = write_bulk_password_file(tmp_path / "passwords", users)
    with start_broker(config=auth_config(password_file=passwords)) as broker:
        result = asyncio.run(storm(broker.host, broker.port, STORM_CLIENTS))
        with capsys.disabled():
            print(f"\n[auth storm] {STORM_CLIENTS} clients ({broker.kind}): first wave {result['first']:.2f} s, "
                  f"reconnect wave {result['again']:.2f} s, refused {result['refused']}")
        assert result["refused"] == 0, f"refused: {result['example']}"
