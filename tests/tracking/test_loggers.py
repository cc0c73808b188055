"""W&B offline logging: the run file holds train/loss_cot, train/loss_pot, the flat config, group
and tags; a failed run still ends its W&B run; WANDB_* variables are honoured; a training run
through md.train logs its lineage as artifacts. Run files are read back with wandb_records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
from train_settings import run
from wandb_records import read_finished_run, read_wandb_records

from md.errors import MDError
from md.mixing.examples import demo_examples
from md.models import build_student
from md.tracking.loggers import ablation_tags, wandb_logger

EXAMPLES = demo_examples(n_questions=8, seed=1)
TINY = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}
def _student(tmp_path):
    texts = [e.input for e in EXAMPLES] + [e.target for e in EXAMPLES]
    return build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4, tokenizer_texts=texts,
                         workdir=str(tmp_path / "student"))


def test_offline_run_file_holds_path_losses_config_group_and_tags(tmp_path):
    tags = ablation_tags({"student": "tiny", "data": "synthetic", "mix": "md", "loss": "fixed"}, 0.25,
                         student="tiny-llama", seed=3)
    logger = wandb_logger(str(tmp_path), group="table2", tags=tags,
                          config={"loss.lambda": 0.25, "student.name": "tiny-llama"})
    run(EXAMPLES, _student(tmp_path), out_dir=tmp_path, max_steps=3, batch_size=4,
        log_every_n_steps=1, val_fraction=0.0, ckpt_every=3, logger=logger)
    assert sys.modules["wandb"].run is None  # run() called wandb.finish()
    (path,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    records = read_finished_run(path)
    data, torn = path.read_bytes(), tmp_path / "torn.wandb"
    for cut in range(8, len(data), 97):  # read while W&B's writer is mid-record: never an error
        torn.write_bytes(data[:cut])
        assert len(read_wandb_records(torn)) <= len(records)
    history = [{i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
               for r in records if r.WhichOneof("record_type") == "history"]
    keys = set().union(*history)
    assert {"train/loss", "train/loss_cot", "train/loss_pot"} <= keys
    assert all(v > 0 for row in history for k, v in row.items() if k.startswith("train/loss"))
    config = {u.key: json.loads(u.value_json) for r in records
              if r.WhichOneof("record_type") == "config" for u in r.config.update}
    assert config["loss.lambda"] == 0.25 and config["student.name"] == "tiny-llama"
    (run_record,) = [r.run for r in records if r.WhichOneof("record_type") == "run"][:1]
    assert run_record.run_group == "table2"
    assert set(run_record.tags) == {"family:llama", "size:tiny", "data:synthetic", "mix:md",
                                    "loss:fixed", "lambda:0.25", "seed:3"}


class Boom(L.Callback):
    def on_train_batch_start(self, trainer, *args):
        raise RuntimeError("boom")


def test_failed_run_still_finishes_wandb(tmp_path):
    logger = wandb_logger(str(tmp_path), group="g")
    logger.experiment  # noqa: B018  (start the W&B run now, as a sweep job would)
    with pytest.raises(RuntimeError, match="boom"):
        run(EXAMPLES, _student(tmp_path), out_dir=tmp_path, max_steps=2, batch_size=4,
            val_fraction=0.0, logger=logger, callbacks=[Boom()])
    assert sys.modules["wandb"].run is None
    (path,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    exits = [r.exit.exit_code for r in read_finished_run(path) if r.WhichOneof("record_type") == "exit"]
    assert exits == [1]


def test_wandb_environment_variables_reach_wandb_init(tmp_path, monkeypatch):
    """WANDB_MODE/PROJECT/ENTITY are what wandb.init gets, unless the config sets them."""
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_PROJECT", "distill")
    monkeypatch.setenv("WANDB_ENTITY", "lab")
    logger = wandb_logger(str(tmp_path), group="g")  # nothing is sent until .experiment
    init = logger._wandb_init  # the keyword arguments Lightning passes to wandb.init
    assert (init["mode"], init["project"], init["entity"]) == ("online", "distill", "lab")
    explicit = wandb_logger(str(tmp_path), mode="offline", project="md", entity=None)
    assert (explicit._wandb_init["mode"], explicit._wandb_init["project"]) == ("offline", "md")
    monkeypatch.setenv("WANDB_MODE", "onlne")
    with pytest.raises(MDError, match="WANDB_MODE='onlne'"):
        wandb_logger(str(tmp_path))


@pytest.mark.parametrize(("alias", "family", "size"), [
    ("codellama", "codellama", "7b"), ("codellama-7b", "codellama", "7b"),
    ("llama2", "llama2", "7b"), ("smollm2-135m", "smollm2", "135m"), ("gpt2", "gpt2", "large"),
    ("qwen2.5-1.5b", "qwen2.5", "1.5b"), ("tiny-llama", "llama", "tiny")])
def test_every_alias_of_a_student_tags_one_family_and_one_size(alias, family, size):
    from tests.conftest import compose_config

    name = compose_config("train", f"student={alias}").student.name
    tags = ablation_tags({"student": alias}, None, student=name)
    assert tags == [f"family:{family}", f"size:{size}"]


def _no_mode_env(monkeypatch, tmp_path):
    from md.tracking import loggers

    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setattr(loggers, "_DECIDED", {})


def test_not_logged_in_runs_offline_and_says_how_to_sync(tmp_path, monkeypatch, capsys):
    from md.tracking.loggers import resolve_mode

    _no_mode_env(monkeypatch, tmp_path)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    assert resolve_mode(None, tmp_path) == "offline"
    assert resolve_mode(None, tmp_path) == "offline"  # decided once: one line, not one per job
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "not logged in" in line and "wandb sync" in line


def test_a_key_without_network_is_offline_in_one_line_at_once(tmp_path):
    """The acceptance case through the entry point: a fake API key and a W&B server that cannot
    be reached: one line that says offline and how to sync, then the job runs (no ~100 s hang)."""
    import socket

    from cli_run import md_here

    with socket.socket() as s:  # a port nothing listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"WANDB_MODE": "", "WANDB_API_KEY": "x" * 40, "NETRC": str(tmp_path / "no-netrc"),
           "WANDB_BASE_URL": f"http://127.0.0.1:{port}"}
    out = md_here(tmp_path, "experiment=smoke", "logger=wandb", stage="extract", env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [x for x in out.stderr.splitlines() if x.startswith("W&B:")]
    assert len(lines) == 1 and f"cannot reach http://127.0.0.1:{port}" in lines[0], out.stderr[-2000:]
    assert "offline" in lines[0] and "wandb sync" in lines[0]
    # md.extract logged a run of its own: the teacher's bill and the thoughts it paid for
    (path,) = (tmp_path / "runs").glob("smoke/*/wandb/offline-run-*/run-*.wandb")
    records = read_finished_run(path)
    summary = {u.key: json.loads(u.value_json) for r in records
               if r.WhichOneof("record_type") == "summary" for u in r.summary.update}
    assert (summary["teacher/requests"], summary["teacher/requests_paid"]) == (48, 48)
    assert summary["teacher/thoughts"] == "extracted by this job"
    (meta,) = [r.run for r in records if r.WhichOneof("record_type") == "run"][:1]
    assert meta.job_type == "extract" and "data:synthetic" in meta.tags
    assert {kind for kind, _ in artifacts_of(records).values()} == {"teacher-thoughts"}


class _FakeWandbServer:
    """A real HTTP server on 127.0.0.1 answering W&B's GraphQL `viewer` query: with the
    viewer for the right key, 401 for any other."""

    def __init__(self, key):
        import base64
        import http.server
        import threading

        good = "Basic " + base64.b64encode(f"api:{key}".encode()).decode()
        self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(inner):  # noqa: N805
                body = inner.rfile.read(int(inner.headers["Content-Length"]))
                self.seen.append((inner.path, json.loads(body)))
                ok = inner.headers.get("Authorization") == good
                payload = json.dumps({"data": {"viewer": {"id": "VXNlcjox"}}}).encode()
                inner.send_response(200 if ok else 401)
                inner.send_header("Content-Type", "application/json")
                inner.end_headers()
                inner.wfile.write(payload if ok else b'{"errors": ["unauthorized"]}')

            def log_message(inner, *args):  # noqa: N805
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_logged_in_with_a_server_that_accepts_the_key_is_online(tmp_path, monkeypatch, capsys):
    from md.tracking.loggers import resolve_mode

    _no_mode_env(monkeypatch, tmp_path)
    server = _FakeWandbServer("k" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", server.url)
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    assert resolve_mode(None, tmp_path) == "online" and capsys.readouterr().err == ""
    assert server.seen == [("/graphql", {"query": "{ viewer { id } }"})]
    monkeypatch.setenv("WANDB_API_KEY", "w" * 40)  # a wrong key: refused, so offline, said once
    assert resolve_mode(None, tmp_path) == "offline"
    assert "refused the API key (HTTP 401)" in capsys.readouterr().err
    monkeypatch.setenv("WANDB_MODE", "offline")  # an explicit choice is never second-guessed
    assert resolve_mode(None, tmp_path) == "offline" and len(server.seen) == 2
    server.httpd.shutdown()


def test_the_netrc_of_wandb_login_counts_as_logged_in(tmp_path, monkeypatch):
    from md.tracking.loggers import wandb_server

    _no_mode_env(monkeypatch, tmp_path)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_BASE_URL", raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "n" * 40 + "\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert wandb_server() == ("https://api.wandb.ai", "n" * 40)


def md_train(tmp_path, *args):
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "md.train", *args, f"paths.artifacts={tmp_path / 'art'}",
           f"paths.runs={tmp_path / 'runs'}"]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def artifacts_of(records):
    return {r.artifact.name: (r.artifact.type, json.loads(r.artifact.metadata or "{}"))
            for r in records if r.WhichOneof("record_type") == "artifact"
            and r.artifact.type != "run_table"}  # wandb's own wrappers of logged tables


@pytest.mark.slow  # a 2-job sweep through the real CLI
def test_a_sweep_job_is_one_run_with_its_curves_results_inputs_and_lineage(tmp_path):
    """The acceptance command: 2 jobs leave exactly 2 offline runs, found by the documented sync
    command; each holds the train/loss history and the evaluation accuracies in its summary, the
    mix statistics and the teacher's bill, tags naming the model family without a size alias,
    and the lineage thoughts -> mix -> student -> evaluation."""
    small = ["experiment=smoke", "logger=wandb", "trainer.max_steps=2", "data.max_test=2",
             "inference.paths=1", "inference.max_new_tokens=8", "inference.greedy=false"]
    out = md_train(tmp_path, "-m", *small, "loss=fixed", "loss.lambda=0,1")
    assert out.returncode == 0, out.stderr[-3000:]
    # the command conf/logger/wandb.yaml and the README give: find ... -name 'offline-run-*'
    found = subprocess.run(["find", str(tmp_path / "runs" / "smoke"), "-type", "d", "-name",
                            "offline-run-*"], capture_output=True, text=True).stdout.split()
    assert len(found) == 2, found  # one run per job: training and its evaluation together
    runs = {}
    for folder in found:
        (path,) = Path(folder).glob("run-*.wandb")
        records = read_finished_run(path)
        (meta,) = [r.run for r in records if r.WhichOneof("record_type") == "run"][:1]
        history = {i.key or "/".join(i.nested_key) for r in records
                   if r.WhichOneof("record_type") == "history" for i in r.history.item}
        summary = {u.key or "/".join(u.nested_key): json.loads(u.value_json) for r in records
                   if r.WhichOneof("record_type") == "summary" for u in r.summary.update}
        config = {u.key: json.loads(u.value_json) for r in records
                  if r.WhichOneof("record_type") == "config" for u in r.config.update}
        runs[meta.display_name] = (meta, artifacts_of(records), summary, config)
        assert {"train/loss", "train/loss_cot", "train/loss_pot"} <= history
        assert {f"eval/synthetic/{m}" for m in ("cot", "pot", "cot_w_pot")} <= set(summary)
        assert 0.0 <= summary["eval/synthetic/cot_w_pot"] <= 1.0
        assert summary["mix/questions"] == 24 and 0 < summary["mix/type3_share"] < 1
        assert summary["teacher/requests"] == 48 and summary["teacher/model"] == "simulated"
        assert config["provenance.md"] and config["provenance.git.commit"]  # what produced it
        assert config["provenance.device.kind"] == "cpu" and config["provenance.libraries.torch"]
        assert (config["student.family"], config["student.size"], config["seed"]) == ("llama", "tiny", 0)
        assert meta.run_group == "smoke" and meta.job_type == "train"
        tables = Path(folder) / "files" / "media" / "table" / "eval" / "synthetic"
        (predictions,) = [json.loads(f.read_text()) for f in tables.glob("predictions_*.table.json")]
        assert predictions["columns"][:3] == ["problem_id", "question", "gold"]
        assert len(predictions["data"]) == 2  # each row with its question's text:
        assert all(isinstance(row[1], str) and len(row[1].split()) > 5 for row in predictions["data"])
        (paths,) = [json.loads(f.read_text()) for f in tables.glob("paths_*.table.json")]
        assert {"problem_id", "method", "text", "answer"} <= set(paths["columns"])
        assert len(paths["data"]) == 4  # 2 questions x (1 CoT + 1 PoT path), each with its text
        assert {"family:llama", "size:tiny", "mix:md", "loss:fixed", "seed:0"} <= set(meta.tags)
        assert not any(t.startswith("student") for t in meta.tags)  # no alias-named tag
    assert {name.split(",")[0] for name in runs} == {f"train: loss.lambda={lam}" for lam in (0, 1)}
    # the thoughts were paid once: by the first job; the second reused them
    paid = sorted(s["teacher/requests_paid"] for _, _, s, _ in runs.values())
    assert paid == [0, 48]
    students = set()
    for _, arts, _, _ in runs.values():
        kinds = {kind for kind, _ in arts.values()}
        assert kinds == {"teacher-thoughts", "dataset", "model", "evaluation"}, arts
        (mix_meta,) = [m for k, m in arts.values() if k == "dataset"]
        assert mix_meta["thoughts"] in arts
        students |= {n for n, (k, _) in arts.items() if k == "model"}
    assert len(students) == 2  # one student per job


def test_a_rerun_job_resumes_its_own_w_and_b_run(tmp_path):
    """A job's W&B run id is kept in its run folder: a rerun or requeued job (same folder)
    resumes that run instead of starting a second one; another folder gets another run."""
    from md.tracking.loggers import job_run_id

    first = job_run_id(tmp_path / "job")
    assert first == job_run_id(tmp_path / "job") != job_run_id(tmp_path / "other")
    assert (tmp_path / "job" / "wandb_run_id").read_text().strip() == first
    init = wandb_logger(str(tmp_path / "job"), mode="offline", run_id=first)._wandb_init
    assert (init["id"], init["resume"]) == (first, "allow")
