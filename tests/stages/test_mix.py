"""The mix stage end to end on a hand-built judged file: variants, upsampling, stats, errors."""

from __future__ import annotations

import json

import pytest

from md import jsonl
from md.errors import MDError
from md.mixing import stats as mix_stats
from md.settings import MixSettings
from md.stages import mix
from md.types import JudgedThought, MixedExample, Problem

# (cot answers, pot answers) per question, gold 42 everywhere; None = no answer, "E" = error.
CASES = {
    "t1": ([41.0, 41.0, 42.0], [42.0, 42.0, "E"]),  # only PoT's vote right
    "t2": ([42.0, 42.0], [7.0, None]),  # only CoT's vote right
    "t3a": ([42.0, 42.0, 41.0, None], [42.0, 42.0, 42.0, 7.0]),  # both; λ = 3/5
    "t3b": ([42.0, 42.0, 42.0], [42.0, None, None]),  # both; λ = 1/4
    "t3c": ([42.0], [42.0]),  # both; λ = 1/2
    "t3d": ([42.0, 41.0], [42.0, 41.0]),  # both, via ties broken by the earliest sample
    "t4": ([None, None], ["E", "E"]),  # no valid thought at all
}


def make_problems(extra: int = 1) -> list[Problem]:
    ids = list(CASES) + [f"unused{i}" for i in range(extra)]  # in the dataset, never extracted
    return [Problem(pid, "toy", "train", f"What is {pid}?", 42.0) for pid in ids]


def make_judged(path):
    rows = []
    for pid, (cot, pot) in CASES.items():
        for method, answers in (("cot", cot), ("pot", pot)):
            for i, a in enumerate(answers):
                text = f"{method} {pid} #{i} -> {a}"
                status = {None: "no_answer", "E": "error"}.get(a, "ok")
                answer = a if status == "ok" else None
                rows.append(JudgedThought(pid, method, i, text, status, answer, answer == 42.0))
    jsonl.write(path, rows)
    return path


@pytest.fixture
def judged_file(tmp_path):
    return make_judged(tmp_path / "judged.jsonl")


def test_md_mix_types_weights_upsampling_and_stats(judged_file, tmp_path, capsys):
    out = tmp_path / "mix"
    stats = mix.run(judged_file, out, make_problems(), MixSettings(upsample=2), seed=0)
    recs = jsonl.read_all(out / mix.MIXED, MixedExample)
    per_q = {pid: [r for r in recs if r.problem_id == pid] for pid in CASES}
    assert len(per_q["t1"]) == 2 * 3  # 1 CoT + 2 PoT targets, upsampled twice
    assert len(per_q["t2"]) == 2 * 2 and {r.method for r in per_q["t2"]} == {"cot"}
    assert per_q["t4"] == []
    t3a = {(r.method, round(r.weight, 6)) for r in per_q["t3a"]}
    assert t3a == {("cot", 0.4), ("pot", 0.6)} and len(per_q["t3a"]) == 2 + 3
    assert {r.qtype for r in per_q["t3d"]} == {3}
    assert stats["types"]["1"]["count"] == 1 and stats["types"]["3"]["count"] == 4
    assert stats["types"]["4"]["share"] == pytest.approx(1 / 7)
    assert stats["types"]["2"]["name"] == "~P∧C" and stats["types"]["1"]["name"] == "P∧~C"
    assert stats["upsample_factors"] == {"1": 2, "2": 2, "3": 1}
    assert stats["problems_without_thoughts"] == 1
    assert stats["types_by_dataset"] == {"toy": {"1": 1, "2": 1, "3": 4, "4": 1}}
    assert sum(stats["lambda"]["type_3"]) == 4 and stats["lambda"]["type_3"][2] == 1  # λ=0.25
    assert stats["lambda"]["mean_type_3"] == pytest.approx((0.6 + 0.25 + 0.5 + 0.5) / 4)
    assert json.loads((out / mix.STATS_JSON).read_text()) == stats
    assert (out / mix.STATS_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = mix_stats.table(stats)
    assert "P∧~C" in table and "14.3%" in table and "57.1%" in table


def test_auto_upsampling_in_the_stage(judged_file, tmp_path):
    stats = mix.run(judged_file, tmp_path / "m", make_problems(), MixSettings(), seed=0)
    # 4 type-3 questions: 0.25 / 0.5 * 4 = 2 questions wanted per rare type -> factor 2 each
    assert stats["upsample_factors"] == {"1": 2, "2": 2, "3": 1}


@pytest.mark.parametrize("variant", ["md", "cot", "pot", "label"])
def test_every_variant_writes_valid_mixed_examples(judged_file, tmp_path, variant):
    out = tmp_path / variant
    mix.run(judged_file, out, make_problems(), MixSettings(variant=variant), seed=0)
    rows = list(jsonl.read(out / mix.MIXED))  # as plain dicts: check the JSON itself
    assert rows and all(set(r) == set(MixedExample.__dataclass_fields__) for r in rows)
    recs = [MixedExample(**r) for r in rows]
    for r in recs:  # what a training reader needs: text in, text out, a positive weight
        assert isinstance(r.input, str) and r.input.startswith("Question: ")
        assert isinstance(r.target, str) and r.target.strip()
        assert r.weight > 0 and r.method in ("cot", "pot", "label")
    methods = {r.method for r in recs}
    expected = {"md": {"cot", "pot"}, "cot": {"cot"}, "pot": {"pot"}, "label": {"label"}}
    assert methods == expected[variant]
    if variant == "label":
        assert len(recs) == len(CASES) and {r.target for r in recs} == {" 42"}


def test_same_seed_same_bytes_other_seed_other_paths(tmp_path):
    many = [JudgedThought("q", m, i, f"{m} path {i}", "ok", 42.0, True)
            for m in ("cot", "pot") for i in range(10)]
    jsonl.write(tmp_path / "j.jsonl", many)
    problems = [Problem("q", "toy", "train", "q?", 42.0)]
    outs = [tmp_path / name for name in ("a", "b", "c")]
    for out, seed in zip(outs, (0, 0, 1), strict=True):
        mix.run(tmp_path / "j.jsonl", out, problems, MixSettings(paths_per_question=3), seed=seed)
    a, b, c = ((o / mix.MIXED).read_bytes() for o in outs)
    assert a == b and a != c
    assert len(jsonl.read_all(outs[0] / mix.MIXED, MixedExample)) == 6


def test_ids_not_in_the_dataset_are_one_clear_error(judged_file, tmp_path):
    other = [Problem(f"gsm8k-{i}", "gsm8k", "train", "?", 1.0) for i in range(3)] + make_problems()[:2]
    with pytest.raises(MDError) as e:
        mix.run(judged_file, tmp_path / "m", other)
    msg = str(e.value)
    assert "judged.jsonl" in msg and "5 of 7 problem ids are not in the dataset" in msg
    assert "'t3a'" in msg and "(and 2 more)" in msg


def test_empty_and_untrainable_inputs(tmp_path):
    jsonl.write(tmp_path / "empty.jsonl", [])
    with pytest.raises(MDError, match="no judged thoughts"):
        mix.run(tmp_path / "empty.jsonl", tmp_path / "m", make_problems())
    bad = [JudgedThought("t4", "cot", 0, "?", "no_answer", None, False)]
    jsonl.write(tmp_path / "bad.jsonl", bad)
    with pytest.raises(MDError, match="no training examples"):
        mix.run(tmp_path / "bad.jsonl", tmp_path / "m", make_problems())
    assert (tmp_path / "m" / mix.STATS_JSON).exists()  # the stats say why
    with pytest.raises(MDError, match="mix.variant"):
        mix.run(tmp_path / "bad.jsonl", tmp_path / "m", make_problems(), MixSettings(variant="both"))
    with pytest.raises(MDError, match="paths_per_question"):
        mix.run(tmp_path / "bad.jsonl", tmp_path / "m", make_problems(),
                MixSettings(paths_per_question=0))


def test_stats_are_logged_to_a_wandb_run(judged_file, tmp_path):
    wandb = pytest.importorskip("wandb")
    run = wandb.init(mode="offline", dir=str(tmp_path), project="md-test", reinit=True)
    try:
        mix.run(judged_file, tmp_path / "m", make_problems(), MixSettings(upsample=2), wandb_run=run)
        summary = dict(run.summary)
    finally:
        run.finish()
    assert summary["mix/type3_count"] == 4
    assert summary["mix/type4_share"] == pytest.approx(1 / 7)
    assert summary["mix/questions"] == 7


def test_training_code_consumes_every_variant(judged_file, tmp_path):
    batching = pytest.importorskip("md.training.batching")
    from md.models.tokenizer import train_tokenizer
    from md.training.loss import example_weight

    per_variant = {}
    for variant in ("md", "cot", "pot", "label"):
        mix.run(judged_file, tmp_path / variant, make_problems(), MixSettings(variant=variant),
                seed=0)
        per_variant[variant] = jsonl.read_all(tmp_path / variant / mix.MIXED, MixedExample)
    texts = [t for recs in per_variant.values() for r in recs for t in (r.input, r.target)]
    tok = train_tokenizer(texts, vocab_size=300)
    for variant, recs in per_variant.items():
        weights = [example_weight(r.method, r.qtype, r.weight, "adaptive", None) for r in recs]
        items, info = batching.encode(recs, weights, tok, seq2seq=False, max_length=256)
        assert len(items) == len(recs) and info["dropped"] == 0, variant
        assert [it.weight for it in items] == pytest.approx([r.weight for r in recs])
