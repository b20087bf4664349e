"""Load of the production topology: N concurrent simulated newcomers against the gateway.

    .venv/bin/python bench/load.py [--conversations 50] [--messages 5] [--think 3 8]
                                   [--limit 50,100,150,200,300] [--json FILE]

Starts, on spare ports, PostgreSQL and Redis from Debian's packages and the production stack
(welcomebot/services.py and welcomebot/stack.py, as tests/production does): two `rasa run`
replicas on the shared tracker and lock store, the action server, a gateway over both replicas
and a second gateway over replica 1 only. In one run it measures, at the same load:

- `rasa`       bare Rasa: replica 1's REST channel directly, no gateway;
- `gateway-1`  through a gateway spreading over one replica;
- `gateway-2`  through a gateway spreading over two replicas;

then (`--limit`) raises N on `gateway-2` and `gateway-1` until p95 passes 500 ms or a turn fails.

A newcomer writes `--messages` questions (mixed languages and topics from
tests/data/e2e_questions.yml, tapping a town when asked), waiting a jittered reading and typing
time (uniform between the two `--think` values, seconds) before each; newcomers arrive spread
over the first think time. Printed per row: messages, errors, msg/s, p50/p95/p99 latency, the
ratio to bare Rasa at the same N, and the CPU each process used (per cent of one core, and
milliseconds per message), which tells what bounds the throughput: the CPU time per message does
not depend on what else runs on the machine, so cores / (CPU s per message) is the ceiling. Also: model load time of each replica (start to answering)
and resident memory of every process.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import yaml  # noqa: E402

from welcomebot.cli import train  # noqa: E402
from welcomebot.i18n import translator  # noqa: E402
from welcomebot.services import ProductionServices  # noqa: E402
from welcomebot.stack import Ports, Stack  # noqa: E402

# Lets several checkouts benchmark on one machine without their ports colliding.
PORT_OFFSET = int(os.environ.get("WELCOMEBOT_TEST_PORT_OFFSET", "0"))
TARGET_P95_MS = 500.0
UNAVAILABLE = "Sorry, I cannot answer right now. Please try again in a few minutes, or call the integration office: %(phone)s"


def questions() -> list[tuple[str, str]]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "e2e_questions.yml").read_text(encoding="utf-8"))
    return [(lang, q) for lang, topics in data.items() for qs in topics.values() for q in qs]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


# --- processes: memory and CPU from /proc (psutil is not among the pinned packages) ----------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    tree, found, stack = _children(), [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, []))
    return found


def rss_mb(pid: int) -> float:
    total = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / CLOCK_TICKS


@dataclass
class Topology:
    stack: Stack
    services: ProductionServices

    def pids(self) -> dict[str, int]:
        pids = {name: p.pid for name, p in self.stack.processes.items() if p.poll() is None}
        pid_file = self.services.postgres.directory / "data" / "postmaster.pid"
        if pid_file.exists():
            pids["postgres"] = int(pid_file.read_text().split()[0])
        if self.services.redis.process is not None:
            pids["redis"] = self.services.redis.process.pid
        return pids

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids().items()}

    def memory(self) -> dict[str, float]:
        return {name: round(rss_mb(pid), 1) for name, pid in self.pids().items()}


# --- newcomers --------------------------------------------------------------------------------

async def newcomer(session: aiohttp.ClientSession, url: str, sender: str, pool: list, count: int, think: tuple[float, float],
                   latencies: list[float], errors: list[str], rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, think[1]))  # arrivals spread, not a thundering herd
    language, text = rng.choice(pool)
    for turn in range(count):
        if turn:
            await asyncio.sleep(rng.uniform(*think))
        body = {"sender": sender, "message": text, "metadata": {"language": language}}
        started = time.perf_counter()
        try:
            async with session.post(url, json=body) as response:
                replies = await response.json(content_type=None)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200 or not replies:
                    errors.append(f"{response.status}: {str(replies)[:80]}")
                    continue
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            errors.append(str(error) or type(error).__name__)
            continue
        if any(translator(language)(UNAVAILABLE, phone="")[:40] in (r.get("text") or "") for r in replies):
            errors.append("no Rasa server answered")
        towns = [b["payload"] for r in replies for b in (r.get("buttons") or []) if b["payload"].startswith("/inform")]
        # The town asked for is tapped next, as a person would; else the next question.
        text = rng.choice(towns[:-1] or towns) if towns else None
        if text is None:
            language, text = rng.choice(pool)


async def scenario(url: str, conversations: int, count: int, think: tuple[float, float], tag: str, seed: int,
                   topology: Topology) -> dict:
    pool = questions()
    latencies: list[float] = []
    errors: list[str] = []
    rng = random.Random(seed)
    cpu_before = topology.cpu()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*[
            newcomer(session, url, f"load-{tag}-{conversations}-{seed}-{i}", pool, count, think, latencies, errors, random.Random(rng.random()))
            for i in range(conversations)
        ])
        elapsed = time.perf_counter() - started
    cpu_after = topology.cpu()
    used = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    cpu = {name: round(100 * seconds / elapsed) for name, seconds in used.items()}
    # CPU time per message does not depend on what else the machine runs: the capacity figure.
    cost = {name: round(1000 * seconds / max(1, len(latencies)), 1) for name, seconds in used.items() if seconds > 0}
    return {
        "path": tag, "conversations": conversations, "messages": len(latencies), "errors": len(errors),
        "error_examples": sorted(set(errors))[:3], "seconds": round(elapsed, 1),
        "msg_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1), "p99_ms": round(percentile(latencies, 99), 1),
        "cpu_pct": {k: v for k, v in cpu.items() if v > 0},
        "cpu_ms_per_msg": cost,
    }


def passes(row: dict) -> bool:
    return row["errors"] == 0 and row["p95_ms"] <= TARGET_P95_MS


async def measure(topology: Topology, paths: dict[str, str], args: argparse.Namespace) -> list[dict]:
    think = tuple(args.think)
    for url in paths.values():  # first requests load lazily: not measured
        await scenario(url, 4, 3, (0.0, 0.2), "warmup", 0, topology)
    rows = []
    bare: Optional[dict] = None
    for tag, url in paths.items():
        row = await scenario(url, args.conversations, args.messages, think, tag, 1, topology)
        if tag == "rasa":
            bare = row
        else:
            row["ratio_p95_to_rasa"] = round(row["p95_ms"] / bare["p95_ms"], 2)
            row["ratio_msgs_to_rasa"] = round(row["msg_per_s"] / bare["msg_per_s"], 2)
        rows.append(row)
        print_row(row, flush=True)
    for tag in ("gateway-2", "gateway-1") if args.limit else ():
        for conversations in args.limit:
            row = await scenario(paths[tag], conversations, args.messages, think, tag, 2, topology)
            row["limit_search"] = True
            rows.append(row)
            print_row(row, flush=True)
            if not passes(row):
                break
    return rows


HEADER = f"{'path':<10} {'conv':>5} {'msgs':>5} {'err':>4} {'msg/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'p95/rasa':>8}  CPU % of one core"


def print_row(row: dict, flush: bool = False) -> None:
    ratio = f"{row['ratio_p95_to_rasa']:.2f}" if "ratio_p95_to_rasa" in row else ""
    cpu = " ".join(f"{k}={v}" for k, v in sorted(row["cpu_pct"].items(), key=lambda kv: -kv[1]))
    print(f"{row['path']:<10} {row['conversations']:>5} {row['messages']:>5} {row['errors']:>4} {row['msg_per_s']:>6} "
          f"{row['p50_ms']:>7} {row['p95_ms']:>7} {row['p99_ms']:>7} {ratio:>8}  {cpu}", flush=flush)
    cost = " ".join(f"{k}={v}" for k, v in sorted(row["cpu_ms_per_msg"].items(), key=lambda kv: -kv[1]))
    print(f"{'':<10} CPU ms per message: {cost} (total {sum(row['cpu_ms_per_msg'].values()):.1f})", flush=flush)
    if row["errors"]:
        print(f"{'':<10} errors, e.g.: {'; '.join(row['error_examples'])}", flush=flush)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=50, help="concurrent newcomers (default 50)")
    parser.add_argument("--messages", type=int, default=5, help="messages per newcomer")
    parser.add_argument("--think", type=float, nargs=2, default=[3.0, 8.0], metavar=("MIN", "MAX"),
                        help="reading and typing time before each message, seconds (default 3 8)")
    parser.add_argument("--limit", type=lambda v: [int(x) for x in v.split(",") if x], default=[],
                        help="comma-separated N to try on the gateways until p95 > 500 ms or an error, e.g. 100,150,200,300")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    model = train(quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        services = ProductionServices.on_ports(15432 + PORT_OFFSET, 16379 + PORT_OFFSET).start()
        stack = Stack(model=model, ports=Ports(15047 + PORT_OFFSET, 15057 + PORT_OFFSET, 18087 + PORT_OFFSET), var_dir=Path(tmp),
                      log_dir=Path(tmp) / "logs", profile="production", replicas=2,
                      extra_env={**services.env(), "WELCOMEBOT_LOG_LEVEL": "WARNING"})
        topology = Topology(stack, services)
        try:
            stack.start()
            one_replica = {**stack.env(), "WELCOMEBOT_RASA_URLS": stack.rasa_urls()[0],
                           "WELCOMEBOT_GATEWAY_PORT": str(stack.ports.gateway + 1)}
            stack.start_process("gateway-1", stack.commands()["gateway"], one_replica)
            stack.wait_ready(timeout=400)
            idle_memory = topology.memory()
            load_times = {name: round(stack.ready_after[name], 1) for name in stack.rasa_names()}
            print("\nModel load (rasa run start to answering, both replicas starting at once): "
                  + ", ".join(f"{k} {v} s" for k, v in load_times.items()), flush=True)
            print(f"Load: {args.conversations} newcomers x {args.messages} messages, think time {args.think[0]:g}-{args.think[1]:g} s, "
                  f"{os.cpu_count()} cores (load average before: {os.getloadavg()[0]:.1f}), PostgreSQL tracker + Redis lock\n{HEADER}",
                  flush=True)
            paths = {
                "rasa": f"{stack.rasa_urls()[0]}/webhooks/rest/webhook",
                "gateway-1": f"http://127.0.0.1:{stack.ports.gateway + 1}/webhooks/rest/webhook",
                "gateway-2": f"http://127.0.0.1:{stack.ports.gateway}/webhooks/rest/webhook",
            }
            rows = asyncio.run(measure(topology, paths, args))
            loaded_memory = topology.memory()
        finally:
            stack.stop()
            services.stop()
    print(f"(load average after: {os.getloadavg()[0]:.1f}; other work on the machine shows as CPU that no process above used)")
    print("\nResident memory, MB (idle after start -> after the load):")
    for name in idle_memory:
        print(f"  {name:<10} {idle_memory[name]:>7.1f} -> {loaded_memory.get(name, float('nan')):>7.1f}")
    limits = {}
    for tag in ("gateway-2", "gateway-1"):
        passing = [r["conversations"] for r in rows if r["path"] == tag and passes(r)]
        failing = [r["conversations"] for r in rows if r["path"] == tag and not passes(r)]
        if passing or failing:
            limits[tag] = {"passes_up_to": max(passing, default=None), "fails_at": min(failing, default=None)}
            print(f"Limit {tag}: p95 <= {TARGET_P95_MS:.0f} ms without errors up to {limits[tag]['passes_up_to']} newcomers"
                  + (f", not at {limits[tag]['fails_at']}" if limits[tag]["fails_at"] else " (no failing N tried)"))
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "model_load_s": load_times, "rows": rows,
                                         "memory_mb": {"idle": idle_memory, "loaded": loaded_memory}, "limits": limits}, indent=2))


if __name__ == "__main__":
    main()
