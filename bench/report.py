#!/usr/bin/python3
"""Turns chat-bench's JSON lines into bench/RESULTS.md and the p95 plot.

usage: report.py RESULTS.jsonl RESULTS.md PLOT.png "SERVER ..." ["PHASE ..."]

PHASE: hold broadcast throughput latency cluster tls (default: all). Only what the
phases measured is written; a run of some phases says so at the top.
"""
import datetime
import json
import os
import platform
import subprocess
import sys


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    return cpu, os.cpu_count(), platform.release(), mem


def fmt(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, float) and digits:
        return f"{v:,.{digits}f}"
    return f"{int(round(v)):,}"


def done(r):
    """A broadcast run that finished all its rounds."""
    return r is not None and r["completed"] == r["rounds"]


def ms(v):
    """A latency in ms: two decimals below 10 ms, one above."""
    if v is None:
        return "–"
    return f"{v:.2f}" if v < 10 else f"{v:,.1f}"


ALL_PHASES = ["hold", "broadcast", "throughput", "latency", "cluster",
              "tls"]
# A round that never finished is recorded as 1e9 ms.
TIMED_OUT_MS = 1e8


LAT_SERVERS = ("chat-node", "limit-relay")
LAT_GOAL = 1.3


def latency(rows):
    """The section "Broadcast latency, issue 11" and its goal row.

    rows: the latency phase's broadcast results, several runs per server and
    in-flight value; each cell takes the run with the median p95 at that N.
    Returns (lines, goal or None).
    """
    steps = [r for r in rows if r["scenario"] == "broadcast"]
    if not steps:
        return [], None
    cells = {}  # (in_flight, n, server) -> [result, ...]
    for r in steps:
        cells.setdefault((r["in_flight"], r["clients"], r["server"]),
                         []).append(r)

    def median(k):
        runs = sorted(cells.get(k, []), key=lambda r: r["p95_ms"])
        return runs[(len(runs) - 1) // 2] if runs else None

    def lat(r, key):
        if r is None:
            return "–"
        if not done(r):
            return f"timed out ({r['completed']} of {r['rounds']})"
        return ms(r[key])

    flights = sorted({k[0] for k in cells})
    ns = sorted({k[1] for k in cells})
    nruns = max(len(v) for v in cells.values())
    nrounds = max(r["rounds"] for r in steps)
    out = ["## Broadcast latency, issue 11\n",
           "One client sends a line; the time until the last of the N-1 "
           "others has it. With 1 in flight the next line leaves as soon "
           "as the previous one arrived everywhere; with 16, sixteen are "
           f"under way at once. {nrounds} lines per N. Each server ran "
           f"{nruns} time{'s' if nruns > 1 else ''} per in-flight value, a "
           "fresh process each time stepping N up, chat-node and the limit "
           "relay alternating; each cell is the run with the median p95 at "
           "that N (its p50 beside it), every run's p95 below the table. "
           f"Goal: chat-node's p95 ≤ {LAT_GOAL}× the limit relay's at "
           "every N.\n"]
    worst = None  # (ratio, n, in_flight)
    missing = 0
    for m in flights:
        out.append(f"### {m} line{'s' if m > 1 else ''} in flight\n")
        out.append("| N | chat-node p50 ms | chat-node p95 ms | "
                   "limit-relay p50 ms | limit-relay p95 ms | "
                   f"p95 ratio | ≤ {LAT_GOAL}× |")
        out.append("|---|---|---|---|---|---|---|")
        for n in ns:
            a = median((m, n, "chat-node"))
            b = median((m, n, "limit-relay"))
            ratio, met = "–", "–"
            if done(a) and done(b) and b["p95_ms"] > 0:
                q = a["p95_ms"] / b["p95_ms"]
                ratio, met = f"{q:.2f}×", "yes" if q <= LAT_GOAL else "**no**"
                if worst is None or q > worst[0]:
                    worst = (q, n, m)
            else:
                missing += 1
            out.append(f"| {n:,} | {lat(a, 'p50_ms')} | {lat(a, 'p95_ms')} "
                       f"| {lat(b, 'p50_ms')} | {lat(b, 'p95_ms')} "
                       f"| {ratio} | {met} |")
        out.append("")
        out.append(every_p95(cells, m, ns, LAT_SERVERS, lambda s: s))
    cnt = len(flights) * len(ns)
    goal = (f"broadcast p95 ≤ {LAT_GOAL}× the limit relay's at every N ("
            + ", ".join(f"{n:,}" for n in ns) + "), "
            + " and ".join(str(m) for m in flights)
            + " lines in flight (issue 11)")
    if worst is None:
        return out, (goal, "not measured side by side", False)
    q, n, m = worst
    ok = missing == 0 and q <= LAT_GOAL
    measured = f"worst {q:.2f}× (N={n:,}, {m} in flight)"
    if missing:
        measured += f"; {missing} of {cnt} cells missing"
    return out, (goal, measured, ok)


CLUSTER_GOAL = 0.5


def median_run(runs, key):
    """The run with the median `key` (the lower of two middles), or None."""
    runs = sorted(runs, key=lambda r: r[key])
    return runs[(len(runs) - 1) // 2] if runs else None


def split_runs(rows, setup):
    """Throughput runs per setup and broadcast runs per (in-flight, N,
    setup): what the side-by-side tables read."""
    tps, cells = {}, {}
    for r in rows:
        if r["scenario"] == "throughput":
            tps.setdefault(setup(r), []).append(r)
        elif r["scenario"] == "broadcast":
            cells.setdefault((r["in_flight"], r["clients"], setup(r)),
                             []).append(r)
    return tps, cells


def throughput_pair(tps, keys, label, cpu_label):
    """Throughput of two setups side by side (the runs with the median
    rate) and the ratio second/first: (lines, first, second)."""
    one = median_run(tps.get(keys[0], []), "deliveries_per_s")
    many = median_run(tps.get(keys[1], []), "deliveries_per_s")
    if not (one or many):
        return [], one, many
    clients = (one or many)["clients"]
    out = [f"### Throughput, {clients:,} clients, flat out\n",
           f"| metric | {label[keys[0]]} | {label[keys[1]]} | ratio |",
           "|---|---|---|---|"]

    def row(name, key, digits=0, ratio=True):
        a = None if one is None else one.get(key)
        b = None if many is None else many.get(key)
        q = (f"{b / a:.2f}×" if ratio and a and b is not None else "–")
        if digits == "ms":
            cells_ = [ms(a), ms(b)]
        else:
            cells_ = [fmt(a, digits), fmt(b, digits)]
        out.append(f"| {name} | {cells_[0]} | {cells_[1]} | {q} |")

    row("deliveries/s", "deliveries_per_s")
    row("delivery latency p50 ms", "p50_ms", "ms")
    row("delivery latency p99 ms", "p99_ms", "ms")
    row(cpu_label, "server_cpu_pct", 1, False)
    row("chat-bench CPU %", "bench_cpu_pct", 1, False)
    row("clients dropped", "dropped", 0, False)
    row("duplicate deliveries", "extra_deliveries", 0, False)
    row("lines not delivered to all after a 10 s drain", "unfinished",
        0, False)
    out.append("")
    every = []
    for k in keys:
        runs = sorted(tps.get(k, []), key=lambda r: r["run"])
        if runs:
            every.append(f"{label[k]} " + ", ".join(
                fmt(r["deliveries_per_s"]) for r in runs))
    out.append("Deliveries/s of every run, in order: "
               + "; ".join(every) + ".\n")
    return out, one, many


def broadcast_pair(cells, keys, label):
    """Broadcast latency of two setups side by side, per in-flight and N
    (each cell the run with the median p95), and the p95 ratio."""
    out = []
    flights = sorted({k[0] for k in cells})
    ns = sorted({k[1] for k in cells})
    for m in flights:
        nr = max(r["rounds"] for k, v in cells.items() if k[0] == m
                 for r in v)
        out.append(f"### Broadcast, {m} line{'s' if m > 1 else ''} in "
                   f"flight, {nr:,} lines per N\n")
        out.append(f"| N | {label[keys[0]]} p50 ms | {label[keys[0]]} p95 ms "
                   f"| {label[keys[1]]} p50 ms | {label[keys[1]]} p95 ms | "
                   "p95 ratio |")
        out.append("|---|---|---|---|---|---|")

        def lat(r, key):
            if r is None:
                return "–"
            if not done(r):
                return f"timed out ({r['completed']} of {r['rounds']})"
            return ms(r[key])

        for n in ns:
            a = median_run(cells.get((m, n, keys[0]), []), "p95_ms")
            b = median_run(cells.get((m, n, keys[1]), []), "p95_ms")
            q = (f"{b['p95_ms'] / a['p95_ms']:.2f}×"
                 if done(a) and done(b) and a["p95_ms"] > 0 else "–")
            out.append(f"| {n:,} | {lat(a, 'p50_ms')} | {lat(a, 'p95_ms')} "
                       f"| {lat(b, 'p50_ms')} | {lat(b, 'p95_ms')} | {q} |")
        out.append("")
        out.append(every_p95(cells, m, ns, keys, lambda k: label[k]))
    return out


def cluster(rows):
    """The section "Cluster": several nodes of one chat beside one node.

    rows: the cluster phase's results, several runs per setup (one node, the
    cluster); throughput takes the run with the median rate, each broadcast
    cell the run with the median p95 at that N. Returns the lines.
    """
    if not rows:
        return []
    nodes = max((r.get("nodes", 1) for r in rows), default=1)
    label = {"one": "1 node", "cluster": f"{nodes} nodes"}
    keys = ("one", "cluster")
    tps, cells = split_runs(
        rows, lambda r: "cluster" if r.get("nodes", 1) > 1 else "one")
    out = ["## Cluster\n",
           f"One chat of {nodes} chat-node processes (CLUSTER.md: node K of "
           f"{nodes} slots, linked over loopback through CAF's middleman), "
           "every one pinned to core 0, beside one chat-node alone (no "
           "cluster option) on core 0, chat-bench on core 1; the clients spread round-robin over "
           "the nodes, every line counted at every other client of every "
           "node. The cluster was measured only once every node's "
           f"/healthz showed `\"peers\": {nodes - 1}`, and after one line "
           "from a client of each node had reached every other client. The "
           "two setups alternated, a fresh process (or cluster) each time; "
           "each cell is the run with the median. The nodes share the "
           "single node's one core: this measures what the links cost, not "
           "what more cores would give.\n"]
    lines, one, many = throughput_pair(tps, keys, label,
                                       "server CPU % (all nodes, one core)")
    out += lines
    if one and many and one["deliveries_per_s"] > 0:
        q = many["deliveries_per_s"] / one["deliveries_per_s"]
        out.append(f"Goal: {nodes} nodes deliver ≥ "
                   f"{100 * CLUSTER_GOAL:.0f}% of one node's "
                   f"deliveries/s (medians): {100 * q:.0f}%, "
                   + ("met" if q >= CLUSTER_GOAL else "**not met**")
                   + ".\n")
    out += broadcast_pair(cells, keys, label)
    return out


def tls(rows):
    """The section "TLS": chat-node over wss:// beside ws://, the two
    alternating in one run; a ratio, not a goal. Returns the lines."""
    if not rows:
        return []
    label = {"ws": "ws://", "wss": "wss:// (TLS)"}
    keys = ("ws", "wss")
    tps, cells = split_runs(rows, lambda r: "wss" if r.get("tls") else "ws")
    out = ["## TLS\n",
           "chat-node with `--tls-cert`/`--tls-key` (wss://; chat-bench "
           "speaks TLS 1.3, the suite OpenSSL picks, without checking the "
           "certificate) beside the same chat-node without (ws://), both "
           "pinned to core 0, chat-bench on core 1. The two alternated, a "
           "fresh process each time; each cell is the run with the median. "
           "Both go through the same connection type and outbox "
           "(net/either_socket.hpp): the ratio is what encrypting costs.\n"]
    lines, _, _ = throughput_pair(tps, keys, label, "server CPU %")
    out += lines
    out += broadcast_pair(cells, keys, label)
    return out


def every_p95(cells, m, ns, keys, name):
    """The line under a latency table: each key's p95 of every run, per N.
    `cells` maps (in-flight, N, key) to that cell's runs."""
    every = []
    for k in keys:
        per_n = []
        for n in ns:
            runs = sorted(cells.get((m, n, k), []), key=lambda r: r["run"])
            if runs:
                per_n.append(f"N={n:,}: " + ", ".join(
                    ms(r["p95_ms"]) if done(r) else "timed out"
                    for r in runs))
        if per_n:
            every.append(f"{name(k)} " + "; ".join(per_n))
    return "p95 ms of every run, in order: " + " — ".join(every) + ".\n"

def main():
    src, md, png, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    servers = names.split()
    phases = sys.argv[5].split() if len(sys.argv) > 5 else ALL_PHASES
    rows = [json.loads(l) for l in open(src) if l.startswith("{")]
    # Untagged lines (before bench/run tagged them) count for every phase.
    rows = [r for r in rows if r.get("phase", phases[0]) in phases]
    # The latency phase (issue 11) has its own section; the rest of the
    # report reads the other phases only.
    lat_rows = [r for r in rows if r.get("phase") == "latency"]
    cl_rows = [r for r in rows if r.get("phase") == "cluster"]
    tls_rows = [r for r in rows if r.get("phase") == "tls"]
    rows = [r for r in rows
            if r.get("phase") not in ("latency", "cluster", "tls")]
    by = {s: {"hold": None, "steps": [], "max": None, "tp": None,
              "tp_runs": []}
          for s in servers}
    for r in rows:
        s = by.get(r["server"])
        if s is None:
            continue
        if r["scenario"] == "hold":
            s["hold"] = r
        elif r["scenario"] == "broadcast":
            s["steps"].append(r)
        elif r["scenario"] == "broadcast-max":
            s["max"] = r
        elif r["scenario"] == "throughput":
            s["tp_runs"].append(r)
    # Throughput runs several times (TP_RUNS): the table shows the run with
    # the median rate, so one disturbed run does not decide a ratio.
    for s in by.values():
        runs = sorted(s["tp_runs"], key=lambda r: r["deliveries_per_s"])
        if runs:
            s["tp"] = runs[(len(runs) - 1) // 2]

    def get(s, kind, key):
        r = by[s][kind]
        return None if r is None else r.get(key)

    def step_at(s, n, key):
        for r in by[s]["steps"]:
            if r["clients"] == n:
                return r.get(key)
        return None

    # metric name, getter, digits, higher is better
    metrics = [
        ("hold: clients held", lambda s: get(s, "hold", "open"), 0, True),
        ("hold: connects per second",
         lambda s: get(s, "hold", "connects_per_s"), 0, True),
        ("hold: server bytes per idle client",
         lambda s: get(s, "hold", "bytes_per_client"), 0, False),
        ("hold: chat-bench CPU %",
         lambda s: get(s, "hold", "bench_cpu_pct"), 1, None),
        ("broadcast: largest N with p95 ≤ 500 ms",
         lambda s: get(s, "max", "largest_n"), 0, True),
        ("broadcast: p95 ms at N=1,000",
         lambda s: step_at(s, 1000, "p95_ms"), 1, False),
        ("broadcast: deliveries/s at N=1,000",
         lambda s: step_at(s, 1000, "deliveries_per_s"), 0, True),
        ("broadcast: chat-bench CPU % at N=1,000",
         lambda s: step_at(s, 1000, "bench_cpu_pct"), 1, None),
        ("throughput: deliveries/s, 1,000 clients",
         lambda s: get(s, "tp", "deliveries_per_s"), 0, True),
        ("throughput: delivery latency p50 ms",
         lambda s: get(s, "tp", "p50_ms"), 1, False),
        ("throughput: delivery latency p99 ms",
         lambda s: get(s, "tp", "p99_ms"), 1, False),
        ("throughput: server CPU %",
         lambda s: get(s, "tp", "server_cpu_pct"), 1, None),
        ("throughput: chat-bench CPU %",
         lambda s: get(s, "tp", "bench_cpu_pct"), 1, None),
        ("throughput: clients dropped",
         lambda s: get(s, "tp", "dropped"), 0, None),
    ]
    base = "chat-node"
    cpu, ncpu, kernel, mem = machine()
    now = datetime.datetime.now(datetime.timezone.utc)
    out = []
    partial = [p for p in ALL_PHASES if p not in phases]
    out.append("# Benchmark results\n" if not partial else
               "# Benchmark results, some phases only\n")
    out.append(f"Written by `bench/run` on {now:%Y-%m-%d %H:%M} UTC.\n")
    if partial:
        out.append(f"Only the phases {', '.join(phases)} ran "
                   f"(`PHASES=\"{' '.join(phases)}\"`): this file holds only "
                   "what they measured; `bench/RESULTS.md`, the record of a "
                   "run of every phase, was left as it was.\n")
    out.append(f"- Machine: {ncpu} cores (`nproc`), {cpu}, kernel {kernel}, "
               f"{mem / 2**30:.1f} GiB RAM.")
    out.append("- Each server pinned to core 0 (`taskset -c 0`), chat-bench "
               "to core 1 (`taskset -c 1`), loopback only, one server at a "
               "time, a fresh server process per scenario.")
    out.append("- chat-node ran with `--max-frames-per-second=0` (no read "
               "pacing: a load generator sends faster than a person) and "
               "`--announce-limit=100`; every peer sums up arrivals above "
               "the same limit. chat-node's other limits kept their "
               "defaults (`--max-backlog-bytes` 1 MiB).")
    load_now = open("/proc/loadavg").read().split()[:3]
    load_start = os.environ.get("BENCH_LOAD_START", "?").split()[:3]
    out.append(f"- Load average (1, 5, 15 min) at the start: "
               f"{' '.join(load_start)}, at the end: {' '.join(load_now)}. "
               "Above ~2 means other processes (here: other engineers' "
               "builds on the same 2 cores) competed with the server and "
               "chat-bench for their cores, and every figure below is lower "
               "than on an idle machine.")
    # Only the rows of the phases that ran.
    metrics = [m for m in metrics if m[0].split(":")[0] in phases]
    if metrics:
        out.append("- Ratios in brackets: the server's figure divided by "
                   "chat-node's.")
    out.append("")
    if metrics:
        out.append("| metric | " + " | ".join(servers) + " |")
        out.append("|---" * (len(servers) + 1) + "|")
    for name, fn, digits, _ in metrics:
        cells = []
        b = fn(base) if base in servers else None
        for s in servers:
            v = fn(s)
            cell = fmt(v, digits)
            if (s != base and v is not None and b and
                    name.split(":")[0] != "" and "CPU" not in name
                    and "dropped" not in name):
                cell += f" ({v / b:.2f}×)"
            cells.append(cell)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    if metrics:
        out.append("")
        out.append("Throughput is a closed loop: every client has one line "
                   "in flight and sends the next as soon as all others got "
                   "the previous one, so up to N × (N-1) deliveries are "
                   "queued at once. Its latencies measure that queue, and a "
                   "p99 close to the measured window (only deliveries inside "
                   "it count) means the server never caught up with it. "
                   "Broadcast keeps 16 lines in flight and measures the time "
                   "until the last of N-1 recipients has a line.\n")

    # The goals of issues 6 and 11.
    peers = [s for s in servers if s not in (base, "limit-relay")]
    lat_section, lat_goal = latency(lat_rows)
    goals_at = len(out)  # the heading goes here if there are goals

    def best(fn, higher=True):
        vals = [(fn(s), s) for s in peers if fn(s) is not None]
        if not vals:
            return None, None
        return max(vals) if higher else min(vals)

    tp = lambda s: get(s, "tp", "deliveries_per_s")
    p99 = lambda s: get(s, "tp", "p99_ms")
    bmax = lambda s: get(s, "max", "largest_n")

    # The bar for throughput is a peer's fastest run, not its median: a peer
    # that sometimes stalls (uvloop here) must not lower the bar.
    def fastest(s):
        return max(by[s]["tp_runs"], key=lambda r: r["deliveries_per_s"],
                   default={})

    goals = []
    bv, bs = best(lambda s: fastest(s).get("deliveries_per_s"))
    if tp(base) and bv:
        r = tp(base) / bv
        goals.append((f"throughput ≥ 2× the best peer ({bs}, its fastest "
                      "run; chat-node's median)", f"{r:.2f}×", r >= 2))
    lim = tp("limit-relay") if "limit-relay" in servers else None
    if tp(base) and lim:
        r = tp(base) / lim
        goals.append(("throughput ≥ 70% of the limit relay (medians)",
                      f"{100 * r:.0f}%", r >= 0.7))
    if p99(base) is not None and bs and fastest(bs).get("p99_ms") is not None:
        theirs = fastest(bs)["p99_ms"]
        goals.append((f"throughput p99 lower than the best peer ({bs}, "
                      "its fastest run)", f"{p99(base):.1f} ms vs "
                      f"{theirs:.1f} ms", p99(base) < theirs))
    bv2, bs2 = best(bmax)
    if bmax(base) is not None and bv2:
        r = bmax(base) / bv2
        goals.append((f"broadcast largest N ≥ 2× the best peer ({bs2})",
                      f"{bmax(base):,} vs {bv2:,}: {r:.2f}×", r >= 2))
    held = get(base, "hold", "open")
    bpc = get(base, "hold", "bytes_per_client")
    if held is not None:
        goals.append(("hold ≥ 19,000 clients on one node", f"{held:,}",
                      held >= 19000))
    if bpc is not None:
        goals.append(("≤ 8 KiB server memory per idle client",
                      f"{bpc:,} bytes", bpc <= 8192))
    runs = {s: [r["deliveries_per_s"] for r in by[s]["tp_runs"]]
            for s in servers}
    if any(len(v) > 1 for v in runs.values()):
        out.append("Throughput ran " + str(max(len(v) for v in runs.values()))
                   + " times per server, a fresh process each time; the "
                   "tables use the median run. Deliveries/s of every run, "
                   "in order: "
                   + "; ".join(f"{s} " + ", ".join(fmt(v, 0) for v in runs[s])
                               for s in servers if runs[s]) + ".\n")
    issues = (["6"] if goals else []) + (["11"] if lat_goal else [])
    if lat_goal:
        goals.append(lat_goal)
    if goals:
        out.insert(goals_at, "## Against the goals of issue"
                   + ("s " if len(issues) > 1 else " ")
                   + " and ".join(issues) + "\n")
        out.append("| goal | measured | met |")
        out.append("|---|---|---|")
    for g, m, ok in goals:
        out.append(f"| {g} | {m} | {'yes' if ok else '**no**'} |")
    out.append("")
    if bpc:
        out.append(f"Projection: at {bpc:,} bytes per idle client, this "
                   f"machine's {mem / 2**30:.1f} GiB would hold about "
                   f"{int(mem * 0.8 / bpc):,} chat-node clients in 80% of "
                   "its memory, were the open-file limit (here 20,000, "
                   "hard) raised above that; beyond ~28,000 clients per "
                   "client address, the clients' own ephemeral ports run "
                   "out, which is why chat-bench spreads its connections "
                   "over 127.0.0.2-9.\n")

    # Where the generator's headroom is: its CPU at the highest rate.
    rates = [(r.get("deliveries_per_s", 0), r) for r in rows
             if r.get("deliveries_per_s")]
    if rates:
        top, r = max(rates, key=lambda x: x[0])
        out.append(f"Generator headroom: the highest rate measured, "
                   f"{top:,.0f} deliveries/s ({r['server']}, "
                   f"{r['scenario']}, N={r['clients']:,}), cost chat-bench "
                   f"{r['bench_cpu_pct']:.0f}% of its core "
                   f"(the server: {r.get('server_cpu_pct', 0):.0f}% of "
                   "its core).\n")

    out += lat_section
    out += cluster(cl_rows)
    out += tls(tls_rows)

    # Broadcast p95 against N.
    ns = sorted({r["clients"] for s in servers for r in by[s]["steps"]})
    if ns:
        link = os.path.relpath(png, os.path.dirname(os.path.abspath(md)))
        out.append("## Broadcast p95 against N\n")
        out.append(f"![broadcast p95 against N]({link})\n")
        out.append("| N | " + " | ".join(servers) + " |")
        out.append("|---" * (len(servers) + 1) + "|")
    for n in ns:
        out.append(f"| {n:,} | " + " | ".join(
            fmt(step_at(s, n, "p95_ms"), 1) for s in servers) + " |")
    if ns:
        out.append("")
    out.append(f"Raw results: `{src}` (one JSON line per result, as "
               "chat-bench printed it, tagged with the phase and run).")
    with open(md, "w") as f:
        f.write("\n".join(out) + "\n")
    if not ns:
        return

    data = os.path.join(os.path.dirname(src), "p95.dat")
    plots = []
    with open(data, "w") as f:
        for i, s in enumerate(servers):
            f.write(f"# {s}\n")
            for r in by[s]["steps"]:
                if r["completed"] == r["rounds"]:
                    f.write(f"{r['clients']} {r['p95_ms']}\n")
            f.write("\n\n")
            plots.append(f"'{data}' index {i} with linespoints lw 2 "
                         f"title '{s}'")
    script = (
        "set terminal pngcairo size 900,560 font 'sans,11'\n"
        f"set output '{png}'\n"
        "set title 'Broadcast round trip p95 against N "
        "(16 broadcasts in flight; server on one core)'\n"
        "set xlabel 'clients N'\nset ylabel 'p95 (ms)'\n"
        "set logscale y\nset grid\nset key right bottom box opaque\n"
        "set arrow from graph 0, first 500 to graph 1, first 500 nohead "
        "dt 2 lc rgb 'red'\n"
        "plot " + ", ".join(plots) + "\n")
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


if __name__ == "__main__":
    main()
