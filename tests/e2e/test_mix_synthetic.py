"""End to end on the offline default: synthetic problems -> simulated teacher -> execute -> mix.

The real components all the way: md.data's synthetic generator, the simulated teacher's thoughts,
PoT run in md.sandbox, CoT parsed by md.answers, then every mix variant. The simulated teacher's
error model is built so that all four of the paper's types appear; this test holds it to that.
"""

from __future__ import annotations

import json

import pytest

from md import jsonl
from md.mixing import stats as mix_stats
from md.settings import MixSettings, SandboxSettings
from md.stages import execute, mix
from md.types import MixedExample, Thought

N_PROBLEMS = 84  # three rounds of the 28 templates
N_SAMPLES = 5  # per method


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    pytest.importorskip("md.sandbox", reason="md.sandbox not written yet")
    from md.data import load
    from md.teacher.simulated import build_simulated_teacher

    problems = load("synthetic", "train", None, n_train=N_PROBLEMS, n_test=28, seed=0)
    teacher = build_simulated_teacher(seed=0, n=N_SAMPLES)
    thoughts = [Thought(p.id, m, i, teacher.sample(p, m, i), teacher.model)
                for p in problems for m in ("cot", "pot") for i in range(N_SAMPLES)]
    folder = tmp_path_factory.mktemp("synthetic")
    jsonl.write(folder / "thoughts.jsonl", thoughts)
    summary = execute.run(folder / "thoughts.jsonl", folder / "judged.jsonl", problems,
                          SandboxSettings(workers=2, timeout_s=5.0, memory_mb=512), progress=False)
    return problems, folder, summary


def test_all_four_types_appear_and_shares_are_saved(judged, capsys):
    problems, folder, summary = judged
    assert summary["pot"]["thoughts"] == summary["cot"]["thoughts"] == N_PROBLEMS * N_SAMPLES
    stats = mix.run(folder / "judged.jsonl", folder / "md", problems, MixSettings(), seed=0)
    print(mix_stats.table(stats))
    out = capsys.readouterr().out
    counts = {t: row["count"] for t, row in stats["types"].items()}
    assert all(counts[t] > 0 for t in "1234"), counts
    assert sum(counts.values()) == N_PROBLEMS
    assert sum(row["share"] for row in stats["types"].values()) == pytest.approx(1.0)
    assert json.loads((folder / "md" / mix.STATS_JSON).read_text())["types"] == stats["types"]
    assert (folder / "md" / mix.STATS_PNG).stat().st_size > 5000
    for row in stats["types"].values():
        assert row["name"] in out and f"{row['share']:.1%}" in out
    recs = jsonl.read_all(folder / "md" / mix.MIXED, MixedExample)
    assert {r.qtype for r in recs} == {1, 2, 3}
    assert stats["upsample_factors"]["1"] >= 1 and stats["upsample_factors"]["2"] >= 1


@pytest.mark.parametrize("variant", ["cot", "pot", "label"])
def test_baseline_variants_on_synthetic(judged, variant):
    problems, folder, _ = judged
    mix.run(folder / "judged.jsonl", folder / variant, problems,
            MixSettings(variant=variant), seed=0)
    recs = jsonl.read_all(folder / variant / mix.MIXED, MixedExample)
    assert recs and {r.method for r in recs} == {variant}
    assert all(r.weight == 1.0 and r.qtype == 0 for r in recs)
