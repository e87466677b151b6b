#!/usr/bin/env python3
"""W7: peak resident memory and time of W2's gradient (G = 16) against the horizon T, with the
full tape and with binomial checkpointing. Runs bench_checkpoint once per configuration (each in
its own process, so its peak resident memory is its own), then rewrites the section between the
w7 markers of docs/checkpointing.md and the plot docs/checkpointing_w7.svg.

    bench/checkpoint_table.py [--build build/release] [--max-full 100000] [--max-steps 1000000]
"""
import argparse
import datetime
import math
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUDGET = 64 << 20  # the byte budget of the checkpointed runs


def run(binary, mode, steps, repeat):
    out = subprocess.run([str(binary), "--run", mode, str(steps), str(repeat)], check=True,
                         capture_output=True, text=True).stdout
    return {k: v for k, v in (item.split("=", 1) for item in out.split())}


def machine():
    model = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    name = re.search(r"Model name:\s*(.+)", model)
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{name.group(1).strip() if name else 'unknown CPU'}, {cores} cores"


def mib(value):
    return float(value) / (1 << 20)


def svg_plot(rows_full, rows_ckpt, path):
    """Two log-log panels: peak resident memory and seconds against T."""
    width, height, pad = 360, 260, 48
    panels = [("peak resident memory (MiB)", "peak_rss", mib),
              ("time (s)", "min_cpu_seconds", float)]
    all_t = [int(r["steps"]) for r in rows_full + rows_ckpt]
    tmin, tmax = math.log10(min(all_t)), math.log10(max(all_t))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height}" '
             'font-family="sans-serif" font-size="11">',
             f'<rect width="{2 * width}" height="{height}" fill="white"/>']
    for p, (title, key, conv) in enumerate(panels):
        x0 = p * width
        values = [conv(r[key]) for r in rows_full + rows_ckpt]
        vmin = math.floor(math.log10(min(values)))
        vmax = math.ceil(math.log10(max(values)))

        def sx(t):
            return x0 + pad + (math.log10(t) - tmin) / (tmax - tmin) * (width - 1.5 * pad)

        def sy(v):
            return height - pad - (math.log10(v) - vmin) / max(vmax - vmin, 1) * (height - 1.6 * pad)

        parts.append(f'<text x="{x0 + width / 2}" y="16" text-anchor="middle">{title}</text>')
        parts.append(f'<line x1="{x0 + pad}" y1="{height - pad}" x2="{x0 + width - pad / 2}" '
                     f'y2="{height - pad}" stroke="black"/>')
        parts.append(f'<line x1="{x0 + pad}" y1="{height - pad}" x2="{x0 + pad}" y2="{pad * 0.6}" '
                     'stroke="black"/>')
        for e in range(int(tmin), int(tmax) + 1):
            parts.append(f'<text x="{sx(10 ** e)}" y="{height - pad + 14}" '
                         f'text-anchor="middle">1e{e}</text>')
        for e in range(vmin, vmax + 1):
            parts.append(f'<text x="{x0 + pad - 4}" y="{sy(10 ** e) + 4}" '
                         f'text-anchor="end">1e{e}</text>')
            parts.append(f'<line x1="{x0 + pad}" y1="{sy(10 ** e)}" x2="{x0 + width - pad / 2}" '
                         f'y2="{sy(10 ** e)}" stroke="#ddd"/>')
        parts.append(f'<text x="{x0 + width / 2}" y="{height - 10}" '
                     'text-anchor="middle">steps T</text>')
        for rows, color, label, dy in ((rows_full, "#c0392b", "full tape", 0),
                                       (rows_ckpt, "#2471a3", "checkpointed, 64 MiB", 14)):
            points = [(sx(int(r["steps"])), sy(conv(r[key]))) for r in rows]
            parts.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                color, " ".join(f"{x:.1f},{y:.1f}" for x, y in points)))
            for x, y in points:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
            parts.append(f'<text x="{x0 + pad + 8}" y="{pad * 0.6 + 10 + dy}" fill="{color}">'
                         f'{label}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=str(ROOT / "build" / "release"))
    parser.add_argument("--max-full", type=int, default=100000)
    parser.add_argument("--max-steps", type=int, default=1000000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    binary = pathlib.Path(args.build) / "bench" / "bench_checkpoint"

    horizons = [t for t in (1000, 10000, 100000, 1000000) if t <= args.max_steps]
    repeats = {1000: 7, 10000: 5, 100000: 2, 1000000: 1}
    full = [run(binary, "full", t, repeats[t]) for t in horizons if t <= args.max_full]
    ckpt = [run(binary, f"bytes:{BUDGET}", t, repeats[t]) for t in horizons]
    for f in full:
        c = next(r for r in ckpt if r["steps"] == f["steps"])
        assert f["checksum"] == c["checksum"], (f, c)

    lines = [f"Measured on {machine()}, {datetime.date.today().isoformat()}, one thread, "
             f"times the fastest of {repeats[1000]}, {repeats[10000]}, {repeats[100000]} and "
             f"{repeats[1000000]} runs at T = 1e3, 1e4, 1e5, 1e6, "
             f"by `bench/checkpoint_table.py` (release build); times are CPU seconds of the process "
             f"(one thread), which the load of other processes on a shared machine does not "
             f"inflate as it does wall time. Checkpointed runs use a byte budget "
             f"of {BUDGET >> 20} MiB; peak resident memory is the whole process's (VmHWM).", "",
             "| T | full tape: peak RSS | full tape: time | checkpointed: peak RSS | time | "
             "snapshots s | r | advances (= Revolve's bound) | time / full tape |",
             "|---|---|---|---|---|---|---|---|---|"]
    by_steps = {r["steps"]: r for r in full}
    for c in ckpt:
        f = by_steps.get(c["steps"])
        if f:
            full_cells = (f"{mib(f['peak_rss']):.1f} MiB", f"{float(f['min_cpu_seconds']):.3f} s")
        else:
            # Not run: the tape grows linearly in T, so scale the longest measured run.
            last = full[-1]
            scale = int(c["steps"]) / int(last["steps"])
            full_cells = (f"≈ {mib(last['peak_rss']) * scale / 1024:.1f} GiB (extrapolated)",
                          f"≈ {float(last['min_cpu_seconds']) * scale:.0f} s (extrapolated)")
        ratio = f"{float(c['min_cpu_seconds']) / float(f['min_cpu_seconds']):.2f}" if f else ""
        lines.append(f"| {int(c['steps']):.0e} | {full_cells[0]} | {full_cells[1]} | "
                     f"{mib(c['peak_rss']):.1f} MiB | {float(c['min_cpu_seconds']):.3f} s | "
                     f"{c['snapshots']} | {c['repetitions']} | {c['advances']} | {ratio} |")
    lines.append("")
    lines.append("Loss and gradient checksum (sum |g| over k and v0) of every checkpointed run "
                 "equal the full tape's to the last digit where both ran.")

    # Time overhead at T = 1e4 against the recomputations each budget's schedule predicts. The
    # configurations take turns for a few rounds and each keeps its fastest run, so load from
    # other processes on the machine touches them alike.
    t = 10000
    budgets = (10000, 1000, 100, 30, 10, 3)
    modes = ["forward", "full"] + [f"snapshots:{s}" for s in budgets]
    best = {}
    for _ in range(args.rounds):
        for mode in modes:
            r = run(binary, mode, t, 3)
            if mode not in best or float(r["min_cpu_seconds"]) < float(best[mode]["min_cpu_seconds"]):
                best[mode] = r
    base = float(best["full"]["min_cpu_seconds"])
    per_forward = float(best["forward"]["min_cpu_seconds"]) / t
    lines += ["", f"At T = 1e4 (fastest of {3 * args.rounds} runs each, taking turns): full tape "
              f"{base:.3f} s; one forward-only step (recorded on a tape cleared after it, as an "
              f"advance is) {per_forward * 1e6:.2f} us. Revolve's count predicts the time as the "
              "full tape's plus one forward step per advance.", "",
              "| budget s | r | advances (= Revolve's bound) | advances / T | predicted time | "
              "measured time | measured / full tape | measured / predicted |",
              "|---|---|---|---|---|---|---|---|"]
    for s in budgets:
        c = best[f"snapshots:{s}"]
        predicted = base + int(c["advances"]) * per_forward
        measured = float(c["min_cpu_seconds"])
        lines.append(f"| {s} | {c['repetitions']} | {c['advances']} | "
                     f"{int(c['advances']) / t:.2f} | {predicted:.3f} s | {measured:.3f} s | "
                     f"{measured / base:.2f} | {measured / predicted:.2f} |")

    doc = ROOT / "docs" / "checkpointing.md"
    text = doc.read_text()
    begin, end = "<!-- w7:begin -->", "<!-- w7:end -->"
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    doc.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)
    svg_plot(full, ckpt, ROOT / "docs" / "checkpointing_w7.svg")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
