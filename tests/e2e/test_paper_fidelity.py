"""The baselines, the path budget and the training set as the paper (../shared/paper, §3-4) has
them: label fine-tuning scored as its own method, programs that survive T5's tokenizer, the
10 + 10 mixed vote, every training question trained on, QLoRA students evaluated on their 4-bit
base, and the few-shot rows above the students (the teacher, base models). Upsampling and the
per-question normalisation of the loss are tested in tests/mixing/test_mixing.py and tests/training/test_loss.py."""

from __future__ import annotations

import json
from pathlib import Path

from hydra import compose, initialize_config_dir
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from train_settings import run as train_run
from transformers import PreTrainedTokenizerFast

from md.answers import extract_cot_answer, extract_label_answer
from md.config.cli import CONFIG_DIR
from md.evaluation import methods
from md.mixing.examples import demo_examples
from md.models import build_student, save_student
from md.models.whitespace import escape, needs_escape, unescape
from md.prompts import student_input
from md.reporting.collect import describe
from md.reporting.tables import accuracy_table
from md.settings import CurveSettings, InferenceSettings, TrainSettings
from md.stages.evaluate import Source, Students, run
from md.stages.train import split
from md.training.batching import encode
from md.types import MixedExample, Problem
from md.types import ReasoningPath as Sampled

PROBLEMS = [Problem(f"q{i}", "synthetic", "test", f"Tom has {i} apples and buys 2 more. How many?",
                    float(i + 2)) for i in range(4)]
TINY = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}
PROGRAM = ("apples = 4\nbought = 2\ntotal = 0\nfor k in range(bought):\n    if k >= 0:\n"
           "        total += 1\nans = apples + total")


class Answers:
    """A student that answers every prompt with fixed completions, by its trigger."""

    def __init__(self, by_trigger: dict[str, list[str]]):
        self.by_trigger = by_trigger

    def _texts(self, prompt: str) -> list[str]:
        return next(v for k, v in self.by_trigger.items() if prompt.endswith(k))

    def sample(self, prompts, n, temperature):
        return [[self._texts(p)[i % len(self._texts(p))] for i in range(n)] for p in prompts]

    def greedy(self, prompts):
        return [self._texts(p)[0] for p in prompts]


# --- 1. label fine-tuning is its own method ----------------------------------------------------

def test_label_answers_are_read_as_bare_answers():
    assert extract_cot_answer(" 42") is None  # what scored every label student as zero
    assert extract_label_answer(" 42") == 42.0 and extract_label_answer(" yes") is True
    assert extract_label_answer(" 3/4\nQuestion: next") == 0.75
    assert extract_label_answer(" 42 apples.") == 42.0 and extract_label_answer("") is None


def test_a_label_student_is_prompted_and_scored_as_label(tmp_path, sandbox):
    gold = {student_input(p.question, "label"): [f" {int(p.answer)}"] for p in PROBLEMS}

    class LabelStudent(Answers):  # the right bare answer for each question, as a label student
        def _texts(self, prompt):
            return gold[prompt]

    student = LabelStudent({})
    metrics = run(PROBLEMS, Students.one(student, label=True), sandbox,
                  InferenceSettings(paths=3, curves=CurveSettings(draws=2)), tmp_path)
    assert metrics["accuracy"] == {"label": 1.0, "greedy_label": 1.0}
    assert metrics["paths_used"]["label"] == "3"
    row = describe(tmp_path, metrics)
    assert "label" in accuracy_table([row], ["label", "cot"]).splitlines()[0]


def test_save_student_records_the_methods_it_learned(tmp_path):
    examples = [MixedExample("q", "label", student_input("Q?", "label"), " 4", 1.0, 0)]
    student = build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4,
                            tokenizer_texts=["Q? The answer is 4"], workdir=str(tmp_path / "s"))
    folder = save_student(student, tmp_path / "student", methods={e.method for e in examples})
    manifest = json.loads((folder / "md_student.json").read_text())
    assert manifest["methods"] == ["label"] and manifest["quantization"] is None


# --- 2. programs survive a tokenizer that normalises whitespace like T5's ------------------------

def t5_like_tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    """A Unigram tokenizer with T5's normaliser (NMT + NFKC, spaces collapsed) and Metaspace."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.train_from_iterator(texts, trainers.UnigramTrainer(
        vocab_size=300, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"))
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>")


def test_a_multi_line_program_round_trips_a_t5_tokenizer_and_runs(sandbox):
    tok = t5_like_tokenizer([PROGRAM, escape(PROGRAM)] * 30)
    assert needs_escape(tok)
    plain = tok.decode(tok(PROGRAM).input_ids, skip_special_tokens=True)
    assert "\n" not in plain  # the bug: one line, a SyntaxError
    escaped = tok.decode(tok(escape(PROGRAM)).input_ids, skip_special_tokens=True)
    assert unescape(escaped) == PROGRAM
    broken, fixed, original = sandbox.run([plain, unescape(escaped), PROGRAM])
    assert broken.status == "error"
    assert fixed.status == "ok" and fixed.answer == original.answer == 6


def test_training_escapes_targets_only_for_tokenizers_that_need_it(tmp_path):
    example = MixedExample("q", "pot", student_input("Q?", "pot"), PROGRAM, 1.0, 1)
    t5 = t5_like_tokenizer([PROGRAM, escape(PROGRAM), example.input] * 30)
    (item,), _ = encode([example], [1.0], t5, seq2seq=True, max_length=512)
    assert "NEWLINE" in t5.decode(item.labels, skip_special_tokens=True)
    student = build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4,
                            tokenizer_texts=[PROGRAM, example.input], workdir=str(tmp_path / "bpe"))
    assert not needs_escape(student.tokenizer)  # BPE students keep their programs as they are


# --- 3. the mixed vote uses 10 CoT + 10 PoT -----------------------------------------------------

def test_mixed_vote_uses_the_first_ten_of_each_method(tmp_path, sandbox):
    right, wrong = Sampled("pot", "", "ok", 6.0), Sampled("pot", "", "ok", 7.0)
    cots = [Sampled("cot", "", "no_answer", None)] * 20
    paths = cots + [right] * 8 + [wrong] * 2 + [wrong] * 10
    assert methods.votes(paths, mixed_n=10)["cot_w_pot"] == 6.0  # 8 of the first 10 PoT
    assert methods.votes(paths)["cot_w_pot"] == 7.0  # all 20: 12 wrong against 8 right
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("evaluate", overrides=["student_dir=x", "student=codellama-7b"])
    assert cfg.inference.vote_paths == 10 and cfg.inference.paths == 20
    student = Answers({"step by step.": ["The answer is 4."], "code step by step.": ["ans = 4"]})
    metrics = run(PROBLEMS, Students.one(student), sandbox,
                  InferenceSettings(paths=12, vote_paths=10, curves=CurveSettings(draws=2)),
                  tmp_path)
    assert metrics["paths_used"]["cot_w_pot"] == "10+10" and metrics["paths_used"]["cot"] == "12"
    table = accuracy_table([describe(tmp_path, metrics)])
    assert "+CoT w/PoT: 10+10" in table and "+CoT: 12" in table


# --- 5. every training question is trained on ---------------------------------------------------

def test_every_training_question_is_trained_on_by_default():
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train")
    assert cfg.train.val_fraction == 0.0
    assert TrainSettings().val_fraction == 0.0
    examples = demo_examples(n_questions=40)
    train, val = split(examples, cfg.train.val_fraction)
    assert train == examples and val == []


# --- 7. a QLoRA student is evaluated on its 4-bit base ------------------------------------------

def test_qlora_student_is_evaluated_on_the_nf4_base_it_was_trained_on(tmp_path):
    from md.inference.hf import load_hf

    examples = demo_examples(n_questions=6)
    texts = [e.input for e in examples] + [e.target for e in examples]
    student = build_student(name="tiny", tiny=TINY, vocab_size=300, finetune="qlora", lora_r=4,
                            compute_dtype="float32", tokenizer_texts=texts,
                            workdir=str(tmp_path / "s"))
    result = train_run(examples, student, out_dir=tmp_path / "run", max_steps=1, batch_size=4,
                       ckpt_every=1)
    manifest = json.loads((result.student_dir / "md_student.json").read_text())
    assert manifest["quantization"]["bnb_4bit_quant_type"] == "nf4"
    model, _, loaded = load_hf(result.student_dir)
    assert loaded == "nf4 4-bit (as trained)"
    assert any(type(m).__name__ == "Linear4bit" for m in model.modules())
    model, _, loaded = load_hf(result.student_dir, quantized_base=False)
    assert loaded == "float32" and not any(type(m).__name__ == "Linear4bit" for m in model.modules())


# --- 8. the rows above the students: teacher and base models few-shot ---------------------------

def test_teacher_few_shot_through_the_client_is_scored_and_cached(tmp_path, sandbox):
    from openai_server import FakeOpenAI

    from md.evaluation.few_shot import teacher_paths
    from md.teacher.openai_client import build_openai_teacher

    server = FakeOpenAI().start()
    try:
        teacher = build_openai_teacher(model="gpt-3.5-turbo", base_url=server.url, n=3,
                                       require_key=False, http_backend="httpx")
        paths = teacher_paths(PROBLEMS, teacher, n=3, sandbox=sandbox,
                              cache_path=tmp_path / "cache.sqlite", progress=False)
        asked = len(server.requests)
        again = teacher_paths(PROBLEMS, teacher, n=3, sandbox=sandbox,
                              cache_path=tmp_path / "cache.sqlite", progress=False)
    finally:
        server.stop()
    assert asked == 2 * len(PROBLEMS) and len(server.requests) == asked  # the rerun paid nothing
    assert again == paths and all(len(p) == 6 for p in paths)
    cot = [p for ps in paths for p in ps if p.method == "cot"]
    assert all(p.status == "ok" and p.answer is not None for p in cot)  # "The answer is N."
    from md.stages.evaluate import score

    metrics = score(PROBLEMS, paths,
                    InferenceSettings(paths=3, vote_paths=10, curves=CurveSettings(draws=2)),
                    tmp_path / "eval",
                    Source("few-shot", info={"few_shot_model": teacher.model}))
    row = describe(tmp_path / "eval", metrics)
    assert (row.student, row.mix) == ("gpt-3.5-turbo", "few-shot")
    assert "few-shot (not fine-tuned)" in accuracy_table([row])


def test_a_base_model_few_shot_through_the_hf_teacher(tmp_path, sandbox):
    from md.evaluation.few_shot import teacher_paths
    from md.models.tiny import make_tiny_base
    from md.teacher.hf import build_hf_teacher

    folder = make_tiny_base(tmp_path / "base", TINY, [p.question for p in PROBLEMS] * 5, 300, 0)
    teacher = build_hf_teacher(model=str(folder), n=2, max_tokens=8, gen_batch=8)
    paths = teacher_paths(PROBLEMS, teacher, n=2, sandbox=sandbox, progress=False)
    assert [sorted(p.method for p in ps) for ps in paths] == [["cot", "cot", "pot", "pot"]] * 4


def test_the_few_shot_rows_have_an_experiment_beside_table1():
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("evaluate", overrides=["experiment=table1_few_shot"], return_hydra_config=True)
    assert cfg.few_shot is True
    assert set(cfg.hydra.sweeper.params.teacher.split(",")) == {"openai", "hf_llama2", "hf_codellama"}
    assert Path(CONFIG_DIR, "teacher", "hf_llama2.yaml").exists()
