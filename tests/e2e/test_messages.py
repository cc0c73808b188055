"""Messages that say what is wrong: the cause named, not a neighbouring one.

Before, a file given as MD_CONFIG_DIR was "no such folder" and MD_DATA_CACHE pointing at a file
was a failed download ("offline?") after a network round trip.
"""

from __future__ import annotations

from cli_run import md_here, one_error_line


def test_a_file_as_the_config_folder_is_called_a_file(tmp_path):
    (tmp_path / "conf.yaml").write_text("student: {}\n")
    line = one_error_line(md_here(tmp_path, "--cfg", "job",
                                  env={"MD_CONFIG_DIR": str(tmp_path / "conf.yaml")}))
    assert line.startswith(f"error: $MD_CONFIG_DIR={tmp_path / 'conf.yaml'} is a file, not a folder")


def test_a_file_as_the_data_cache_is_called_a_file_before_any_download(tmp_path):
    (tmp_path / "cache").write_text("")
    env = {"MD_DATA_CACHE": str(tmp_path / "cache"), "MD_DATA_URL": "http://127.0.0.1:9"}
    line = one_error_line(md_here(tmp_path, "data=svamp", "data.path=null", stage="data.__main__",
                                  env=env))
    assert f"{tmp_path / 'cache'} is a file, not a folder" in line and "offline" not in line


def test_a_bad_value_in_a_sweep_is_named_by_its_own_key(tmp_path):
    line = one_error_line(md_here(tmp_path, "-m", "seed=0,abc"))
    assert line.startswith("error: seed='abc': must be an integer")


def test_a_null_thought_text_names_its_record_and_asks_for_no_rerun(tmp_path):
    """A replayed thought whose text is null is a broken file: a rerun cannot mend it, so the
    line names the record and does not say 'rerun' (before: 'failed batch lines ... rerun')."""
    import json

    from md.types import Thought

    rows = [Thought(problem_id=f"synthetic-0-train-{i}", method=m, sample_index=0,
                    text="The answer is 1." if m == "cot" else "result = 1", model="replayed")
            for i in range(2) for m in ("cot", "pot")]
    records = [json.loads(json.dumps(r.__dict__, default=str)) for r in rows]
    records[0]["text"] = None
    (tmp_path / "replay.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    line = one_error_line(md_here(tmp_path, "data=synthetic", "extract.max_problems=2",
                                  "teacher=replay", f"teacher.path={tmp_path / 'replay.jsonl'}",
                                  "teacher.n=1", stage="extract"))
    assert f"{tmp_path / 'replay.jsonl'} record 1:" in line and "NoneType" in line, line
    assert "rerun" not in line and "batch" not in line, line


def test_hydras_hint_is_shown_whole_on_the_one_line(tmp_path):
    """Hydra puts the fix on the lines after the first (the options there are, the grammar's
    page): the one error line keeps them, without Hydra's listing of its search path."""
    (tmp_path / "conf" / "experiment").mkdir(parents=True)
    (tmp_path / "conf" / "experiment" / "bad.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /student: nosuch\n")
    line = one_error_line(md_here(tmp_path, "experiment=bad",
                                  env={"MD_CONFIG_DIR": str(tmp_path / "conf")}))
    assert "Could not find 'student/nosuch'; Available options in 'student'; codellama" in line
    assert "tiny-llama" in line and "search path" not in line, line
    line = one_error_line(md_here(tmp_path, "inference.paths=[1,2"))
    assert "override_grammar" in line, line
