"""Starting and stopping the brokers that bench/compare measures.

Both brokers get the same configuration, chosen so that neither drops
anything by policy (no in-flight or queue limits), neither logs per
connection, both disable Nagle and neither publishes $SYS topics. Each run
gets a fresh broker on a fresh port, so memory figures start from the same
place and no run inherits another's state.
"""

import collections
import contextlib
import datetime
import os
import re
import resource
import signal
import socket
import subprocess
import tempfile
import time

MOSQUITTO = "/usr/sbin/mosquitto"
START_TIMEOUT_S = 10
STOP_TIMEOUT_S = 15

COMMON_CONFIG = [
    "allow_anonymous true",
    "max_inflight_messages 0",
    "max_queued_messages 0",
    "set_tcp_nodelay true",
    "sys_interval 0",
    "connection_messages false",
    "log_dest stderr",
    "log_type error",
    "log_type warning",
]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_descriptor_limit():
    """In the child before exec: as many descriptors as the hard limit allows."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pinned(command, core):
    """The command run on one core (taskset execs it: the pid stays the same)."""
    return command if core is None else ["taskset", "-c", str(core), *command]


def make_certificates(directory):
    """A throwaway CA and a server certificate for 127.0.0.1 (EC P-256, both
    brokers use the same). Returns the paths (cafile, certfile, keyfile)."""
    ca, ca_key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
    cert, key = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    request, extensions = os.path.join(directory, "server.csr"), os.path.join(directory, "server.ext")
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["openssl", "req", "-x509", *new_key, "-keyout", ca_key, "-out", ca, "-days", "2",
                    "-subj", "/CN=bench-compare CA"], **quiet)
    subprocess.run(["openssl", "req", *new_key, "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"], **quiet)
    with open(extensions, "w") as out:
        out.write("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", extensions], **quiet)
    return ca, cert, key


# The "coalescing" kind: Stellwerk with another wakeup_coalescing_us than
# its default (200 µs of latency at most, traded for fewer wake-ups): 0 shows
# the other end of the trade, the lowest latency and the most CPU.
COALESCING_US = 0


def config_text(kind, port, threads, certificates=None):
    lines = [f"listener {port} 127.0.0.1"]
    if certificates:
        lines += [f"certfile {certificates[1]}", f"keyfile {certificates[2]}"]
    lines += COMMON_CONFIG
    if kind == "mosquitto":
        # As root mosquitto would switch to the "mosquitto" user, which may not
        # be able to read our temporary directory.
        lines.append("user root")
    else:
        lines.append(f"threads {threads}")
    if kind == "coalescing":
        lines.append(f"wakeup_coalescing_us {COALESCING_US}")
    return "\n".join(lines) + "\n"


def wait_port(port, proc):
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def binary_of(kind, stellwerk_bin):
    """mosquitto, stellwerk (also as "coalescing"), or "floor": bench/floor_relay.cpp, built beside stellwerk."""
    if kind == "mosquitto":
        return MOSQUITTO
    if kind == "floor":
        return os.path.join(os.path.dirname(os.path.dirname(stellwerk_bin)), "floor_relay")
    return stellwerk_bin


Running = collections.namedtuple("Running", "pid port log_path")


@contextlib.contextmanager
def running_broker(kind, stellwerk_bin, core, threads=1, certificates=None, notices=False):
    """Yields Running(pid, port, log_path) of a broker started for one run;
    stops it after. With certificates (see make_certificates) its listener
    speaks TLS only; with notices Stellwerk also logs at notice level (its
    worker balance steps)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"compare-{kind}-") as workdir:
        config = os.path.join(workdir, "broker.conf")
        with open(config, "w") as out:
            out.write(config_text(kind, port, threads, certificates) + ("log_type notice\n" if notices else ""))
        binary = binary_of(kind, stellwerk_bin)
        log_path = os.path.join(workdir, "broker.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(pinned([binary, "-c", config], core), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=workdir, preexec_fn=raise_descriptor_limit)
        try:
            if not wait_port(port, proc):
                with open(log_path, errors="replace") as log:
                    raise RuntimeError(f"{kind} did not start on port {port}:\n{log.read()}")
            yield Running(proc.pid, port, log_path)
        finally:
            stop(proc)


LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\] \[[^]]*\] \[[^]]*\] (.*)$")


def worker_balance_steps(log_path):
    """Stellwerk's worker balance steps in a broker log (written with notices):
    [{"at_s": seconds since the log's first line, "step": text}], and the
    number of active workers after the last step (None without steps)."""
    steps, first, active = [], None, None
    with open(log_path, errors="replace") as log:
        for line in log:
            match = LOG_LINE.match(line.strip())
            if not match:
                continue
            stamp = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f")
            first = first or stamp
            text = match.group(2)
            if text.startswith("worker balance"):
                steps.append({"at_s": round((stamp - first).total_seconds(), 2), "step": text})
                count = re.search(r"(\d+) active$", text)
                active = int(count.group(1)) if count else active
    return steps, active
