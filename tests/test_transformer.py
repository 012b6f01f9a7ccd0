"""Transformers on the counted arrays: specs, the model, counts by component on both
engines, the shapes engine against execution, FlopCounterMode's figures, the CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from conftest import invoke_json, one_line_error, spec_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cheapgrad.analysis.program import run_program
from cheapgrad.analysis.transformer import run_transformer, split_products
from cheapgrad.analysis.transformer_shapes import (
    as_lines,
    nonscalar_lines,
    products,
    shape_counts,
    swept_products,
)
from cheapgrad.cli.app import main
from cheapgrad.core.array_masks import component
from cheapgrad.errors import CheapgradError, SpecError
from cheapgrad.models.bundled import load_any_config
from cheapgrad.models.transformer import COMPONENTS, gpt_loss, init_params, tokens
from cheapgrad.models.transformer_spec import TransformerSpec, transformer_spec_from_yaml

TINY = TransformerSpec(vocab=7, n_ctx=3, d_model=4, n_head=2, n_layer=1, d_ff=8, batch=2)
BASE = "model: transformer\nvocab: 11\nn_ctx: 4\nd_model: 8\nn_head: 2\nn_layer: 1\n"


def _program(spec: TransformerSpec) -> tuple[object, dict[str, np.ndarray]]:
    p = init_params(spec)
    idx, targets = tokens(spec)
    f, names = gpt_loss(spec, idx, targets)
    return f, {n: p[n] for n in names}


def _executed(spec: TransformerSpec, engine: str = "array") -> dict[str, object]:
    f, inputs = _program(spec)
    r = run_program(f, inputs, engine=engine, check=False, methods=False)  # type: ignore
    ns = {c: {p: k for p, k in v.items() if k} for c, v in r.nonscalar_lines.items()}
    return {"lines": r.lines, "nonscalar": {c: v for c, v in ns.items() if v},
            "totals": {p: r.counter.totals(p) for p in ("forward", "backward")},
            "grads": r.gradients, "value": r.value}


# --- specs ---------------------------------------------------------------------------------


def test_spec_defaults_and_gpt2_parameter_count() -> None:
    s = transformer_spec_from_yaml(BASE)
    assert (s.d_ff, s.activation, s.bias, s.tied_embeddings, s.batch, s.seed) == (
        32, "gelu", True, True, 1, 0)
    assert load_any_config("gpt2-small").parameters == 124_439_808
    assert [f.name for f in dataclasses.fields(TransformerSpec)][:11] == [
        "vocab", "n_ctx", "d_model", "n_head", "n_layer", "d_ff", "activation", "bias",
        "tied_embeddings", "batch", "seed"]


@pytest.mark.parametrize(("extra", "needles"), [
    ("n_head: 3\n", ["s.yaml:5", "n_head", "must divide d_model (8)"]),
    ("n_layer: 0\n", ["n_layer", "positive integer"]),
    ("d_ff: 2.5\n", ["d_ff", "integer"]),
    ("n_heads: 2\n", ["unknown key", "did you mean 'n_head'"]),
    ("activation: gelux\n", ["activation", "did you mean 'gelu'"]),
    ("bias: 1\n", ["bias", "true or false"]),
    ("tied_embeddings: yes please\n", ["tied_embeddings"]),
])
def test_spec_errors(extra: str, needles: list[str]) -> None:
    key = extra.split(":")[0] + ":"
    lines = [extra if ln.startswith(key) else ln + "\n" for ln in BASE.splitlines()]
    text = "".join(lines) if extra in lines else BASE + extra
    with pytest.raises(SpecError) as info:
        transformer_spec_from_yaml(text, source="s.yaml")
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_missing_key_and_mlp_loader() -> None:
    with pytest.raises(SpecError, match="missing required key 'n_layer'"):
        transformer_spec_from_yaml(BASE.replace("n_layer: 1\n", ""))
    assert "a transformer spec" in spec_error(BASE)
    assert "unknown model 'transformr'" in spec_error(
        BASE.replace("transformer", "transformr"))


def test_cli_bad_transformer_spec_is_one_line(cli: object, write_file: object) -> None:
    path = write_file(BASE + "n_layer: -1\n")  # type: ignore[operator]
    one_line_error(cli.invoke(main, ["run", path]), "n_layer")  # type: ignore[attr-defined]


# --- components in the core ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["array", "scalar"])
def test_component_labels_charge_backward_to_the_forward_node(engine: str) -> None:
    def f(x: object, w: object) -> object:
        with component("outer"):
            y = x * w  # type: ignore[operator]
            with component("inner"):
                z = np.tanh(y)
        return (z * z).sum()

    r = run_program(f, {"x": np.arange(1.0, 4.0), "w": np.ones(3) * 0.5}, engine=engine,
                    methods=False)
    assert r.lines["outer"] == {"forward": {"mul": 3}, "backward": {"mul": 6}}
    assert r.lines["inner"] == {"forward": {"tanh": 3}, "backward": {"mul": 6, "sub": 3}}
    (rest,) = set(r.lines) - {"outer", "inner"}  # outside every component: its line
    assert rest.startswith("test_transformer.py:")


# --- the model: both engines, the gradient, the closed form ----------------------------------


def test_engines_agree_by_component_and_gradient() -> None:
    a, s = _executed(TINY, "array"), _executed(TINY, "scalar")
    assert a["lines"] == s["lines"]
    assert a["totals"] == s["totals"]
    assert set(a["lines"]) == set(COMPONENTS)  # type: ignore[arg-type]
    assert abs(a["value"] - s["value"]) < 1e-12  # type: ignore[operator]
    for name, g in a["grads"].items():  # type: ignore[attr-defined]
        assert np.allclose(g, s["grads"][name], rtol=0, atol=1e-12)  # type: ignore[index]


def test_gradient_check_and_closed_form_on_gpt_tiny() -> None:
    r = run_transformer(load_any_config("gpt-tiny"))  # type: ignore[arg-type]
    assert r.engine == "array" and r.reason.startswith("auto:")
    assert r.check is not None and r.check.passed and r.closed_form and r.passed
    assert 2.5 < r.ratio < 3.5


def test_loss_at_init_is_near_log_vocab() -> None:
    r = run_transformer(TINY, "array")
    assert r.loss is not None and abs(r.loss - np.log(TINY.vocab)) < 0.1


@st.composite
def _specs(draw: st.DrawFn) -> TransformerSpec:
    h = draw(st.integers(1, 3))
    return TransformerSpec(
        vocab=draw(st.integers(2, 9)), n_ctx=draw(st.integers(1, 5)),
        d_model=h * draw(st.integers(1, 3)), n_head=h, n_layer=draw(st.integers(1, 2)),
        d_ff=draw(st.integers(1, 7)), bias=draw(st.booleans()),
        tied_embeddings=draw(st.booleans()), batch=draw(st.integers(1, 3)),
        seed=draw(st.integers(0, 1000)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_specs())
def test_shapes_equal_executed_counts(spec: TransformerSpec) -> None:
    """The closed form equals the array engine's counts component by component, phase by
    phase, op kind by op kind, nonscalar totals included."""
    got = _executed(spec)
    want = {c: v for c, v in as_lines(shape_counts(spec)).items() if v}
    assert got["lines"] == want
    assert got["nonscalar"] == nonscalar_lines(shape_counts(spec))
    r = run_transformer(spec, "shapes")
    assert r.phases == got["totals"]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_specs())
def test_shapes_equal_scalar_engine(spec: TransformerSpec) -> None:
    spec = dataclasses.replace(spec, n_layer=1)
    got = _executed(spec, "scalar")
    assert got["lines"] == {c: v for c, v in as_lines(shape_counts(spec)).items() if v}
    assert got["nonscalar"] == nonscalar_lines(shape_counts(spec))


def test_relu_executes_and_shapes_refuse_it() -> None:
    spec = dataclasses.replace(TINY, activation="relu")
    r = run_transformer(spec, "array")
    assert r.closed_form is None and r.check is not None and r.check.passed
    assert r.components["mlp.act"]["forward"] == {"cmp": TINY.tokens * TINY.d_ff}
    assert "backward" not in r.components["mlp.act"]  # a selection: no op of its own
    # the adjoint reaches only the positive pre-activations, and relu's output is a
    # constant 0 at the others: the sweeps of mlp.fc and mlp.proj are cut short
    swept, full = r.swept["measured"], r.swept["predicted"]
    assert {c for c in full if swept[c] != full[c]} == {"mlp.fc", "mlp.proj"}
    assert all(swept[c] < full[c] for c in ("mlp.fc", "mlp.proj"))
    with pytest.raises(CheapgradError, match="gelu only: relu passes each adjoint on only "
                       "where its input is positive"):
        run_transformer(spec, "shapes")


# --- FlopCounterMode's figures --------------------------------------------------------------


def test_gpt2_small_flops_are_flopcountermode_figures() -> None:
    r = run_transformer(load_any_config("gpt2-small"))  # type: ignore[arg-type]
    assert r.engine == "shapes" and "would take long" in r.reason
    flop = r.cost_models()["flop"]
    assert flop.cost_f == 291_648_307_200
    assert flop.cost_f_and_grad - flop.cost_f == 583_296_614_400


def test_executed_products_equal_shapes() -> None:
    r = run_transformer(TINY, "array")
    s = run_transformer(TINY, "shapes")
    assert r.cost_models()["flop"] == s.cost_models()["flop"]
    assert {k: v.cost_f for k, v in r.cost_models().items()} == {
        k: v.cost_f for k, v in s.cost_models().items()}


@pytest.mark.parametrize("engine", ["array", "scalar"])
def test_backward_products_are_measured_and_equal_the_prediction(engine: str) -> None:
    """The reverse sweep's product muls are read from the run, component by component,
    equal to the shapes' prediction; only the masked scores fall short of the dense
    backward FlopCounterMode prices."""
    spec = dataclasses.replace(TINY, n_layer=1) if engine == "scalar" else TINY
    r = run_transformer(spec, engine)
    dense = products(spec)["backward"]
    assert r.swept["measured"] == r.swept["predicted"] == swept_products(spec)
    assert r.products["forward"] == products(spec)["forward"]
    assert {c for c in dense if r.swept["measured"][c] != dense[c]} == {"attn.scores"}
    assert "measured" not in run_transformer(spec, "shapes").swept


def test_nonscalar_by_component_executed_and_from_shapes() -> None:
    r, s = run_transformer(TINY, "array"), run_transformer(TINY, "shapes")
    assert r.nonscalar == s.nonscalar and r.closed_form
    assert r.nonscalar["ln"]["backward"]["mul"] == 5 * TINY.tokens * TINY.d_model * 2  # 2 lns
    rows = {row["component"]: row for row in r.rows()}
    assert rows["attn.scores"]["backward_nonscalar"] == r.nonscalar["attn.scores"]["backward"]
    total = {k: sum(v.get("backward", {}).get(k, 0) for v in r.nonscalar.values())
             for k in r.phases["backward"].nonscalar}
    assert {k: n for k, n in total.items() if n} == {
        k: n for k, n in r.phases["backward"].nonscalar.items() if n}


def test_split_products_merges_each_product_into_its_component() -> None:
    comps, fwd, swept = split_products({"head": {"forward": {"add": 2}},
                                        "head:product": {"forward": {"mul": 6, "add": 3},
                                                         "backward": {"mul": 12}}})
    assert comps["head"] == {"forward": {"add": 5, "mul": 6}, "backward": {"mul": 12}}
    with pytest.raises(CheapgradError, match="outside every component"):
        split_products({"stray:product": {}})


def test_every_cost_model_from_shapes_on_gpt3() -> None:
    spec = TransformerSpec(vocab=50257, n_ctx=2048, d_model=12288, n_head=96, n_layer=96,
                           d_ff=4 * 12288)
    r = run_transformer(spec)
    assert r.engine == "shapes"
    models = r.cost_models()
    assert set(models) == {"unit", "nonscalar", "weighted", "flop", "memory"}
    assert all(m.holds for m in models.values())


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_cli_formats(cli: object, fmt: str) -> None:
    for name in ("gpt-tiny", "gpt2-small"):
        result = cli.invoke(main, ["run", name, "--format", fmt])  # type: ignore[attr-defined]
        assert result.exit_code == 0, result.output
        assert "attn.softmax" in result.stdout
        if fmt == "table":
            assert "Ops by component" in result.stdout


def test_cli_json(cli: object) -> None:
    doc = invoke_json(cli, "run", "gpt2-small", "--format", "json")  # type: ignore[arg-type]
    assert doc["kind"] == "transformer" and doc["engine"] == "shapes"
    assert doc["cost_models"]["flop"]["cost_f"] == 291_648_307_200
    assert set(doc["components"]) == set(COMPONENTS)
    assert doc["parameters"] == 124_439_808 and doc["closed_form"] is None
    tiny = invoke_json(cli, "run", "gpt-tiny", "--format", "json")  # type: ignore[arg-type]
    assert tiny["closed_form"] is True and tiny["gradient_check"]["passed"]
    json.dumps(tiny)


def test_cli_engine_errors(cli: object) -> None:
    run = cli.invoke  # type: ignore[attr-defined]
    one_line_error(run(main, ["run", "gpt2-small", "--engine", "array"]), "--engine shapes")
    one_line_error(run(main, ["run", "lecture", "--engine", "shapes"]), "transformer")
    one_line_error(run(main, ["run", "gpt-tiny", "--engine", "scalar"]), "scalar engine")
    one_line_error(run(main, ["run", "gpt-tiny", "--time"]), "--time")


def test_memory_can_be_skipped_without_changing_a_count() -> None:
    f, inputs = _program(TINY)
    full = run_program(f, inputs, check=False, methods=False)  # type: ignore[arg-type]
    lean = run_program(f, inputs, check=False, methods=False, memory=False)  # type: ignore
    assert full.memory["tape"] > 0 and lean.memory == {}
    assert lean.counter.totals() == full.counter.totals() and lean.lines == full.lines
