"""The capacity model: what 1,000, 10,000 and 100,000 servers need, from the simulation's measurements
(``benchmarks.simulation``) and a few stated assumptions about how busy a server is.

Measured (per song, per request, per classified song, per second of radio) times assumed (songs shared,
requests and radio hours per server and day, the peak hour) gives the load; the load over a core
planned at ``busy_target`` gives processes and workers. Nothing here is measured: it is arithmetic on a
record, rendered into the simulation's page and the docs' capacity page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from benchmarks.markdown import table
from benchmarks.record import BENCHMARK_RESULTS, read
from storage.postgres import MAX_CONNECTIONS

STEPS = (1_000, 10_000, 100_000)
DAY_S = 86_400
GB = 1e9


@dataclass(frozen=True)
class Assumptions:
    """How busy a server is on average (not measured: change them to match your servers)."""

    shares_per_server_day: float = 5.0  # new songs classified
    requests_per_server_day: float = 40.0  # playlists, more like this, radio plans
    radio_hours_per_server_day: float = 0.2
    peak_to_mean: float = 3.0  # the busiest hour against the day's mean
    servers_per_shard: int = 1_000  # Discord's recommended count; it allows at most 2,500
    busy_target: float = 0.5  # share of a core planned for at the peak
    postgres_connections: int = 100  # PostgreSQL's default max_connections


ASSUMPTIONS = Assumptions()


def _measured(results: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The backend row the model rests on (PostgreSQL when measured: the database of a sharded bot)
    and the model's figures."""
    rows = {row["backend"]: row for row in results["backends"]}
    return rows.get("postgresql") or rows["sqlite"], results["engine"]


def request_cpu_ms(row: dict[str, Any], mix: list[float]) -> float:
    """CPU milliseconds of the mean playlist, similar or radio request, weighted as in the mix."""
    kinds = ("playlist", "similar", "radio")
    weights = dict(zip(("classify", *kinds), mix))
    total = sum(weights[kind] for kind in kinds)
    return sum(row["cpu_ms_alone"][kind] * weights[kind] for kind in kinds) / total


def step(servers: int, results: dict[str, Any]) -> dict[str, Any]:
    """What ``servers`` servers need."""
    row, engine = _measured(results)
    assumed = Assumptions(**results["assumptions"])
    peak = assumed.peak_to_mean
    songs = servers * results["setup"]["mean_songs"]
    requests_per_s = servers * assumed.requests_per_server_day * peak / DAY_S
    shares_per_s = servers * assumed.shares_per_server_day * peak / DAY_S
    radios = servers * assumed.radio_hours_per_server_day * peak / 24
    bot_cores = requests_per_s * request_cpu_ms(row, results["setup"]["mix"]) / 1000
    bot_cores += shares_per_s * row["cpu_ms_alone"]["classify"] / 1000 + radios * engine["radio_cpu_s_per_audio_s"]
    processes = max(1, math.ceil(bot_cores / assumed.busy_target))
    workers = math.ceil(shares_per_s * engine["classify_cpu_s"] / assumed.busy_target)
    pools_mb = songs * row["memory_bytes_per_song"] / 1e6
    return {
        "servers": servers,
        "songs": songs,
        "database_gb": songs * row["database_bytes_per_song"] / GB,
        "growth_gb_per_year": servers * assumed.shares_per_server_day * 365 * row["database_bytes_per_song"] / GB,
        "requests_per_s": requests_per_s,
        "shares_per_s": shares_per_s,
        "radios": radios,
        "bot_cores": bot_cores,
        "processes": processes,
        "shards": max(math.ceil(servers / assumed.servers_per_shard), processes),
        "workers": workers,
        "pools_mb_per_process": pools_mb / processes,
        "process_mb": row["rss_end_mb"] + engine["model_mb"],
        "connections": (processes + workers) * MAX_CONNECTIONS,
    }


def changes(need: dict[str, Any], assumed: Assumptions) -> str:
    """What running at this step takes, in words."""
    said = []
    if need["processes"] == 1 and need["shards"] == 1:
        said.append("one process on SQLite is enough; classification runs in its threads")
    else:
        said.append(
            f"{need['shards']:,} shards over {need['processes']:,} processes (`--shard-ids`, `--shard-count`), "
            f"so PostgreSQL (`--database-url`) and {max(need['workers'], 1):,} `python -m bot worker` process(es)"
        )
    if need["connections"] > assumed.postgres_connections:
        said.append(
            f"up to {need['connections']:,} database connections, past PostgreSQL's default "
            f"{assumed.postgres_connections}: raise `max_connections` or put a pooler (PgBouncer) in front"
        )
    return "; ".join(said)


def capacity(results: dict[str, Any]) -> str:
    """The capacity model's tables and what changes at each step, as Markdown."""
    if results["engine"] is None:
        return "The capacity model needs the model's and the radio's figures, which this run could not measure."
    row, engine = _measured(results)
    assumed = Assumptions(**results["assumptions"])
    needs = [step(servers, results) for servers in STEPS]
    inputs = table(
        ["figure", "value", "from"],
        [
            ["songs per server (mean)", f"{results['setup']['mean_songs']:,.0f}", "the simulated heavy tail"],
            ["database bytes per song", f"{row['database_bytes_per_song']:,}", f"measured, {row['backend']}"],
            ["memory bytes per cached song", f"{row['memory_bytes_per_song']:,}", "measured"],
            ["CPU ms per request", f"{request_cpu_ms(row, results['setup']['mix']):.1f}", "measured, the mix"],
            ["CPU s per classified song", f"{engine['classify_cpu_s']:.2f}", "measured, shipped model"],
            ["classifications per core and hour", f"{3600 / engine['classify_cpu_s']:,.0f}", "from the above"],
            ["radios per core", f"{1 / engine['radio_cpu_s_per_audio_s']:,.0f}", "measured, real songs"],
            [
                f"process memory with a {results['setup']['budget_mb']:g} MiB pool cache, MB",
                f"{needs[0]['process_mb']:,.0f}",
                "measured at the run's end, with the model",
            ],
            ["songs shared per server and day", f"{assumed.shares_per_server_day:g}", "assumed"],
            ["requests per server and day", f"{assumed.requests_per_server_day:g}", "assumed"],
            ["radio hours per server and day", f"{assumed.radio_hours_per_server_day:g}", "assumed"],
            ["busiest hour against the mean", f"{assumed.peak_to_mean:g}x", "assumed"],
            ["servers per shard", f"{assumed.servers_per_shard:,}", "Discord's recommendation"],
            ["share of a core planned at the peak", f"{assumed.busy_target:.0%}", "assumed"],
        ],
    )
    plan = table(
        ["servers", "songs", "PostgreSQL size, GB", "growth, GB a year", "requests per s at peak"]
        + ["radios at peak", "bot processes", "shards", "workers", "pool_cache_mb to hold every pool"],
        (
            [f"{need['servers']:,}", f"{need['songs']:,.0f}", f"{need['database_gb']:,.1f}"]
            + [f"{need['growth_gb_per_year']:,.1f}", f"{need['requests_per_s']:,.1f}", f"{need['radios']:,.0f}"]
            + [f"{need['processes']:,}", f"{need['shards']:,}", f"{need['workers']:,}"]
            + [f"{need['pools_mb_per_process']:,.0f}"]
            for need in needs
        ),
    )
    steps = "\n".join(f"- **{need['servers']:,} servers**: {changes(need, assumed)}." for need in needs)
    return (
        f"### The capacity model\n\nWhat it rests on:\n\n{inputs}\n\nWhat that makes:\n\n{plan}\n\n"
        "Each process needs the memory measured above, which held a pool cache of "
        f"{results['setup']['budget_mb']:g} MiB, plus whatever budget it gets beyond that; holding every pool of "
        "its servers takes the last column, and a smaller budget trades memory for re-reads (the hit rate "
        "above). What changes at each step:\n\n"
        f"{steps}\n"
    )


def from_record(name: str = "simulation") -> str:
    """The capacity model of the simulation's kept record, with what measured it (for the docs' page)."""
    record = read(BENCHMARK_RESULTS / f"{name}.json")
    machine = record["machine"]
    return (
        f"From the record of `{record['command']}` ({record['date'][:10]}, {machine['cpu']}, {machine['cores']} "
        f"cores, load average {record['load']['before'][0]} at the start; [its page](measurements/{name}.md)).\n\n"
        + capacity(record["results"])
    )
