"""The published transformer compute formulas, each pinned on GPT-2 small against the
published figures: FlopCounterMode's forward 291,648,307,200 and backward
583,296,614,400 FLOPs for one 1024-token sequence with the explicit attention path
(equal to Megatron's no-recomputation formula), 124,439,808 parameters, and the
conventions' stated errors (6N with nanoGPT's N 13 % low, Kaplan's 3·C_fwd 34 % low,
Chinchilla's Appendix F as written 27 % high)."""

from __future__ import annotations

import pytest

from cheapgrad.analysis.costmodels import ModelCost
from cheapgrad.analysis.flop_formulas import (
    FORMULAS,
    Arch,
    kaplan_n,
    nanogpt_n,
    parameter_count,
)
from cheapgrad.analysis.sixn import relative_error, sixn_table

GPT2 = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12)
GPT2_XL = Arch(vocab=50257, n_ctx=1024, d_model=1600, n_head=25, n_layer=48)
#: FlopCounterMode on GPT-2 small, one sequence of 1024 tokens, forward and backward.
FCM_FORWARD = 291_648_307_200
FCM_BACKWARD = 583_296_614_400
FCM_PER_TOKEN = (FCM_FORWARD + FCM_BACKWARD) // 1024


def test_parameter_counts_of_gpt2() -> None:
    assert parameter_count(GPT2) == 124_439_808
    # wte 38,597,376 and wpe 786,432 taken out: the non-embedding count
    assert parameter_count(GPT2) - 38_597_376 - 786_432 == 85_056_000
    assert nanogpt_n(GPT2) == 123_653_376          # nanoGPT prints "123.65M"
    assert kaplan_n(GPT2) == 12 * 12 * 768 ** 2    # 12·n_layer·d_model² when d_ff = 4d
    assert parameter_count(GPT2_XL) == 1_557_611_200


def test_parameter_count_follows_bias_and_tying() -> None:
    untied = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12,
                  tied_embeddings=False)
    assert parameter_count(untied) - parameter_count(GPT2) == 50257 * 768
    no_bias = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12, bias=False)
    # per block: 2 LN biases (d), c_attn 3d, c_proj d, c_fc 4d, c_proj d; plus ln_f's d
    assert parameter_count(GPT2) - parameter_count(no_bias) == 12 * 11 * 768 + 768


def test_megatron_without_recomputation_is_flop_counter_mode_exactly() -> None:
    f = FORMULAS["megatron"]
    assert f.per_sequence(GPT2) == FCM_FORWARD + FCM_BACKWARD
    assert f.per_token(GPT2) == FCM_PER_TOKEN == 854_438_400
    # the paper's form, 72·B·s·l·h²·(1 + s/6h + V/12lh), evaluated in floating point
    s, l_, h, v = 1024, 12, 768, 50257
    assert 72 * s * l_ * h * h * (1 + s / (6 * h) + v / (12 * l_ * h)) == pytest.approx(
        FCM_FORWARD + FCM_BACKWARD, rel=1e-12)


def test_megatron_with_recomputation_adds_a_forward_of_the_layers() -> None:
    s, l_, h, v = 1024, 12, 768, 50257
    paper = 96 * s * l_ * h * h * (1 + s / (6 * h) + v / (16 * l_ * h))
    assert FORMULAS["megatron-recompute"].per_sequence(GPT2) == pytest.approx(paper, rel=1e-12)
    layers_forward = l_ * (24 * s * h * h + 4 * s * s * h)
    assert (FORMULAS["megatron-recompute"].per_sequence(GPT2)
            - FORMULAS["megatron"].per_sequence(GPT2)) == layers_forward


@pytest.mark.parametrize(("key", "per_token", "error"), [
    ("kaplan-6n", 6 * 84_934_656, -0.4036),
    ("kaplan", 3 * (2 * 84_934_656 + 2 * 12 * 1024 * 768), -0.3373),       # "34 % lower"
    ("chinchilla", 1_087_349_760, 0.2726),                                   # "27 % higher"
    ("chinchilla-a4", 624_181_248, -0.2695),
    ("megatron", 854_438_400, 0.0),
    ("megatron-recompute", 1_062_056_448, 0.2430),
    ("nanogpt-6n", 6 * 123_653_376, -0.1317),                                # "13 % lower"
    ("palm", 6 * 123_653_376 + 12 * 12 * 12 * 64 * 1024, 0.0009),
])
def test_each_formula_on_gpt2_small(key: str, per_token: int, error: float) -> None:
    f = FORMULAS[key]
    assert f.per_token(GPT2) == per_token
    assert f.per_token(GPT2) / FCM_PER_TOKEN - 1 == pytest.approx(error, abs=5e-5)
    assert f.leaves_out and f.source and f.label and f.formula


def test_chinchilla_appendix_f_term_by_term() -> None:
    t, v, d, h, L, ff = 1024, 50257, 768, 12, 12, 3072
    forward = (2 * t * v * d
               + L * (2 * 3 * t * d * d + 2 * t * t * d + 3 * h * t * t + 2 * t * t * d
                      + 2 * t * d * d + 2 * t * (2 * d * ff))
               + 2 * t * d * v)
    assert FORMULAS["chinchilla"].per_sequence(GPT2) == 3 * forward


def test_the_6n_table_on_published_gpt2_counts() -> None:
    flop = ModelCost("flop", FCM_FORWARD, FCM_FORWARD + FCM_BACKWARD, 3.0, "FlopCounterMode")
    t = sixn_table(GPT2, {"flop": flop}, tokens=1024, n_params=124_439_808)
    assert t.params_agree
    assert t.measured["flop"].per_token == FCM_PER_TOKEN
    assert t.measured["flop"].per_param_token == pytest.approx(6.8663, abs=1e-4)
    assert t.measured["flop"].ratio == 3.0 and t.measured["flop"].holds
    errors = {r.key: r.error["flop"] for r in t.rows}
    assert errors["megatron"] == 0.0
    assert set(errors) == set(FORMULAS)
    assert "unit" not in t.measured and all("unit" not in r.error for r in t.rows)
    doc = t.to_dict()
    assert doc["formulas"][0]["relative_error"]["flop"] == errors["kaplan-6n"]


def test_a_wrong_parameter_count_is_seen() -> None:
    flop = ModelCost("flop", 1, 3, 3.0, "x")
    assert not sixn_table(GPT2, {"flop": flop}, 1024, 124_439_807).params_agree


def test_relative_error_of_nothing_measured_is_none() -> None:
    assert relative_error(5, 0) is None
    with pytest.raises(ValueError):
        sixn_table(GPT2, {}, 0, 1)
