"""`python -m bench [scenario ...] [--quick] [--targets ...]`: run the benchmark.

Starts each target's servers itself, runs the chosen scenarios (default: all
but `search`, which seeds 1,000,000 messages and runs only when named, on
rooms-postgres, and `notifications`, which drains 10,000 notification jobs
with one `manage.py worker`, also only when named, and issue 20's
`uploads` and `fanout-attachments`, also only when named, and `commits`, the group
commit without sockets, also only when named) against each, appends one
JSON line per measurement to bench/results/<timestamp>[-quick].jsonl, draws
bench/results/latency.png (latency percentiles vs load) and prints a summary table. See
docs/benchmarks.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from . import api_load, attachments, notifications, scenarios, search
from .clients import ClientPool, raise_fd_limit
from .report import plot, summary
from .servers import Target, profiled, start

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = (
    "fanout",
    "backfill",
    "connections",
    "storm",
    "sends",
    "commits",
    "api",
    "search",
    "notifications",
    "uploads",
    "fanout-attachments",
)
# They start their own processes.
ON_THEIR_OWN = {"search", "notifications", "uploads", "fanout-attachments"}
ATTACHMENTS = {"uploads", "fanout-attachments"}
DEFAULT_SCENARIOS = ("fanout", "backfill", "connections", "storm", "sends")
TARGETS = {
    t.name: t
    for t in (
        Target("rooms", "sqlite"),
        Target("baseline", "sqlite"),
        Target("rooms", "postgres"),
        Target("baseline", "postgres"),
        Target("rooms", "postgres", "uvicorn"),
        Target("rooms", "sqlite", "uvicorn"),
        Target("baseline", "sqlite", "uvicorn"),
        Target("rooms", "sqlite", "granian"),
    )
}
DEFAULT_TARGETS = ["rooms-sqlite", "baseline-sqlite", "rooms-postgres", "baseline-postgres"]
QUICK_TARGETS = ["rooms-sqlite", "baseline-sqlite"]


@dataclass(frozen=True)
class Plan:
    fanout: tuple  # ((subscribers, (rate, ...)), ...); rate None = max
    duration: float  # seconds per fan-out run
    max_duration: float  # seconds of the max-rate run
    drain: float  # seconds allowed after the last publish
    backfill: int
    connections: tuple
    storm: int  # clients of the reconnect storm
    sends_seconds: float


FULL = Plan(
    fanout=((100, (20, None)), (1000, (20, 50, 100, None))),
    duration=10,
    max_duration=8,
    drain=10,
    backfill=10_000,
    connections=(5_000, 10_000),
    storm=10_000,
    sends_seconds=10,
)
QUICK = Plan(
    fanout=((100, (20, None)),),
    duration=3,
    max_duration=3,
    drain=5,
    backfill=1_000,
    connections=(500,),
    storm=500,
    sends_seconds=3,
)


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    versions = {}
    for package in (
        "Django",
        "channels",
        "channels-redis",
        "daphne",
        "Twisted",
        "websockets",
        "uvicorn",
        "granian",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        **versions,
    }


def rooms_needed(plan: Plan) -> list[str]:
    fan = [f"fan-{n}-{rate or 'max'}" for n, rates in plan.fanout for rate in rates]
    return [*fan, "backfill", "idle", "storm", "sends"]


def run_target(
    target: Target,
    plan: Plan,
    chosen: list[str],
    emit,
    processes: int,
    profile: Path | None = None,
    server_env: dict | None = None,
) -> None:
    # Closed-loop senders, each its own user (the rate limit is off anyway):
    # 10 on the embedded default, 100 over the PostgreSQL workers (issue 14).
    senders = 100 if target.backend == "postgres" else 10
    users = ["bench-sub", "bench-pub", *(f"bench-s{i}" for i in range(senders))]
    print(f"== {target.name}: starting {target.workers} worker(s)", flush=True)
    server = start(target, users, rooms_needed(plan), env=server_env)
    pool = ClientPool(processes)

    def spy(name: str):
        return profiled(server, profile, f"{target.name}-{name}")

    try:
        if "fanout" in chosen:
            for subscribers, rates in plan.fanout:
                saturated = False
                for rate in rates:
                    if rate and saturated:
                        continue  # higher fixed rates would only pile up; max still runs
                    duration = plan.duration if rate else plan.max_duration
                    room = f"fan-{subscribers}-{rate or 'max'}"
                    with spy(room):
                        record = scenarios.fanout(
                            server, pool, room, subscribers=subscribers, rate=rate,
                            duration=duration, drain=plan.drain,
                        )  # fmt: skip
                    emit(target, "fanout", record)
                    saturated = saturated or bool(rate and record["lost"])
        if "backfill" in chosen:
            with spy("backfill"):
                record = scenarios.backfill(server, "backfill", count=plan.backfill)
            emit(target, "backfill", record)
        if "connections" in chosen:
            for count in plan.connections:
                with spy(f"connections-{count}"):
                    record = scenarios.connections(server, pool, "idle", count=count)
                emit(target, "connections", record)
        if "storm" in chosen:
            with spy("storm"):
                record = scenarios.storm(server, pool, "storm", count=plan.storm)
            emit(target, "storm", record)
        if "api" in chosen and target.backend == "postgres":
            with spy("api"):
                record = api_load.run(server, processes=processes)
            emit(target, "api", record)
        if "sends" in chosen:
            with spy("sends"):
                record = scenarios.sends(
                    server, "sends", senders=senders, duration=plan.sends_seconds
                )
            emit(target, "sends", record)
        if "commits" in chosen and target.app == "rooms":
            record = scenarios.commits(
                server, "sends", senders=senders, duration=plan.sends_seconds
            )
            emit(target, "commits", record)
        tracebacks = server.deployment.tracebacks()
        if tracebacks:
            print(
                f"!! {target.name}: {len(tracebacks)} tracebacks in the server logs "
                f"({server.deployment.workdir})",
                flush=True,
            )
    finally:
        pool.stop()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "scenarios",
        nargs="*",
        help=f"any of {', '.join(SCENARIOS)} (default: the first five)",
    )
    parser.add_argument("--quick", action="store_true", help="small N, short runs (< 2 min)")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), help="servers to run")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy each scenario (notifications: cProfile the worker) into this directory",
    )
    parser.add_argument(
        "--pg-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="search: a PostgreSQL setting of the benchmark database for this run only",
    )
    parser.add_argument(
        "--search-settings",
        default="project.settings",
        metavar="MODULE",
        help="search: the servers' Django settings (e.g. bench.search_pool_settings)",
    )
    parser.add_argument(
        "--sockets",
        type=int,
        nargs="+",
        metavar="N",
        help="connections: these counts of idle sockets, one after another (default 5,000 10,000)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable of the servers (e.g. ROOMS_DB_POOL=0)",
    )
    args = parser.parse_args(argv)
    server_env = dict(item.split("=", 1) for item in args.server_env)
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    chosen = args.scenarios or list(DEFAULT_SCENARIOS)
    plan = QUICK if args.quick else FULL
    if args.sockets:
        plan = dataclasses.replace(plan, connections=tuple(args.sockets))
    targets = args.targets or (QUICK_TARGETS if args.quick else DEFAULT_TARGETS)
    raise_fd_limit()

    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{stamp}{'-quick' if args.quick else ''}.jsonl"
    info = {
        "run": stamp,
        "command": " ".join(["python -m bench", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "uptime": _uptime(),
    }
    records = []
    with out.open("w") as sink:
        sink.write(json.dumps({"kind": "run", **info}) + "\n")

        def emit(target: Target, scenario: str, record: dict) -> None:
            line = {
                "kind": "result",
                "run": stamp,
                "target": target.name,
                "app": target.app,
                "backend": target.backend,
                "server": target.server,
                "scenario": scenario,
                "load": scenarios.machine_load(),
                **record,
            }
            records.append(line)
            sink.write(json.dumps(line) + "\n")
            sink.flush()
            print(f"   {target.name} {scenario}: {_brief(record)}", flush=True)

        started = time.monotonic()
        for name in targets:
            if set(chosen) - ON_THEIR_OWN:
                run_target(
                    TARGETS[name], plan, chosen, emit, args.processes, args.profile, server_env
                )
            if "search" in chosen:
                search.run(
                    TARGETS[name],
                    args.quick,
                    emit,
                    pg_options=args.pg_option,
                    settings=args.search_settings,
                )
            if "notifications" in chosen:
                notifications.run(TARGETS[name], args.quick, emit, profile=args.profile)
            if "uploads" in chosen:
                attachments.uploads(TARGETS[name], args.quick, emit)
            if "fanout-attachments" in chosen:
                attachments.fanout(
                    TARGETS[name], args.quick, emit, args.processes, profile=args.profile
                )
        sink.write(
            json.dumps(
                {"kind": "end", "seconds": round(time.monotonic() - started), "uptime": _uptime()}
            )
            + "\n"
        )
    print(f"results: {out}")
    if any(r["scenario"] == "fanout" for r in records):
        png = RESULTS / ("latency-quick.png" if args.quick else "latency.png")
        plot(records, png)
        print(f"plot: {png}")
    notified = [r for r in records if r["scenario"] == "notifications"]
    attached = [r for r in records if r["scenario"] in ATTACHMENTS]
    others = [r for r in records if r["scenario"] not in ATTACHMENTS | {"notifications"}]
    if others or not (notified or attached):
        print(summary(others))
    if notified:
        print(notifications.summary(notified))
    if attached:
        print(attachments.summary(attached))
    return 0


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _brief(record: dict) -> str:
    keys = (
        "subscribers",
        "rate",
        "deliveries_per_s",
        "p50_ms",
        "p99_ms",
        "lost",
        "duplicated",
        "median_ms",
        "sockets",
        "kib_per_socket",
        "connects_per_s",
        "all_done_s",
        "median_s",
        "fairness_max_over_median",
        "sends_per_s",
        "server_cpu_cores",
        "client_cpu_seconds",
        "phase",
        "class",
        "requests",
        "p95_ms",
        "emails",
        "pushes",
        "complete",
        "seconds",
        "notifications_per_s",
        "requests_per_s",
        "worker_cpu_ms_per_notification",
        "machine_busy_cores",
        "messages",
        "with_attachment",
        "server_cpu_us_per_delivery",
        "uploads",
        "failures",
        "uploads_per_s",
        "server_cpu_ms_per_upload",
        "rss_before_kib",
        "peak_rss_kib",
    )
    return " ".join(f"{k}={record[k]}" for k in keys if k in record)


if __name__ == "__main__":
    sys.exit(main())
