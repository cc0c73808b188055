"""md.config.nextsteps: the first run ends with where the results are and what to run next."""

from __future__ import annotations


def test_the_first_run_ends_with_where_the_results_are_and_what_next(tmp_path):
    from omegaconf import OmegaConf

    from md.config.nextsteps import block

    simulated = {"_target_": "md.teacher.simulated.build_simulated_teacher"}
    default = OmegaConf.create({"data": {"name": "synthetic"}, "teacher": simulated,
                                "experiment_name": "default"})
    text = block(default, tmp_path / "run", 148.4, evaluated=True)
    assert text.splitlines()[0] == f"done in 2m28s · run folder {tmp_path / 'run'}"
    assert f"results: {tmp_path / 'run' / 'eval' / 'metrics.json'}" in text
    assert "next:" in text and "make demo" in text and "student=smollm2-135m" in text
    real = OmegaConf.create({"data": {"name": "svamp"}, "teacher": simulated,
                             "experiment_name": "default"})
    assert "next:" not in block(real, tmp_path, 10, evaluated=False)  # only after the first run
