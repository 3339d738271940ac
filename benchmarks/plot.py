"""Draws docs/benchmarks.png for benchmarks/bench.py: wall clock vs. N hosts per playbook.

Runs in build/bench-venv (matplotlib, pinned in bench.py), not in the toolchain venv:
    build/bench-venv/bin/python benchmarks/plot.py <plot.json> <out.png>
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {"ansible.builtin.ping play": ("o", "--"), "playbooks/diagnose.yml": ("s", "-"),
         "runbook as plain tasks": ("^", ":")}


def main(data_file, out):
    with open(data_file) as fh:
        data = json.load(fh)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for label, points in data["series"].items():
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        marker, line = STYLE.get(label, ("o", "-"))
        ax.plot(xs, ys, marker=marker, linestyle=line, label=label)
    ax.set_xlabel("hosts (forks >= hosts)")
    ax.set_ylabel("wall clock, median (s)")
    ax.set_title(data["title"], fontsize=10)
    ax.set_ylim(bottom=0)
    ax.set_xticks(sorted({p[0] for pts in data["series"].values() for p in pts}))
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
