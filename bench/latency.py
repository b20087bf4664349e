"""Latency of a message through the gateway, beside the same message sent straight to Rasa's
REST channel, in one run, at 1 and 10 concurrent conversations.

    .venv/bin/python bench/latency.py [--messages 12] [--newcomers 80] [--long 120] [--think 0] [--json FILE]

Starts its own stack (real `rasa run`, action server, gateway) on spare ports with a fresh
SQLite tracker store. Each simulated newcomer sends `--messages` questions (mixed languages,
from tests/data/e2e_questions.yml); `--think S` waits S seconds (uniform 0.5 S .. 1.5 S) between
a reply and the next question, as a person reading and typing would; 0 is closed loop
(back to back), the hardest case.

Rows: `--newcomers` newcomers one after another (1 conversation at a time) and ten at a time
(10 concurrent conversations), so both rows have the same conversations; then long
conversations of `--long` messages, whose last halves show what a turn costs deep into a
conversation. Each row measures Rasa directly and the gateway in alternating blocks (Rasa,
gateway, gateway, Rasa, ...), with the same conversations on both paths.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import yaml  # noqa: E402

from welcomebot.cli import train  # noqa: E402
from welcomebot.stack import Ports, Stack  # noqa: E402

# Lets several checkouts benchmark on one machine without their ports colliding.
PORT_OFFSET = int(os.environ.get("WELCOMEBOT_TEST_PORT_OFFSET", "0"))


def questions() -> list[tuple[str, str]]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "e2e_questions.yml").read_text(encoding="utf-8"))
    return [(lang, q) for lang, topics in data.items() for qs in topics.values() for q in qs]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def newcomer(session: aiohttp.ClientSession, url: str, sender: str, pool: list, count: int,
                   think: float, latencies: list[float], errors: list[str], rng: random.Random) -> None:
    for _ in range(count):
        language, text = rng.choice(pool)
        # The metadata the gateway passes on to Rasa for this message, so that Rasa gets the same
        # message on both paths (the gateway reads `language` and `channel` from it).
        metadata = {"language": language, "language_source": "explicit", "channel": "rest"}
        body = {"sender": sender, "message": text, "metadata": metadata}
        started = time.perf_counter()
        try:
            async with session.post(url, json=body) as response:
                replies = await response.json()
                if response.status != 200 or not replies:
                    errors.append(f"{response.status}: {str(replies)[:80]}")
        except aiohttp.ClientError as error:
            errors.append(str(error))
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def scenario(url: str, concurrency: int, newcomers: int, count: int, think: float, tag: str, seed: int,
                   measure_from: int = 0) -> dict:
    """`newcomers` conversations of `count` messages, `concurrency` of them at a time; latencies
    of each conversation's messages from `measure_from` on."""
    pool = questions()
    latencies: list[float] = []
    errors: list[str] = []
    rng = random.Random(seed)
    queue = list(range(newcomers))

    async def lane(session: aiohttp.ClientSession) -> None:
        while queue:
            i = queue.pop(0)
            timed: list[float] = []
            await newcomer(session, url, f"bench-{tag}-{concurrency}-{i}-{seed}", pool, count, think, timed, errors, random.Random(rng.random()))
            latencies.extend(timed[measure_from:])

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        started = time.perf_counter()
        await asyncio.gather(*[lane(session) for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    return {
        "conversations": concurrency, "messages": len(latencies), "errors": len(errors),
        "msg_per_s": round(newcomers * count / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "latencies": latencies, "elapsed_s": elapsed, "sent": newcomers * count,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(stack: Stack) -> dict[str, float]:
    return {name: cpu_seconds(process.pid) for name, process in stack.processes.items()}


async def measured(stack: Stack, url: str, shape: str, **scenario_args: Any) -> dict:
    """One scenario, with the CPU each process of the stack spent per message: what bounds it."""
    before = cpu_snapshot(stack)
    row = await scenario(url, **scenario_args)
    after = cpu_snapshot(stack)
    sent = scenario_args["newcomers"] * scenario_args["count"]
    row["cpu_ms_per_msg"] = {name: round(1000 * (after[name] - before[name]) / sent, 1) for name in after}
    return {"shape": shape, **row}


async def compared(stack: Stack, shape: str, newcomers: int, seed: int, blocks: int = 4, **args: Any) -> list[dict]:
    """Rasa directly and through the gateway, each measured in `blocks` / 2 blocks in the order
    Rasa, gateway, gateway, Rasa, Rasa, gateway...: a machine that gets busier or idler during
    the run does not favour either path. Both paths get the same conversations (seeds)."""
    rasa = f"http://127.0.0.1:{stack.ports.rasa}/webhooks/rest/webhook"
    gateway = f"http://127.0.0.1:{stack.ports.gateway}/webhooks/rest/webhook"
    halves: dict[str, list[dict]] = {"rasa": [], "gateway": []}
    per_block = max(1, newcomers // (blocks // 2))
    for n in range(blocks):
        path = ("rasa", "gateway", "gateway", "rasa")[n % 4]
        url = rasa if path == "rasa" else gateway
        block_seed = seed + len(halves[path])  # the k-th block of each path: the same conversations
        halves[path].append(await measured(stack, url, shape, tag=f"{path}{n}", newcomers=per_block, seed=block_seed, **args))
    direct, through = (_joined(halves[p]) for p in ("rasa", "gateway"))
    through["p95_added_pct"] = round(100 * (through["p95_ms"] - direct["p95_ms"]) / direct["p95_ms"], 1)
    return [{"path": "rasa", **direct}, {"path": "gateway", **through}]


def _joined(halves: list[dict]) -> dict:
    latencies = [ms for half in halves for ms in half.pop("latencies")]
    elapsed = sum(half["elapsed_s"] for half in halves)
    return {
        "shape": halves[0]["shape"], "conversations": halves[0]["conversations"], "messages": len(latencies),
        "errors": sum(h["errors"] for h in halves), "msg_per_s": round(sum(h["sent"] for h in halves) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "cpu_ms_per_msg": {name: round(statistics.mean(h["cpu_ms_per_msg"][name] for h in halves), 1) for name in halves[0]["cpu_ms_per_msg"]},
    }


async def measure(stack: Stack, count: int, newcomers: int, long: int, think: float) -> list[dict]:
    gateway = f"http://127.0.0.1:{stack.ports.gateway}/webhooks/rest/webhook"
    await scenario(gateway, 4, 4, 5, 0, "warmup", 0)  # first requests load lazily; not measured
    shapes = [
        # One at a time, each block is short: 8 blocks interleave the paths more finely.
        ("1 at a time", dict(concurrency=1, newcomers=newcomers, count=count, think=think, seed=1, blocks=8)),
        ("10 at a time", dict(concurrency=10, newcomers=newcomers, count=count, think=think, seed=1)),
        (f"1 long ({long} msgs, last half)", dict(concurrency=1, newcomers=2, count=long, think=think, seed=1, measure_from=long // 2)),
    ]
    rows = []
    for shape, args in shapes:
        rows += await compared(stack, shape, **args)
    return rows


def stored_messages(stack: Stack, measured: int) -> None:
    """Stop if Rasa did not store the conversations: a failing tracker store falls back to
    memory (Rasa's FailSafeTrackerStore) and would be measured as if it worked."""
    with sqlite3.connect(stack.var_dir / "tracker.sqlite3") as db:
        stored = db.execute("SELECT COUNT(*) FROM events WHERE type_name = 'user' AND sender_id LIKE 'bench-%'").fetchone()[0]
    if stored < measured:
        sys.exit(f"only {stored} of the {measured} measured messages are in Rasa's tracker store: see the Rasa log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=12, help="messages per conversation")
    parser.add_argument("--newcomers", type=int, default=80, help="conversations per row and path")
    parser.add_argument("--long", type=int, default=120, help="messages in the long conversation")
    parser.add_argument("--think", type=float, default=0.0, help="mean think time between messages, seconds")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    model = train(quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(model=model, ports=Ports(15005 + PORT_OFFSET, 15055 + PORT_OFFSET, 18080 + PORT_OFFSET), var_dir=Path(tmp), log_dir=Path(tmp) / "logs",
                      extra_env={"WELCOMEBOT_LOG_LEVEL": "WARNING"})
        stack.start()
        try:
            stack.wait_ready(timeout=300)
            rows = asyncio.run(measure(stack, args.messages, args.newcomers, args.long, args.think))
            stored_messages(stack, sum(row["messages"] for row in rows))
        finally:
            stack.stop()
    mode = f"think time {args.think:.1f} s" if args.think else "closed loop (no think time)"
    print(f"\nLatency per message, {mode}, {os.cpu_count()} cores")
    names = list(rows[0]["cpu_ms_per_msg"])
    cpu_header = " ".join(f"{'cpu ' + n:>13}" for n in names)
    print(f"{'conversations':<28} {'path':<8} {'msgs':>5} {'err':>4} {'msg/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'gateway adds (p95)':>19} {cpu_header}")
    for row in rows:
        added = f"{row['p95_added_pct']:+.1f}%" if "p95_added_pct" in row else ""
        cpu = " ".join(f"{row['cpu_ms_per_msg'][n]:>10} ms" for n in names)
        print(f"{row['shape']:<28} {row['path']:<8} {row['messages']:>5} {row['errors']:>4} {row['msg_per_s']:>6} "
              f"{row['p50_ms']:>7} {row['p95_ms']:>7} {row['p99_ms']:>7} {added:>19} {cpu}")
    print("cpu <process>: CPU time that process spent per message (all cores); the busiest one bounds throughput.")
    if args.json:
        args.json.write_text(json.dumps({"mode": mode, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
