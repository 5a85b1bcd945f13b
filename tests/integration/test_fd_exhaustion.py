"""Running out of file descriptors (issue 5, point 7): a broker whose
descriptor limit is reached stops accepting for a moment instead of spinning
on accept(), keeps serving the clients it has, and accepts the waiting ones
as soon as descriptors free up. Run against the real binary with a low
RLIMIT_NOFILE set for the broker process alone.
"""

import contextlib
import os
import pathlib
import resource
import subprocess
import tempfile
import time

import pytest

from harness import Broker, free_port, sanitizer_report, stellwerk_bin, wait_port
from rawmqtt import V311, RawClient, connect_packet

pytestmark = pytest.mark.stellwerk_only("starts the Stellwerk binary with a descriptor limit")

DESCRIPTOR_LIMIT = 48


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def broker_with_descriptor_limit(limit):
    with tempfile.TemporaryDirectory(prefix="stellwerk-fd-") as workdir:
        port = free_port()
        config = pathlib.Path(workdir) / "broker.conf"
        config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nthreads 1\nsys_interval 0\n")
        log_path = pathlib.Path(workdir) / "broker.log"

        def lower_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen([stellwerk_bin(), "-c", str(config)], stdout=log_file, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=workdir, preexec_fn=lower_limit)
        broker = Broker("stellwerk", proc, port, workdir, log_path)
        try:
            assert wait_port(port, proc=proc), broker.log()
            yield broker
        finally:
            broker.stop()


def test_descriptor_exhaustion_pauses_accepting_and_recovers():
    with broker_with_descriptor_limit(DESCRIPTOR_LIMIT) as broker:
        time.sleep(0.3)  # the readiness probe has gone
        # One whole CONNECT first. UBSan checks a virtual call's dynamic type
        # once per type and caches the answer, and it probes memory through a
        # pipe: out of descriptors, that first check fails and reports an
        # "invalid vptr" that is not there (seen under ASan+UBSan in CI).
        warm_up = RawClient(broker, V311, timeout=5.0)
        assert warm_up.connect("fd-warm-up").reason_code == 0
        warm_up.close()
        time.sleep(0.1)
        served = []
        for index in range(DESCRIPTOR_LIMIT):
            client = RawClient(broker, V311, timeout=1.0)
            client.send(connect_packet(V311, f"fd-{index}"))
            served.append(client)
        accepted, waiting = [], []
        for client in served:
            try:
                client.expect(2)  # CONNACK
                accepted.append(client)
            except TimeoutError:
                waiting.append(client)
        assert waiting, "the limit was not reached; raise the number of clients"
        assert accepted, "nobody was served"

        # Out of descriptors: no busy loop on accept().
        before = cpu_seconds(broker.pid)
        time.sleep(2.0)
        spent = cpu_seconds(broker.pid) - before
        assert spent < 0.5, f"the broker spent {spent:.2f} s of CPU in 2 s while out of descriptors"
        # The clients it has are still served.
        assert accepted[0].is_open(timeout=2.0)

        # Descriptors free up: the waiting clients get their CONNACK.
        for client in accepted[1:]:
            client.close()
        for client in waiting:
            assert client.expect(2, timeout=5.0).reason_code == 0
        for client in waiting + accepted[:1]:
            client.close()
        print(f"\n[fd exhaustion] limit {DESCRIPTOR_LIMIT}: {len(accepted)} served at once, {len(waiting)} waited; "
              f"broker CPU while out of descriptors {spent:.3f} s in 2 s")
        assert not sanitizer_report(broker.log())
