"""The counted GPT-2 against an independent plain-numpy GPT-2 with a hand-written backward
(``tests/numpy_gpt.py``, no PyTorch needed), and nanoGPT's state dict on disk:
``cheapgrad run SPEC --save-arrays FILE.npz`` / ``--load-weights FILE.npz``."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import one_line_error
from numpy_gpt import loss_and_grads

from cheapgrad.analysis.program import run_program
from cheapgrad.analysis.transformer import run_transformer
from cheapgrad.cli.app import main
from cheapgrad.models.transformer import gpt_loss, init_params, tokens
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.models.transformer_weights import TransformerWeights, read_weights, to_torch

BASE = TransformerSpec(vocab=13, n_ctx=5, d_model=8, n_head=2, n_layer=2, d_ff=12, batch=2)
SPECS = [
    BASE,
    dataclasses.replace(BASE, activation="relu", tied_embeddings=False, bias=False, seed=3),
    dataclasses.replace(BASE, tied_embeddings=False, n_head=4, n_layer=1, batch=3, seed=5),
    dataclasses.replace(BASE, activation="relu", bias=False, n_ctx=3, d_ff=24, seed=9),
]
SPEC_YAML = ("model: transformer\nvocab: 11\nn_ctx: 4\nd_model: 8\nn_head: 2\nn_layer: 1\n"
             "batch: 2\n")
SMALL = TransformerSpec(vocab=11, n_ctx=4, d_model=8, n_head=2, n_layer=1, d_ff=32, batch=2)
#: nanoGPT's state-dict names and shapes for SMALL (karpathy/nanoGPT, model.py).
NANOGPT_SHAPES = {
    "transformer.wte.weight": (11, 8), "transformer.wpe.weight": (4, 8),
    "transformer.h.0.ln_1.weight": (8,), "transformer.h.0.ln_1.bias": (8,),
    "transformer.h.0.attn.c_attn.weight": (24, 8), "transformer.h.0.attn.c_attn.bias": (24,),
    "transformer.h.0.attn.c_proj.weight": (8, 8), "transformer.h.0.attn.c_proj.bias": (8,),
    "transformer.h.0.ln_2.weight": (8,), "transformer.h.0.ln_2.bias": (8,),
    "transformer.h.0.mlp.c_fc.weight": (32, 8), "transformer.h.0.mlp.c_fc.bias": (32,),
    "transformer.h.0.mlp.c_proj.weight": (8, 32), "transformer.h.0.mlp.c_proj.bias": (8,),
    "transformer.ln_f.weight": (8,), "transformer.ln_f.bias": (8,),
}


def _perturbed(spec: TransformerSpec) -> dict[str, np.ndarray]:
    """The seed's weights moved away from zero biases and unit gains."""
    rng = np.random.default_rng(11)
    return {k: v + 0.1 * rng.normal(size=v.shape) for k, v in init_params(spec).items()}


def _state(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v for k, v in arrays.items()
            if not k.startswith("grad_") and k not in ("idx", "targets", "loss")}


# --- the counted model against the independent plain-numpy reference ------------------------


@pytest.mark.parametrize("spec", SPECS, ids=["gelu-tied-bias", "relu-untied-nobias",
                                             "gelu-untied-bias", "relu-tied-nobias"])
def test_loss_and_every_gradient_match_the_numpy_reference(spec: TransformerSpec) -> None:
    params = _perturbed(spec)
    idx, targets = tokens(spec)
    f, names = gpt_loss(spec, idx, targets)
    r = run_program(f, {n: params[n] for n in names}, check=False, methods=False)
    want_loss, want = loss_and_grads(to_torch(spec, params), idx, targets, spec.n_head,
                                     spec.activation)
    assert abs(r.value - want_loss) < 1e-9
    got = to_torch(spec, r.gradients)
    assert set(got) == set(want)
    for name in want:
        assert got[name].shape == want[name].shape
        assert np.max(np.abs(got[name] - want[name])) < 1e-9, name
    assert np.max(np.abs(want["transformer.wte.weight"])) > 0  # a real gradient


def test_reference_is_not_trivially_equal() -> None:
    """The reference sees a change the counted model sees: a different target."""
    params = to_torch(BASE, _perturbed(BASE))
    idx, targets = tokens(BASE)
    a, _ = loss_and_grads(params, idx, targets, BASE.n_head)
    b, _ = loss_and_grads(params, idx, (targets + 1) % BASE.vocab, BASE.n_head)
    assert abs(a - b) > 1e-3


# --- --save-arrays ----------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path, write_file: Callable[..., str]) -> tuple[str, Path]:
    spec = write_file(SPEC_YAML)
    npz = tmp_path / "gpt.npz"
    result = CliRunner().invoke(main, ["run", spec, "--save-arrays", str(npz)])
    assert result.exit_code == 0, result.output
    return spec, npz


def test_save_arrays_writes_nanogpt_names_and_layouts(saved: tuple[str, Path]) -> None:
    _, npz = saved
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    assert list(_state(arrays)) == list(NANOGPT_SHAPES)
    assert {k: v.shape for k, v in _state(arrays).items()} == NANOGPT_SHAPES
    assert sorted(k for k in arrays if k.startswith("grad_")) == \
        sorted(f"grad_{k}" for k in NANOGPT_SHAPES)
    for name, shape in NANOGPT_SHAPES.items():
        assert arrays[f"grad_{name}"].shape == shape
    assert arrays["idx"].shape == arrays["targets"].shape == (2, 4)
    idx, targets = tokens(SMALL)
    assert np.array_equal(arrays["idx"], idx) and np.array_equal(arrays["targets"], targets)
    # the saved loss and gradients are those of the saved weights and tokens
    loss, grads = loss_and_grads(_state(arrays), arrays["idx"], arrays["targets"], 2)
    assert abs(float(arrays["loss"]) - loss) < 1e-12
    for name, g in grads.items():
        assert np.max(np.abs(arrays[f"grad_{name}"] - g)) < 1e-12, name
    # (out, in): c_fc maps 8 -> 32, so nn.Linear's weight is (32, 8)
    w = init_params(SMALL)["transformer.h.0.mlp.c_fc.weight"]
    assert np.array_equal(arrays["transformer.h.0.mlp.c_fc.weight"], w.T)


def test_save_arrays_untied_writes_lm_head(tmp_path: Path,
                                           write_file: Callable[..., str]) -> None:
    spec = write_file(SPEC_YAML + "tied_embeddings: false\nbias: false\n")
    npz = tmp_path / "u.npz"
    assert CliRunner().invoke(main, ["run", spec, "--save-arrays", str(npz)]).exit_code == 0
    with np.load(npz) as data:
        assert data["lm_head.weight"].shape == data["grad_lm_head.weight"].shape == (11, 8)
        assert "transformer.ln_f.bias" not in data.files
        assert "transformer.h.0.attn.c_attn.bias" not in data.files


def test_save_arrays_never_overwrites_without_force(saved: tuple[str, Path]) -> None:
    spec, npz = saved
    before = npz.read_bytes()
    again = CliRunner().invoke(main, ["run", spec, "--save-arrays", str(npz)])
    one_line_error(again, f"{npz}: already exists (use --force to overwrite)")
    assert npz.read_bytes() == before
    assert CliRunner().invoke(main, ["run", spec, "--save-arrays", str(npz),
                                     "--force"]).exit_code == 0


def test_save_arrays_needs_an_executed_run(tmp_path: Path) -> None:
    npz = tmp_path / "s.npz"
    r = CliRunner().invoke(main, ["run", "gpt-tiny", "--engine", "shapes", "--save-arrays",
                                  str(npz)])
    one_line_error(r, "--save-arrays", "shapes engine computes no value")
    r = CliRunner().invoke(main, ["run", "gpt2-small", "--save-arrays", str(npz)])
    one_line_error(r, "--save-arrays", "no value computed")
    assert not npz.exists()


# --- --load-weights ---------------------------------------------------------------------------


def _run_json(*args: str, code: int = 0) -> Any:
    r = CliRunner().invoke(main, ["run", *args, "--format", "json"])
    assert r.exit_code == code, r.output
    return json.loads(r.stdout)


def test_load_weights_round_trip(saved: tuple[str, Path]) -> None:
    spec, npz = saved
    plain = _run_json(spec)
    loaded = _run_json(spec, "--load-weights", str(npz))
    assert loaded["weights"] == str(npz) and plain["weights"] is None
    assert loaded["loss"] == plain["loss"]
    assert loaded["counts"] == plain["counts"] and loaded["passed"]
    assert loaded["engine_reason"] == "auto: weights loaded, executed"


def test_load_weights_runs_on_the_files_weights_and_tokens(
        saved: tuple[str, Path], tmp_path: Path) -> None:
    spec, npz = saved
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    state = {k: v + 0.05 for k, v in _state(arrays).items()}
    rng = np.random.default_rng(4)
    idx, targets = rng.integers(0, 11, (2, 4)), rng.integers(0, 11, (2, 4))
    mine = tmp_path / "mine.npz"
    np.savez(mine, idx=idx, targets=targets,
             **{k: v.astype(np.float32) for k, v in state.items()})
    out = tmp_path / "out.npz"
    doc = _run_json(spec, "--load-weights", str(mine), "--save-arrays", str(out))
    state32 = {k: v.astype(np.float32).astype(np.float64) for k, v in state.items()}
    loss, grads = loss_and_grads(state32, idx, targets, 2)
    assert abs(doc["loss"] - loss) < 1e-9
    with np.load(out) as data:
        assert np.array_equal(data["idx"], idx)
        for name, g in grads.items():
            assert np.max(np.abs(data[f"grad_{name}"] - g)) < 1e-9, name
            assert np.array_equal(data[name], state32[name])


def test_load_weights_without_tokens_draws_them_from_the_seed(
        saved: tuple[str, Path], tmp_path: Path) -> None:
    spec, npz = saved
    with np.load(npz) as data:
        state = _state({k: data[k] for k in data.files})
    bare = tmp_path / "bare.npz"
    np.savez(bare, **state)
    w = read_weights(bare, SMALL)
    assert not w.tokens_from_file
    assert np.array_equal(w.idx, tokens(SMALL)[0])
    assert _run_json(spec, "--load-weights", str(bare))["loss"] == _run_json(spec)["loss"]


def test_a_checkpoint_layout_is_accepted(tmp_path: Path) -> None:
    """As nanoGPT's state_dict has it: a tied lm_head.weight (the same tensor as wte), the
    .attn.bias mask buffers, a wpe of block_size rows (cropped to n_ctx)."""
    state = to_torch(SMALL, _perturbed(SMALL))
    extra = {"lm_head.weight": state["transformer.wte.weight"],
             "transformer.h.0.attn.bias": np.tril(np.ones((1, 1, 16, 16))),
             "transformer.wpe.weight": np.vstack([state["transformer.wpe.weight"],
                                                  np.ones((12, 8))])}
    path = tmp_path / "ckpt.npz"
    np.savez(path, **{**state, **extra})
    w = read_weights(path, SMALL)
    assert w.params["transformer.wpe.weight"].shape == (4, 8)
    r = run_transformer(SMALL, weights=w)
    idx, targets = tokens(SMALL)
    loss, _ = loss_and_grads(state, idx, targets, 2)
    assert r.loss is not None and abs(r.loss - loss) < 1e-12 and r.passed


@pytest.mark.parametrize("tied", [True, False])
def test_loaded_tokens_count_as_the_closed_form_says(tied: bool) -> None:
    """The adds of wte's gradient depend on repeated tokens, read from the file."""
    spec = dataclasses.replace(SMALL, tied_embeddings=tied)
    _, targets = tokens(spec)
    w = TransformerWeights(init_params(spec), np.zeros((2, 4), dtype=np.int64), targets,
                           "x.npz", True)
    r = run_transformer(spec, "array", weights=w)
    assert r.closed_form and r.passed
    # 7 repeats of token 0 among 8 tokens, and wpe's batch-sum: (batch - 1)·T·C
    assert r.components["embedding"]["backward"]["add"] == 7 * 8 + 4 * 8


def test_load_weights_is_refused_on_shapes_and_mlp(saved: tuple[str, Path]) -> None:
    spec, npz = saved
    one_line_error(CliRunner().invoke(main, ["run", spec, "--engine", "shapes",
                                             "--load-weights", str(npz)]),
                   "--load-weights", "--engine array or scalar")
    one_line_error(CliRunner().invoke(main, ["run", "lecture", "--load-weights", str(npz)]),
                   "--load-weights", "model: transformer")


def _bad(tmp_path: Path, write_file: Callable[..., str], edit: Callable[[dict], Any],
         *needles: str) -> None:
    spec = write_file(SPEC_YAML)
    arrays = {**to_torch(SMALL, init_params(SMALL))}
    arrays["idx"], arrays["targets"] = tokens(SMALL)
    edit(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    r = CliRunner().invoke(main, ["run", spec, "--load-weights", str(path)])
    one_line_error(r, str(path), *needles)


def _rename(old: str, new: str) -> Callable[[dict], Any]:
    return lambda a: a.__setitem__(new, a.pop(old))


BAD_EDITS = {
    "missing": (_rename("transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.cfc.weight"),
                ["no array 'transformer.h.0.mlp.c_fc.weight'",
                 "did you mean 'transformer.h.0.mlp.cfc.weight'"]),
    "missing-plain": (lambda a: a.pop("transformer.ln_f.bias"),
                      ["no array 'transformer.ln_f.bias'", "then bias: false"]),
    "shape": (lambda a: a.__setitem__("transformer.h.0.attn.c_attn.weight", np.ones((8, 24))),
              ["transformer.h.0.attn.c_attn.weight: expected shape (24, 8), got (8, 24)"]),
    "int": (lambda a: a.__setitem__("transformer.ln_f.weight", np.ones(8, dtype=np.int64)),
            ["transformer.ln_f.weight: must be an array of floats, got int64"]),
    "nan": (lambda a: a["transformer.ln_f.weight"].__setitem__(0, np.nan),
            ["transformer.ln_f.weight", "not finite"]),
    "unknown": (lambda a: a.__setitem__("transformer.h.1.ln_1.weight", np.ones(8)),
                ["not a parameter of this spec: 'transformer.h.1.ln_1.weight'"]),
    "untied-head": (lambda a: a.__setitem__("lm_head.weight", np.ones((11, 8))),
                    ["lm_head.weight: differs from transformer.wte.weight",
                     "tied_embeddings: false"]),
    "idx-range": (lambda a: a["idx"].__setitem__((0, 0), 11),
                  ["idx: token id 11 is outside 0..10"]),
    "idx-shape": (lambda a: a.__setitem__("targets", np.zeros((2, 5), dtype=np.int64)),
                  ["targets: expected shape (2, 4) (batch, n_ctx), got (2, 5)"]),
    "idx-float": (lambda a: a.__setitem__("idx", np.zeros((2, 4))),
                  ["idx: must be an array of integer token ids, got float64"]),
    "idx-alone": (lambda a: a.pop("targets"), ["has 'idx' but not 'targets'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_EDITS))
def test_bad_weights_are_one_line(case: str, tmp_path: Path,
                                  write_file: Callable[..., str]) -> None:
    edit, needles = BAD_EDITS[case]
    _bad(tmp_path, write_file, edit, *needles)


def test_unreadable_weights_files_are_one_line(tmp_path: Path,
                                               write_file: Callable[..., str]) -> None:
    spec = write_file(SPEC_YAML)
    text = tmp_path / "w.npz"
    text.write_text("not numpy")
    npy = tmp_path / "one.npy"
    np.save(npy, np.ones(3))
    damaged = tmp_path / "damaged.npz"
    np.savez(damaged, a=np.ones(100))
    damaged.write_bytes(damaged.read_bytes()[:60])
    objects = tmp_path / "objects.npz"
    np.savez(objects, a=np.array([{"x": 1}], dtype=object))
    cases = [(text, "not an .npz file"), (npy, "a single .npy array"),
             (damaged, "not an .npz file"), (objects, "a: array holds Python objects"),
             (tmp_path / "none.npz", "no such file"), (tmp_path, "is a directory")]
    for path, needle in cases:
        r = CliRunner().invoke(main, ["run", spec, "--load-weights", str(path)])
        one_line_error(r, f"{path}: {needle}")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.npz"
        np.savez(locked, a=np.ones(1))
        locked.chmod(0)
        r = CliRunner().invoke(main, ["run", spec, "--load-weights", str(locked)])
        one_line_error(r, f"{locked}: cannot read: permission denied")
