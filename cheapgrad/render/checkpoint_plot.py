"""The checkpointing trade-off as a picture: cost(f, ∇f) / cost(f) against the peak of
stored values, one series per strategy family, the binomial bound beside the revolve
points. matplotlib is optional and loaded only here (:func:`~cheapgrad.render.plot.
require_matplotlib`).

Example::

    >>> from cheapgrad.analysis.checkpoint import checkpoint
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> spec = spec_from_dict({"input_dim": 2, "hidden": [3, 3], "activation": "tanh"})
    >>> plot_checkpoint(checkpoint(spec, ["store-all", "revolve:1"]), "ck.png")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from cheapgrad.analysis.checkpoint import CheckpointResult
from cheapgrad.render.plot import require_matplotlib, save_figure


def plot_checkpoint(result: CheckpointResult, path: str) -> None:
    """Draw :func:`checkpoint_figure` and write it to ``path``."""
    save_figure(lambda: checkpoint_figure(result), path, dpi=110)


def checkpoint_figure(result: CheckpointResult) -> Any:
    """Ratio against peak stored values (both axes log-scaled when they span more than a
    factor of ten); the binomial bound is drawn as the ratio revolve would reach with
    t(l, S) untaped evaluations at the cost of the measured average step."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    families: dict[str, list[Any]] = {}
    for row in result.rows:
        family = row.strategy.split(":")[0]
        families.setdefault(family, []).append(row)
    markers = {"store-all": "s", "recompute-all": "D", "sqrt": "*", "segments": "o",
               "revolve": "^"}
    for family, rows in families.items():
        rows.sort(key=lambda r: r.run.peak_values)
        ax.plot([r.run.peak_values for r in rows], [r.ratio for r in rows],
                marker=markers.get(family, "o"), linestyle="-" if family == "revolve" else "none",
                markersize=5, label=family)
    revolve = sorted((r for r in result.rows if r.strategy.startswith("revolve")),
                     key=lambda r: r.run.peak_values)
    if revolve:
        step = result.cost_f / result.steps
        ax.plot([r.run.peak_values for r in revolve],
                [(r.run.cost - r.run.counts["untaped"].total + (r.bound or 0) * step)
                 / result.cost_f for r in revolve],
                color="grey", linewidth=5, alpha=0.35, zorder=0,
                label="binomial bound t(l, S)")
    xs = [r.run.peak_values for r in result.rows]
    ys = [r.ratio for r in result.rows]
    if max(xs) > 10 * max(1, min(xs)):
        ax.set_xscale("log")
    if max(ys) > 10 * min(ys):
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log")
        plain = FuncFormatter(lambda y, _pos: f"{y:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel("peak stored values (floats)")
    ax.set_ylabel("cost(f, ∇f) / cost(f), counted")
    ax.set_title(f"checkpointing: ops against memory ({result.spec.name}, "
                 f"{result.steps} steps)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
