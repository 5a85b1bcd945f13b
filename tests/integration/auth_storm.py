"""A reconnect storm of clients with passwords (issue 5, point 3): COUNT
clients, each with its own user and password, connect at once; then all of
them drop and reconnect at once. Prints how long each wave took.

Used by test_auth_storm.py; also runnable by hand:
    /usr/bin/python3 auth_storm.py HOST PORT COUNT
(the broker's password file must hold user-<i> / pw-<i> for i < COUNT).
"""

import asyncio
import resource
import sys
import time

from rawmqtt import V311, connect_packet

CONCURRENT_OPENS = 512  # connections being opened at any moment


async def connect_one(host, port, index, limiter):
    """Connects user-<index>; returns (CONNACK return code, writer) or raises."""
    async with limiter:
        reader, writer = await asyncio.open_connection(host, port)
    writer.write(connect_packet(V311, f"storm-{index}", username=f"user-{index}",
                                password=f"pw-{index}".encode()))
    await writer.drain()
    connack = await reader.readexactly(4)
    return connack[3], writer


async def wave(host, port, count, timeout):
    """One wave: every client connects; returns (seconds, codes, writers)."""
    limiter = asyncio.Semaphore(CONCURRENT_OPENS)
    started = time.monotonic()
    results = await asyncio.wait_for(
        asyncio.gather(*(connect_one(host, port, i, limiter) for i in range(count)), return_exceptions=True),
        timeout)
    elapsed = time.monotonic() - started
    codes = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    writers = [r[1] for r in results if isinstance(r, tuple)]
    return elapsed, codes, writers


async def close_all(writers):
    for writer in writers:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)


async def storm(host, port, count, timeout=120.0):
    """Returns {"first": seconds, "again": seconds, "refused": n} for two waves."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 256)), hard))
    first, codes, writers = await wave(host, port, count, timeout)
    refused = sum(1 for code in codes if code != 0)
    await close_all(writers)
    again, codes, writers = await wave(host, port, count, timeout)
    refused += sum(1 for code in codes if code != 0)
    await close_all(writers)
    return {"first": first, "again": again, "refused": refused,
            "example": next((c for c in codes if c != 0), None)}


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    result = asyncio.run(storm(host, port, count))
    print(f"{count} clients with passwords: first wave {result['first']:.2f} s, "
          f"reconnect wave {result['again']:.2f} s, refused {result['refused']}")


if __name__ == "__main__":
    main()
