"""The sweep as a picture: ratio against the number of parameters; for a transformer
sweep, each published formula's error against n_ctx / d_model.

matplotlib is optional (``pip install 'cheapgrad[plot]'``) and imported only when a plot
is made; without it :func:`require_matplotlib` raises :class:`PlotError` with a one-line
hint.

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> from cheapgrad.analysis.sweep import Grid, plan_sweep, run_sweep
    >>> from cheapgrad.render.plot import plot_sweep
    >>> base = spec_from_dict({"input_dim": 3, "hidden": [], "activation": "tanh"})
    >>> result = run_sweep(plan_sweep(base, Grid((1, 2), (2, 8), ("tanh",)), jobs=1))
    >>> plot_sweep(result, "sweep.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cheapgrad.analysis.sixn import COMPARED
from cheapgrad.analysis.sweep import SweepResult
from cheapgrad.analysis.sweep.transformer import TransformerSweep
from cheapgrad.errors import CheapgradError

#: File types the plot can be written as.
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
INSTALL_HINT = "pip install 'cheapgrad[plot]'"


class PlotError(CheapgradError):
    """A plot cannot be made (matplotlib missing, or an unsupported file type)."""


def require_matplotlib() -> Any:
    """Import matplotlib with the non-interactive Agg backend and return ``pyplot``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError(f"--plot needs matplotlib, which is not installed: {INSTALL_HINT}") \
            from None
    return plt


def check_plot_path(path: str) -> None:
    """Refuse a file type the plot cannot be written as."""
    if Path(path).suffix.lower() not in PLOT_SUFFIXES:
        raise PlotError(f"{path}: the plot is written as {', '.join(PLOT_SUFFIXES)}; "
                        f"name the file e.g. sweep.png")


def save_figure(make: Callable[[], Any], path: str, dpi: int = 120) -> None:
    """Check ``path``'s type, draw ``make()`` and write it to ``path`` (one line on a
    failed write: :class:`PlotError`); the figure is closed either way."""
    check_plot_path(path)
    plt = require_matplotlib()
    fig = make()
    try:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    except OSError as exc:
        raise PlotError(f"{path}: cannot write the plot: {exc.strerror}") from None
    finally:
        plt.close(fig)


def plot_sweep(result: SweepResult, path: str) -> None:
    """Draw :func:`sweep_figure` and write it to ``path``."""
    save_figure(lambda: sweep_figure(result), path)


def sweep_figure(result: SweepResult) -> Any:
    """The measured ratio against the number of parameters (log axis): one panel per
    activation, one line per depth, with the bound and each depth's predicted limit as
    the width grows drawn as horizontal lines. One legend for the whole figure, beside
    the panels (never over a line), with an entry for the ✗ of a cell that fails a check
    and one naming the cells that failed to run."""
    plt = require_matplotlib()
    grid = result.plan.grid
    limits = {(lim.depth, lim.activation): float(lim.limit) for lim in result.summary.limits}
    n = len(grid.activations)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n + 1.0, 4.4), sharey=True, squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    top = max([result.bound] + [c.ratio for c in result.cells])
    legend: dict[str, Any] = {}  # one legend for the figure: label -> handle
    for ax, act in zip(axes[0], grid.activations, strict=True):
        legend.setdefault(f"bound {result.bound:g}", ax.axhline(
            result.bound, color="crimson", linewidth=1.6))
        drawn_limits: set[float] = set()
        for i, depth in enumerate(grid.depths):
            colour = colours[i % len(colours)]
            cells = sorted((c for c in result.cells
                            if c.depth == depth and c.activation == act),
                           key=lambda c: c.parameters)
            if cells:
                line, = ax.plot([c.parameters for c in cells], [c.ratio for c in cells],
                                marker="o", markersize=3.5, color=colour)
                legend.setdefault(f"depth {depth}", line)
                bad = [c for c in cells if not c.passed]
                if bad:
                    legend.setdefault("✗ cell fails a check", ax.scatter(
                        [c.parameters for c in bad], [c.ratio for c in bad],
                        marker="x", s=60, color="crimson", zorder=5))
            lim = limits[(depth, act)]
            if lim in drawn_limits:
                continue
            drawn_limits.add(lim)
            same = [d for d in grid.depths if limits[(d, act)] == lim]
            which = ("depth " if len(same) == 1 else "depths ") + ", ".join(map(str, same))
            label = f"limit {lim:.4f} ({which}, wide)" + ("" if len(same) > 1 else f", {act}")
            legend.setdefault(label, ax.axhline(
                lim, color=colour if len(same) == 1 else "grey", linestyle="--",
                linewidth=1.1))
        ax.set_xscale("log")
        ax.set_title(f"{act}")
        ax.set_xlabel("parameters (log scale)")
        ax.set_ylim(0.0, top * 1.15)
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("cost(f, ∇f) / cost(f), measured")
    if result.failed:
        label = "failed to run: " + "; ".join(
            f"depth {f.depth}, width {f.width}, {f.activation}" for f in result.failed[:3]) \
            + (f"; {len(result.failed) - 3} more" if len(result.failed) > 3 else "")
        legend[label] = plt.Line2D([], [], linestyle="none")
    # Beside the panels, never over a line; once, not in every panel.
    fig.legend(list(legend.values()), list(legend), loc="center left",
               bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    base = result.plan.base
    fig.suptitle(f"cheap gradient: measured cost ratio over a sweep\n({base.name}, "
                 f"input_dim {base.input_dim}, outputs {base.outputs})", fontsize=11)
    fig.tight_layout()
    return fig


def plot_transformer_sweep(result: TransformerSweep, path: str) -> None:
    """Draw :func:`transformer_sweep_figure` and write it to ``path``."""
    save_figure(lambda: transformer_sweep_figure(result), path)


def transformer_sweep_figure(result: TransformerSweep) -> Any:
    """Each published formula's relative error against n_ctx / d_model (log axis): one
    panel per measured model (flop, unit), one colour per formula, one line per
    (n_layer, d_model) of the grid (told apart by its marker), and the measured count
    as the zero line."""
    plt = require_matplotlib()
    models = [m for m in COMPARED if result.cells and m in result.cells[0].table.measured]
    n = max(len(models), 1)
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n + 1.5, 4.4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "os^Dv<>pP*"
    groups: dict[tuple[int, int], list[Any]] = {}
    for c in sorted(result.cells, key=lambda c: c.n_ctx):
        groups.setdefault((c.n_layer, c.d_model), []).append(c)
    legend: dict[str, Any] = {}
    for ax, model in zip(axes[0], models, strict=False):
        legend.setdefault("measured (0 %)", ax.axhline(0.0, color="black", linewidth=1.4))
        for g, ((n_layer, d_model), cells) in enumerate(groups.items()):
            marker = markers[g % len(markers)]
            for i, row in enumerate(cells[0].table.rows):
                line, = ax.plot([c.context_per_width for c in cells],
                                [100 * (c.table.rows[i].error.get(model) or 0.0)
                                 for c in cells],
                                marker=marker, markersize=3.5, color=colours[i % len(colours)],
                                linestyle="--" if row.key.endswith(("recompute", "a4")) else "-")
                legend.setdefault(row.label, line)
            if len(groups) > 1:
                legend.setdefault(f"n_layer {n_layer}, d_model {d_model}", plt.Line2D(
                    [], [], color="grey", marker=marker, linestyle="none"))
        ax.set_xscale("log")
        ax.set_xlabel("n_ctx / d_model (log scale)")
        ax.set_ylabel(f"formula / measured {model} − 1 (%)")
        ax.set_title(f"against the measured {model} model")
        ax.grid(True, which="major", alpha=0.3)
    fig.legend(list(legend.values()), list(legend), loc="center left",
               bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.suptitle(f"The 6N rule: each formula's error per token of forward + backward\n"
                 f"(sweep of {result.base_name})", fontsize=11)
    fig.tight_layout()
    return fig
