"""Counted numpy programs: the array engine's grad against PyTorch CPU autograd.

Run with BLAS and PyTorch pinned to the same threads, e.g.
``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_arrays.py``. PyTorch is a
benchmark-only dependency (``pip install torch``): without it the PyTorch columns are
skipped. Prints a Markdown table (BENCHMARKS.md, "Counted numpy programs").

* a 3-layer 1024-wide tanh MLP at batch 64 and one causal attention head at T = 256,
  d = 64: cheapgrad's ``run_program`` (forward counted and traced, reverse sweep counted;
  the gradient check and the method table off: forward mode and central differences are
  other computations than the gradient PyTorch is timed on) against ``torch`` forward
  + ``backward()`` in float64, the
  calls interleaved round by round, best round kept; the times are CPU times of the
  process (both sides on one thread: what other jobs on a shared machine disturb
  least), the ratio of wall-clock times beside;
* the overhead per op on 10×10 arrays, against the same program in plain numpy (CPU
  times, best of 10);
* a program of more than 10^10 counted ops (a 2048×2048 matrix product and tanh).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from cheapgrad.analysis.program import run_program
from cheapgrad.models.programs import attention

try:
    import torch
except ImportError:  # PyTorch is optional: its columns are skipped
    torch = None


def mlp(W1: Any, W2: Any, W3: Any, X: Any) -> Any:  # noqa: N803
    h = np.tanh(X @ W1)
    h = np.tanh(h @ W2)
    h = np.tanh(h @ W3)
    return (h * h).sum()


#: The bundled attention example (``cheapgrad circuit np-attention``), at the bench's size.
head = attention


def torch_mlp(W1: Any, W2: Any, W3: Any, X: Any) -> Any:  # noqa: N803
    h = torch.tanh(X @ W1)
    h = torch.tanh(h @ W2)
    h = torch.tanh(h @ W3)
    return (h * h).sum()


def torch_head(Wq: Any, Wk: Any, Wv: Any, X: Any) -> Any:  # noqa: N803
    T, d = X.shape[0], Wq.shape[1]
    q, k, v = X @ Wq, X @ Wk, X @ Wv
    s = (q @ k.T) / d ** 0.5
    s = torch.where(torch.tril(torch.ones((T, T), dtype=torch.float64)) > 0, s,
                    torch.tensor(-1e9, dtype=torch.float64))
    p = torch.exp(s - s.max(dim=-1, keepdim=True).values)
    p = p / p.sum(dim=-1, keepdim=True)
    return torch.square(p @ v).sum()


def _inputs() -> dict[str, dict[str, np.ndarray]]:
    r = np.random.default_rng(0)
    return {
        "mlp": {"W1": r.normal(size=(1024, 1024)) * 0.03,
                "W2": r.normal(size=(1024, 1024)) * 0.03,
                "W3": r.normal(size=(1024, 1024)) * 0.03, "X": r.normal(size=(64, 1024))},
        "head": {"Wq": r.normal(size=(64, 64)) * 0.1, "Wk": r.normal(size=(64, 64)) * 0.1,
                 "Wv": r.normal(size=(64, 64)) * 0.1, "X": r.normal(size=(256, 64))},
    }


def grad_of(f: Callable[..., Any], args: Any) -> Any:
    """What is timed: f counted and traced, the reverse sweep counted."""
    return run_program(f, args, check=False, methods=False)


def _time(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _cpu(fn: Callable[[], Any]) -> float:
    """CPU time of the process (both sides single-threaded: what other jobs on a shared
    machine disturb least)."""
    t = time.process_time()
    fn()
    return time.process_time() - t


def _torch_grad(tf: Callable[..., Any], args: dict[str, np.ndarray]) -> Callable[[], Any]:
    def run() -> Any:
        ts = [torch.from_numpy(a).requires_grad_(True) for a in args.values()]
        tf(*ts).backward()
        return [t.grad for t in ts]
    return run


def versus_torch(rounds: int = 10) -> list[str]:
    rows = []
    for name, f, tf, label in (("mlp", mlp, torch_mlp, "3-layer 1024 tanh MLP, batch 64"),
                               ("head", head, torch_head, "causal attention head, T=256, d=64")):
        args = _inputs()[name]
        ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
        result = run_program(f, args, check=False, methods=False)
        for _ in range(rounds):
            ours.append(_time(lambda f=f, args=args: grad_of(f, args)))
            ours_cpu.append(_cpu(lambda f=f, args=args: grad_of(f, args)))
            if torch is not None:
                theirs.append(_time(_torch_grad(tf, args)))
                theirs_cpu.append(_cpu(_torch_grad(tf, args)))
        if torch is not None:
            grads = _torch_grad(tf, args)()
            err = max(float(np.max(np.abs(g.numpy() - result.gradients[k])))
                      for g, k in zip(grads, args, strict=True))
            ratio = (f"{min(ours_cpu) / min(theirs_cpu):.2f} (wall "
                     f"{min(ours) / min(theirs):.2f})")
            torch_ms = f"{min(theirs_cpu) * 1e3:.1f} ms"
        else:
            err, ratio, torch_ms = float("nan"), "-", "torch not installed"
        rows.append(f"| {label} | {result.cost_f_and_grad:,} | {min(ours_cpu) * 1e3:.1f} ms"
                    f" | {torch_ms} | {ratio} | {err:.1e} |")
    return rows


def tiny_overhead(rounds: int = 10) -> str:
    x = np.random.default_rng(1).normal(size=(10, 10))

    def prog(x: Any) -> Any:
        y = x
        for _ in range(50):
            y = np.tanh(y * 0.5 + 0.1)
        return y.sum()

    best = min(_cpu(lambda: grad_of(prog, [x])) for _ in range(rounds))
    plain = min(_cpu(lambda: prog(x)) for _ in range(rounds))
    n_ops = 3 * 50 + 1  # array ops of f (forward); the sweep runs as many again
    return (f"| 10×10, {n_ops} array ops (forward) | {best * 1e3:.2f} ms | plain numpy "
            f"forward {plain * 1e3:.2f} ms | {best / (2 * n_ops) * 1e6:.0f} µs per array op "
            "(forward and reverse) |")


def big() -> str:
    r = np.random.default_rng(2)
    a, b = r.normal(size=(2048, 2048)) * 0.02, r.normal(size=(2048, 2048))
    t = time.perf_counter()
    res = run_program(lambda a, b: np.tanh(a @ b).sum(), [a, b], check=False, methods=False)
    dt = time.perf_counter() - t
    return (f"| 2048×2048 matrix product, tanh, sum | {res.cost_f:,} (f) / "
            f"{res.cost_f_and_grad:,} (f and ∇f) | {dt:.2f} s |")


def main() -> None:
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    if torch is not None:
        torch.set_num_threads(int(threads) if threads.isdigit() else 1)
    print(f"- cpu: {platform.processor() or platform.machine()}; cores {os.cpu_count()}; "
          f"numpy {np.__version__}; torch {getattr(torch, '__version__', 'absent')}; "
          f"blas/torch threads {threads}; load {os.getloadavg()[0]:.2f}\n")
    print("| program | counted ops (f and ∇f) | cheapgrad array engine (CPU) | PyTorch autograd "
          "(float64, CPU) | time / PyTorch | max abs. gradient difference |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in versus_torch():
        print(row)
    print("\n| tiny arrays | cheapgrad grad (CPU) | baseline | overhead |")
    print("|---|---:|---:|---:|")
    print(tiny_overhead())
    print("\n| large program | counted ops | time (count f and ∇f) |")
    print("|---|---:|---:|")
    print(big())


if __name__ == "__main__":
    main()
