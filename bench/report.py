"""Turn result records into the plot and the summary table of
docs/benchmarks.md. `python -m bench.report RESULTS.jsonl` redraws both from a
saved run."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if line.get("kind") == "result"]


def plot(records: list[dict], png: Path) -> None:
    """p50/p95/p99 publish→receive latency against delivered messages/s, one
    panel per subscriber count, a line per target. Runs that lost or did not
    deliver in time are drawn hollow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fanout = [r for r in records if r["scenario"] == "fanout"]
    sizes = sorted({r["subscribers"] for r in fanout})
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 4.8), squeeze=False)
    styles = {"p50_ms": ":", "p95_ms": "--", "p99_ms": "-"}
    colors = {}
    for ax, size in zip(axes[0], sizes, strict=True):
        for target in sorted({r["target"] for r in fanout}):
            runs = sorted(
                (r for r in fanout if r["subscribers"] == size and r["target"] == target),
                key=_load,
            )
            runs = [r for r in runs if r["p99_ms"] is not None]
            if not runs:
                continue
            color = colors.setdefault(target, f"C{len(colors)}")
            xs = [_load(r) for r in runs]
            for key, style in styles.items():
                ax.plot(xs, [r[key] for r in runs], style, color=color, label=f"{target} {key[:3]}")
            for r in runs:
                fill = "full" if _kept_up(r) else "none"
                ax.plot(_load(r), r["p99_ms"], "o", color=color, fillstyle=fill)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"fan-out to {size} subscribers (1 room, 1 publisher)")
        ax.set_xlabel("deliveries/s: offered (fixed rates), achieved (max rate)")
        ax.set_ylabel("publish → receive latency, ms (log)")
        ax.axhline(100, color="grey", linewidth=0.6)
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=6.5, ncol=2)
    fig.suptitle("Latency percentiles vs load (hollow: fell behind, or lost messages)", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def _load(r: dict) -> float:
    return r["offered_deliveries_per_s"] or r["deliveries_per_s"]


def _kept_up(r: dict) -> bool:
    on_time = r["deliveries_per_s"] >= 0.9 * _load(r)
    return on_time and not r["lost"] and not r["duplicated"]


def summary(records: list[dict]) -> str:
    """Markdown tables: one row per measurement, with the ratio to the
    baseline of the same backend in the same run."""
    searched = [r for r in records if r["scenario"] == "search"]
    records = [r for r in records if r["scenario"] != "search"]
    if not records:
        return search_summary(searched)
    rows = []
    by_key = {}
    for r in records:
        by_key[(r["app"], r["backend"], r["server"], r["scenario"], _param(r))] = r
    for r in records:
        metric, unit = _headline(r)
        value = r.get(metric)
        base = by_key.get(("baseline", r["backend"], r["server"], r["scenario"], _param(r)))
        ratio = ""
        if r["app"] != "baseline" and base and base.get(metric) and value:
            ratio = f"{value / base[metric]:.1f}x"
        extra = _extra(r)
        rows.append(
            f"| {r['target']} | {r['scenario']} | {_param(r)} | {value} {unit} | "
            f"{ratio} | {extra} |"
        )
    head = "| target | scenario | parameters | headline | vs baseline | details |\n"
    table = head + "| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows)
    return table + ("\n\n" + search_summary(searched) if searched else "")


def search_summary(records: list[dict]) -> str:
    """The search scenario: p50/p95/p99 per query class, end to end over
    HTTP and for the selector alone (docs/benchmarks.md, "Search")."""
    by = {(r.get("phase"), r.get("class")): r for r in records}
    classes = [r["class"] for r in records if r.get("phase") == "http-sequential"]
    classes += [
        r["class"] for r in records if r.get("phase") == "selector" and r["class"] not in classes
    ]
    rows = []
    for name in classes:
        http, alone = by.get(("http-sequential", name), {}), by.get(("selector", name), {})
        cells = [
            "/".join(str(x.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms")) if x else "-"
            for x in (http, alone)
        ]
        rows.append(
            f"| {name} | {http.get('requests', alone.get('requests'))} | {cells[0]} | "
            f"{cells[1]} | {http.get('first_page_hits', '')} |"
        )
    concurrent = by.get(("http-concurrent", "overall"))
    if concurrent:
        rows.append(
            f"| {concurrent['clients']} concurrent clients | {concurrent['requests']} | "
            f"{concurrent['p50_ms']}/{concurrent['p95_ms']}/{concurrent['p99_ms']} | - | "
            f"{concurrent['requests_per_s']} req/s |"
        )
    head = "| query class | requests | HTTP p50/p95/p99 ms | selector p50/p95/p99 ms | hits |\n"
    return head + "| --- | --- | --- | --- | --- |\n" + "\n".join(rows)


def _param(r: dict) -> str:
    if r["scenario"] == "search":
        return f"{r.get('phase')} {r.get('class')}"
    if r["scenario"] == "fanout":
        return f"N={r['subscribers']}, {r['rate']} msg/s"
    if r["scenario"] == "backfill":
        return f"{r['messages']} messages"
    if r["scenario"] == "connections":
        return f"{r['sockets']} sockets"
    if r["scenario"] == "storm":
        return f"{r['clients']} clients, {r['missed']} missed each"
    if r["scenario"] == "api":
        return f"GET /api/rooms/, {r['clients']} clients"
    return f"{r['senders']} senders"


def _headline(r: dict) -> tuple[str, str]:
    return {
        "fanout": ("deliveries_per_s", "deliveries/s"),
        "backfill": ("median_ms", "ms"),
        "connections": ("kib_per_socket", "KiB/socket"),
        "storm": ("all_done_s", "s until all hold their messages"),
        "sends": ("sends_per_s", "sends/s"),
        "commits": ("entries_per_s", "entries/s"),
        "api": ("p95_ms", "ms at p95"),
    }[r["scenario"]]


def _extra(r: dict) -> str:
    if r["scenario"] == "fanout":
        return (
            f"p50/p95/p99/max {r['p50_ms']}/{r['p95_ms']}/{r['p99_ms']}/{r['max_ms']} ms, "
            f"lost {r['lost']}, dup {r['duplicated']}, sent {r['sent']}, "
            f"server CPU {r['server_cpu_cores']}, client CPU {r['client_cpu_seconds']} s "
            f"in {r['seconds']} s"
        )
    if r["scenario"] == "backfill":
        return f"runs {r['all_ms']} ms, server {r.get('server_mean_ms')} ms"
    if r["scenario"] == "connections":
        return (
            f"{r['connects_per_s']} connects/s, RSS {r['rss_before_kib']} → "
            f"{r['rss_after_kib']} KiB, errors {r['errors']}"
        )
    if r["scenario"] == "storm":
        return (
            f"median {r['median_s']} s, p99 {r['p99_s']} s, slowest/median "
            f"{r['fairness_max_over_median']}, completed {r['completed']}, errors "
            f"{r['errors']}, incomplete {r['incomplete']}, server CPU "
            f"{r['server_cpu_us_per_connection']} µs/connection"
        )
    if r["scenario"] == "api":
        return (
            f"p50/p95/p99 {r['p50_ms']}/{r['p95_ms']}/{r['p99_ms']} ms, {r['requests']} "
            f"requests, {r['requests_per_s']} req/s, errors {r['errors']}, server CPU "
            f"{r['server_cpu_ms_per_request']} ms/request"
        )
    if r["scenario"] == "commits":
        return (
            f"{r['processes']} processes, batches of {r['batch']}: p50/p99 "
            f"{r['batch_p50_ms']}/{r['batch_p99_ms']} ms, {r['committer_cpu_us_per_entry']} µs "
            f"CPU/entry, refused {r['refused']}, gapless {r['gapless']}"
        )
    return (
        f"ack p50/p99 {r['ack_p50_ms']}/{r['ack_p99_ms']} ms, errors {r['errors']}, "
        f"server CPU {r['server_cpu_cores']}"
    )


if __name__ == "__main__":
    results = load(Path(sys.argv[1]))
    plot(results, Path(sys.argv[1]).with_suffix(".png"))
    print(summary(results))
