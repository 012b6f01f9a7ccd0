"""Transformers: counting from shapes, and the executed model against PyTorch.

Run with BLAS and PyTorch pinned to the same threads, e.g.
``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python bench/bench_transformer.py``.
PyTorch is optional (its column is skipped without it). Prints Markdown (BENCHMARKS.md,
"Transformers"):

* ``--engine shapes`` on GPT-2 small and GPT-3 175B (best of 5);
* the executed model (array engine: forward counted and traced, reverse sweep counted,
  gradient check off) on ``gpt-tiny`` and a 4-layer d_model 256, T = 256 model, against
  PyTorch float64 forward + ``backward()`` of the same model from the same weights
  (``bench/torch_gpt.py``), interleaved round by round, best round kept, in wall time
  and in CPU time (the ratio of CPU times is the one a loaded machine does not move).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from cheapgrad.analysis.program import run_program
from cheapgrad.analysis.transformer import run_transformer
from cheapgrad.models.bundled import load_any_config
from cheapgrad.models.transformer import gpt_loss, init_params, tokens
from cheapgrad.models.transformer_spec import TransformerSpec

sys.path.insert(0, os.path.dirname(__file__))
try:
    import torch
    from torch_gpt import torch_loss
except ImportError:  # PyTorch is optional
    torch = None

GPT3 = TransformerSpec(vocab=50257, n_ctx=2048, d_model=12288, n_head=96, n_layer=96,
                       d_ff=4 * 12288, name="gpt3-175b")
MID = TransformerSpec(vocab=512, n_ctx=256, d_model=256, n_head=4, n_layer=4, d_ff=1024,
                      name="4 layers, d 256, T 256")


def best(fn: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def shapes_rows() -> list[str]:
    rows = []
    for spec in (load_any_config("gpt2-small"), GPT3):
        assert isinstance(spec, TransformerSpec)
        r = run_transformer(spec, "shapes")
        s = best(lambda spec=spec: run_transformer(spec, "shapes").cost_models())
        rows.append(f"| {spec.name} | {spec.parameters:,} | {r.cost_f_and_grad:,} | "
                    f"{s * 1e3:.1f} ms |")
    return rows


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall and CPU seconds of ``fn()`` (CPU time: one thread, so the machine's other
    load barely moves it), and its result."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def executed_row(spec: TransformerSpec, rounds: int = 5) -> str:
    params = init_params(spec)
    idx, targets = tokens(spec)
    f, names = gpt_loss(spec, idx, targets)
    inputs = {n: params[n] for n in names}
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    ops = 0
    for _ in range(rounds):
        w, c, r = _timed(lambda: run_program(f, inputs, check=False, methods=False,
                                                 memory=False))
        ours.append((w, c))
        ops = r.cost_f_and_grad  # type: ignore[attr-defined]
        if torch is not None:
            tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for k, v in params.items()}
            w, c, _ = _timed(lambda tp=tp: torch_loss(spec, tp, idx, targets).backward())
            theirs.append((w, c))
    aw, ac = min(x[0] for x in ours), min(x[1] for x in ours)
    if not theirs:
        return f"| {spec.name} | {ops:,} | {aw * 1e3:,.1f} ms ({ac * 1e3:,.1f} CPU) | – | – |"
    bw, bc = min(x[0] for x in theirs), min(x[1] for x in theirs)
    return (f"| {spec.name} | {ops:,} | {aw * 1e3:,.1f} ms ({ac * 1e3:,.1f} CPU) | "
            f"{bw * 1e3:,.1f} ms ({bc * 1e3:,.1f} CPU) | {aw / bw:.2f} ({ac / bc:.2f} CPU) |")


def main() -> None:
    print(f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"torch {torch.__version__ if torch else 'absent'}"
          + (f" on {torch.get_num_threads()} thread(s)" if torch else ""))
    print("\n| spec (shapes engine) | parameters | ops of f and ∇f | time |")
    print("|---|---:|---:|---:|")
    for row in shapes_rows():
        print(row)
    print("\n| executed (array engine) | counted ops | cheapgrad | PyTorch float64 | "
          "ratio (wall, CPU) |")
    print("|---|---:|---:|---:|---:|")
    tiny = load_any_config("gpt-tiny")
    assert isinstance(tiny, TransformerSpec)
    for spec in (tiny, MID):
        print(executed_row(spec))


if __name__ == "__main__":
    main()
