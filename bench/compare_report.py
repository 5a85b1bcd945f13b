"""Tables for bench/compare: medians over the repetitions of each scenario,
Stellwerk beside mosquitto with their ratio, and the issue's targets.

Every figure is the median of the runs; "check" counts the runs whose
delivery check passed (no loss, duplicate or reordering). A run in which
the generator used more than 90 % of its core is marked "gen-bound": its
throughput says more about the generator than about the broker. "waited N%"
says the broker spent N % of the measured time runnable but waiting for its
core (other work on the machine): its deliveries/s and latencies are then
held down, while its figures per CPU-second stay comparable.
"""

import math
import os
import statistics

import compare_brokers

GENERATOR_BOUND = 0.9
CONTENDED = 0.1


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def dig(run, path):
    value = run
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def summarize(runs):
    """Medians of the figures of one (scenario, broker) over its runs."""
    def m(path):
        return median([dig(run, path) for run in runs])

    generator_share = median([dig(r, "generator_cpu_seconds") / dig(r, "measured.seconds")
                              for r in runs if dig(r, "measured.seconds")])
    return {
        "runs": len(runs),
        "passed": sum(1 for r in runs if r.get("passed")),
        "deliveries_per_second": m("measured.deliveries_per_second"),
        "per_cpu_second": m("broker.deliveries_per_cpu_second"),
        "p50_ms": scale(m("latency_us.p50"), 1e-3),
        "p99_ms": scale(m("latency_us.p99"), 1e-3),
        "rss_mib": scale(m("broker.rss_kib"), 1 / 1024),
        "syscalls": m("broker.syscalls_per_delivery"),
        "connections": m("connections.ready"),
        "connections_per_second": m("connections.per_second"),
        "connections_per_cpu_second": m("broker.connections_per_cpu_second"),
        "broker_wait_share": median([dig(r, "broker.wait_seconds") / dig(r, "measured.seconds")
                                     for r in runs if dig(r, "measured.seconds") and dig(r, "broker.wait_seconds") is not None]),
        "bytes_per_connection": m("broker.rss_per_connection_bytes"),
        "generator_bound": generator_share is not None and generator_share > GENERATOR_BOUND,
        "problems": problems(runs),
    }


def problems(runs):
    totals = {}
    for run in runs:
        check = run.get("check", {})
        for key in ("lost", "duplicates", "out_of_order", "foreign", "protocol_errors"):
            totals[key] = totals.get(key, 0) + (check.get(key) or 0)
        totals["failed connections"] = totals.get("failed connections", 0) + \
            (dig(run, "connections.failed") or 0) + (dig(run, "connections.dropped") or 0)
    return ", ".join(f"{value} {key}" for key, value in totals.items() if value)


def scale(value, factor):
    return None if value is None else value * factor


def fmt_number(value, digits=0):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    ratio = a / b
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.4f}x"


def check_cell(summary):
    text = f"{summary['passed']}/{summary['runs']} ok"
    if summary["problems"]:
        text += f" ({summary['problems']})"
    if summary["generator_bound"]:
        text += ", gen-bound"
    if summary["broker_wait_share"] is not None and summary["broker_wait_share"] > CONTENDED:
        text += f", waited {summary['broker_wait_share']:.0%}"
    return text


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def traffic_table(results, scenarios):
    header = ["scenario", "broker", "deliveries/s", "per broker CPU-s", "p50 ms", "p99 ms", "RSS MiB",
              "syscalls/msg", "check"]
    rows = []
    for scenario in scenarios:
        s, m = results.get((scenario, "stellwerk")), results.get((scenario, "mosquitto"))
        if not s or not m:
            continue
        floor = results.get((scenario, "floor"))
        coalescing = results.get((scenario, "coalescing"))
        for name, r in (("stellwerk", s), ("stellwerk, wakeup_coalescing_us " + str(compare_brokers.COALESCING_US),
                                           coalescing), ("mosquitto", m), ("floor relay", floor)):
            if not r:
                continue
            rows.append([scenario if name == "stellwerk" else "", name, fmt_number(r["deliveries_per_second"]),
                         fmt_number(r["per_cpu_second"]), fmt_number(r["p50_ms"], 2), fmt_number(r["p99_ms"], 2),
                         fmt_number(r["rss_mib"], 1), fmt_number(r["syscalls"], 2), check_cell(r)])
        rows.append(["", "**ratio S/M**", fmt_ratio(s["deliveries_per_second"], m["deliveries_per_second"]),
                     "**" + fmt_ratio(s["per_cpu_second"], m["per_cpu_second"]) + "**",
                     fmt_ratio(s["p50_ms"], m["p50_ms"]), fmt_ratio(s["p99_ms"], m["p99_ms"]),
                     fmt_ratio(s["rss_mib"], m["rss_mib"]), fmt_ratio(s["syscalls"], m["syscalls"]), ""])
    return table(header, rows)


def connection_table(results, scenarios):
    header = ["scenario", "broker", "connections held", "connections/s", "per broker CPU-s", "broker RSS MiB",
              "RSS bytes/connection", "check"]
    rows = []
    for scenario in scenarios:
        for name in ("stellwerk", "mosquitto"):
            r = results.get((scenario, name))
            if not r:
                continue
            rows.append([scenario if name == "stellwerk" else "", name, fmt_number(r["connections"]),
                         fmt_number(r["connections_per_second"]), fmt_number(r["connections_per_cpu_second"]),
                         fmt_number(r["rss_mib"], 1),
                         fmt_number(r["bytes_per_connection"]), check_cell(r)])
    return table(header, rows)


def summarize_workers(one_worker_runs, two_worker_runs):
    """One scenario's rounds of one worker against two. Round i pairs the
    i-th run of each, made right after each other: its ratio compares runs
    of the same spell, which the medians of each side over all rounds do not."""
    rounds = [rate(two) / rate(one) if rate(one) and rate(two) else None
              for one, two in zip(one_worker_runs, two_worker_runs)]
    return {
        "one": summarize(one_worker_runs) if one_worker_runs else None,
        "two": summarize(two_worker_runs) if two_worker_runs else None,
        "round_ratios": rounds,
        "median_round_ratio": median(rounds),
        "one_worker_machine_share": median([machine_share(r) for r in one_worker_runs]),
        "two_ended_with_one_active": sum(1 for r in two_worker_runs if r.get("active_workers_at_end") == 1),
        "two_with_balance_record": sum(1 for r in two_worker_runs if "active_workers_at_end" in r),
    }


def rounds_below_one(ratios):
    ratios = [r for r in ratios if r is not None]
    return f"{sum(1 for r in ratios if r < 1)} of {len(ratios)}"


def pooled_rounds(worker_results, names):
    """The rounds of several scenarios together: their geometric mean ratio
    and its 95 % interval (normal approximation over the logarithms), or None."""
    logs = [math.log(r) for name in names for r in worker_results.get(name, {}).get("round_ratios", [])
            if r is not None and r > 0]
    if len(logs) < 3:
        return None
    mean, spread = statistics.mean(logs), statistics.stdev(logs) / math.sqrt(len(logs))
    return {"rounds": len(logs), "below_one": sum(1 for x in logs if x < 0),
            "mean": math.exp(mean), "low": math.exp(mean - 1.96 * spread), "high": math.exp(mean + 1.96 * spread)}


def rate(run):
    return dig(run, "measured.deliveries_per_second")


def machine_share(run):
    """The share of all the machine's cores that the broker and the generator
    used together while measured: near 100 %, a second worker has no core to run on."""
    seconds, broker, generator = dig(run, "measured.seconds"), dig(run, "broker.cpu_seconds"), \
        dig(run, "generator_cpu_seconds")
    if not seconds or broker is None or generator is None:
        return None
    cores = run.get("machine_cores") or os.cpu_count() or 1  # runs saved before it was kept: this machine's
    return (broker + generator) / (seconds * cores)


def workers_table(worker_results):
    header = ["scenario (stellwerk, unpinned)", "1 worker deliveries/s", "2 workers deliveries/s",
              "ratio of medians", "ratio per round (2/1)", "median of rounds", "rounds below 1",
              "2 workers ended with 1 active",
              "1 worker: machine busy"]
    rows = []
    for scenario, by in worker_results.items():
        one, two = by["one"], by["two"]
        if not one or not two:
            continue
        recorded = by["two_with_balance_record"]
        ended = f"{by['two_ended_with_one_active']} of {recorded}" if recorded else "not recorded"
        rows.append([scenario, fmt_number(one["deliveries_per_second"]), fmt_number(two["deliveries_per_second"]),
                     fmt_ratio(two["deliveries_per_second"], one["deliveries_per_second"]),
                     " ".join("n/a" if r is None else f"{r:.2f}" for r in by["round_ratios"]),
                     "**" + fmt_ratio(by["median_round_ratio"], 1.0) + "**", rounds_below_one(by["round_ratios"]),
                     ended,
                     "n/a" if by["one_worker_machine_share"] is None else f"{by['one_worker_machine_share']:.0%}"])
    return table(header, rows)
