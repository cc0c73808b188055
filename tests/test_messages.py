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
