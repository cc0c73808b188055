"""The real benchmark files load with the paper's split sizes and the right golds."""

from __future__ import annotations

import re

import pytest

from md import data
from md.data import asdiv, svamp
from md.errors import MDError

SIZES = {"gsm8k": (7473, 1319), "svamp": (700, 300), "asdiv": (1520, 695), "strategyqa": (2061, 229)}


@pytest.fixture(scope="module")
def loaded(shared_data):
    return {(name, split): data.load(name, split, str(shared_data / name))
            for name in SIZES for split in ("train", "test")}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_split_sizes_ids_and_fields(loaded, name):
    train, test = loaded[name, "train"], loaded[name, "test"]
    assert (len(train), len(test)) == SIZES[name]
    ids = [p.id for p in train + test]
    assert len(set(ids)) == len(ids), "ids must be unique across both splits"
    assert all(p.dataset == name and p.question and p.answer is not None for p in train + test)
    assert {p.split for p in train} == {"train"} and {p.split for p in test} == {"test"}


def _by_id(loaded, name):
    return {p.id: p for split in ("train", "test") for p in loaded[name, split]}


def test_gsm8k_golds(loaded):
    gsm = _by_id(loaded, "gsm8k")
    assert gsm["gsm8k-train-0"].answer == 72.0 and gsm["gsm8k-test-0"].answer == 18.0
    assert gsm["gsm8k-train-0"].question.startswith("Natalia sold clips to 48 of her friends")
    assert gsm["gsm8k-train-402"].answer == 192_000_000.0  # "192,000,000": commas removed
    assert all(isinstance(p.answer, float) for p in gsm.values())


def test_svamp_golds_split_and_join(loaded):
    sv = _by_id(loaded, "svamp")
    assert sv["chal-1"].answer == 51.0 and sv["chal-1"].split == "train"
    assert sv["chal-1"].question == (
        "Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack, "
        "how much do you have to pay to buy each pack?")
    assert sv["chal-10"].split == "test" and sv["chal-10"].answer == 21.0  # index 9, first test index
    assert svamp.join("He had 5 cookies", "How many?") == "He had 5 cookies. How many?"
    assert svamp.join("He had 5 cookies.", "How many?") == "He had 5 cookies. How many?"


def test_asdiv_golds_and_dropped_multi_answers(loaded, shared_data):
    a = _by_id(loaded, "asdiv")
    assert a["nluds-0001"].answer == 9.0  # "9 (apples)"
    assert a["nluds-1312"].answer == 2.5  # "5/2"
    assert a["nluds-1331"].answer == pytest.approx(-1 / 3)  # "-(1/3)"
    assert a["nluds-0076"].answer is True  # "Yes"
    assert a["nluds-1062"].answer == "they are equal" and a["nluds-0850"].answer == "5:6"
    assert "nluds-1310" not in a  # "11; 12; 13": several answers, dropped
    text = (shared_data / "asdiv" / "ASDiv.xml").read_text(encoding="utf-8")
    multi = len(re.findall(r"<Answer>[^<]*;[^<]*</Answer>", text))
    assert text.count("<Problem ") - len(a) == 90 == multi


def test_asdiv_test_set_follows_grade_distribution(loaded):
    train, test = loaded["asdiv", "train"], loaded["asdiv", "test"]
    for grade in range(1, 7):
        n_all = sum(p.meta["grade"] == grade for p in train + test)
        n_test = sum(p.meta["grade"] == grade for p in test)
        assert abs(n_test - 695 * n_all / len(train + test)) < 1, grade


def test_asdiv_seed_changes_the_sample(shared_data):
    other = asdiv.load("test", str(shared_data / "asdiv"), seed=1)
    assert len(other) == 695
    default = {p.id for p in asdiv.load("test", str(shared_data / "asdiv"))}
    assert {p.id for p in other} != default


def test_asdiv_unit_and_fraction_cleaning():
    assert asdiv.clean_answer("9 (apples)") == "9"
    assert asdiv.clean_answer("3.5 (square feet)") == "3.5"
    assert asdiv.clean_answer("-(1/3)") == pytest.approx(-1 / 3)
    assert asdiv.clean_answer("6 (cm); 15 (cm)") is None


def test_strategyqa_golds(loaded):
    s = _by_id(loaded, "strategyqa")
    assert s["e0044a7b4d146d611e73"].answer is False and s["e0044a7b4d146d611e73"].split == "test"
    assert sum(p.answer is True for p in loaded["strategyqa", "train"]) == 964
    assert sum(p.answer is True for p in loaded["strategyqa", "test"]) == 107


@pytest.mark.parametrize("name", sorted(SIZES))
def test_missing_path_is_one_clear_error(tmp_path, name):
    with pytest.raises(MDError) as e:
        data.load(name, "train", str(tmp_path / "nowhere"))
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path / "nowhere") in msg and "data.path=" in msg


def test_bad_split_and_unknown_dataset_and_option(shared_data):
    with pytest.raises(MDError, match="unknown split 'dev'"):
        data.load("gsm8k", "dev", str(shared_data / "gsm8k"))
    with pytest.raises(MDError, match="unknown dataset 'mnist'"):
        data.load("mnist", "train")
    with pytest.raises(MDError, match="unexpected keyword argument 'sead'"):
        data.load("synthetic", "train", sead=3)


def test_malformed_file_names_the_line(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"question": "q", "answer": "#### 3"}\n{oops\n')
    (tmp_path / "test.jsonl").write_text("")
    with pytest.raises(MDError, match=r"train.jsonl:2: malformed JSON"):
        data.load("gsm8k", "train", str(tmp_path))
    assert data.load("gsm8k", "test", str(tmp_path)) == []
