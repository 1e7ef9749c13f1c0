"""Simulate a large batch (default 1,000 tasks) over M sandbox hosts: makespan and utilisation.

A task is placed on a host for its whole run (as `tui-agent batch` does, up to the host's capacity of runs)
and runs iterations: a model turn, then a check. A check holds one of its host's CPUs for the check's own
time plus the per-check overhead measured by bench/bench_engines.py, after passing through its host's engine
API, which serves one call at a time (calls per check x ms per call). Model turns share a rate limit
(requests per minute). All inputs are flags; the defaults are figures measured on this machine kind (see
docs/scale.md). Deterministic for a given --seed."""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from dataclasses import dataclass, field


@dataclass
class HostState:
    slots: int
    busy: int = 0
    busy_time: float = 0.0
    api_free_at: float = 0.0  # the engine serves one API call at a time
    api_time: float = 0.0
    waiting: list = field(default_factory=list)  # tasks waiting for a slot


def simulate(args, hosts_n: int) -> dict:
    rng = random.Random(args.seed)
    hosts = [HostState(args.cpus) for _ in range(hosts_n)]
    iterations = [rng.choice(args.iterations) for _ in range(args.tasks)]
    jobs = args.jobs or hosts_n * args.capacity
    events: list = []  # (time, seq, kind, task)
    seq, now, started, done = 0, 0.0, 0, 0
    left = dict(enumerate(iterations))
    placed: dict[int, int] = {}
    model_free_at, model_wait = 0.0, 0.0
    interval = 60.0 / args.model_rpm if args.model_rpm else 0.0

    def push(t: float, kind: str, task: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, task))

    def model_turn(t: float, task: int) -> None:
        nonlocal model_free_at, model_wait
        begin = max(t, model_free_at)  # requests leave at most model_rpm a minute
        model_wait += begin - t
        model_free_at = begin + interval
        push(begin + args.model_s * rng.uniform(0.5, 1.5), "check", task)

    def start_check(t: float, task: int) -> None:
        host = hosts[placed[task]]
        if host.busy >= host.slots:
            host.waiting.append(task)
            return
        host.busy += 1
        api = args.api_calls * args.api_ms / 1000
        begin = max(t, host.api_free_at)
        host.api_free_at = begin + api
        host.api_time += api
        length = args.check_s * rng.uniform(0.5, 1.5) + args.overhead_ms / 1000
        host.busy_time += (begin + api + length) - t
        push(begin + api + length, "checked", task)

    for task in range(min(jobs, args.tasks)):  # each job takes the host with the most free room
        placed[task] = min(range(hosts_n), key=lambda h: sum(1 for p in placed.values() if p == h))
        model_turn(0.0, task)
        started += 1
    while events:
        now, _, kind, task = heapq.heappop(events)
        if kind == "check":
            start_check(now, task)
            continue
        host = hosts[placed[task]]
        host.busy -= 1
        if host.waiting:
            start_check(now, host.waiting.pop(0))
        left[task] -= 1
        if left[task] > 0:
            model_turn(now, task)
            continue
        done += 1
        if started < args.tasks:  # the freed job takes the next task, on the same host
            placed[started] = placed.pop(task)
            model_turn(now, started)
            started += 1
    slots = sum(h.slots for h in hosts)  # CPUs
    return {"makespan": now, "sandbox": sum(h.busy_time for h in hosts) / (slots * now),
            "api": max(h.api_time for h in hosts) / now, "model_wait": model_wait / max(1, sum(iterations))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--cpus", type=int, default=2, help="checks at once per host (its CPUs)")
    parser.add_argument("--capacity", type=int, nargs="+", default=[2, 8],
                        help="runs placed per host (the batch's capacity; its default is the CPU count)")
    parser.add_argument("--jobs", type=int, default=0, help="runs at once (default: hosts x capacity)")
    parser.add_argument("--iterations", type=int, nargs="+", default=[1, 2, 2, 3], help="drawn per task")
    parser.add_argument("--model-s", type=float, default=6.0, help="mean model time per iteration")
    parser.add_argument("--model-rpm", type=float, default=1000, help="model requests per minute (0: no limit)")
    parser.add_argument("--check-s", type=float, default=2.0, help="mean time of the project's own check")
    parser.add_argument("--overhead-ms", type=float, default=60, help="sandbox cost per check (bench_engines)")
    parser.add_argument("--api-calls", type=int, default=7, help="engine API calls per check (pooled: create, "
                        "attach, start, wait, remove; shipped: +2 keeper round trips)")
    parser.add_argument("--api-ms", type=float, default=15, help="ms per engine API call")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.tasks} tasks; per iteration {args.model_s:.1f} s model + {args.check_s:.1f} s check + "
          f"{args.overhead_ms:.0f} ms sandbox; {args.cpus} CPUs per host; model limit "
          f"{args.model_rpm or 'none'} rpm; {args.api_calls} engine calls x {args.api_ms:.0f} ms per check")
    capacities = args.capacity
    for capacity in capacities:
        args.capacity = capacity
        print(f"capacity {capacity} runs per host:")
        print(f"  {'hosts':>5} {'makespan':>10} {'tasks/min':>10} {'CPU use':>8} {'engine API use':>15} "
              f"{'model wait/turn':>16}")
        for n in args.hosts:
            r = simulate(args, n)
            print(f"  {n:>5} {r['makespan'] / 60:8.1f} m {args.tasks / r['makespan'] * 60:10.1f} "
                  f"{r['sandbox']:7.0%} {r['api']:14.0%} {r['model_wait']:14.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
