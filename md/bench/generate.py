"""Generation throughput: batched sampling (prompts x num_return_sequences, KV cache) against one
sequence at a time, on the same tiny random student, in one run. A benchmark, not a test.

    python -m md.bench.generate                    # 8 questions x 8 paths x 32 new tokens, CPU
    python -m md.bench.generate --questions 16 --paths 20 --hidden 256 --layers 4

Prints sequences/s of each mode and the speed-up. Both modes do the same work: the same
prompts, paths and `max_new_tokens`; a batched call runs until its longest row stops, so if
anything it does more token steps than the one-at-a-time mode.

    python -m md.bench.generate --stop-strings --new-tokens 128   # a tiny student trained first
    python -m md.bench.generate --engines hf,vllm --student smollm2-135m --questions 100 --paths 5

compares stopping each row at the stop string ("\nQuestion:") during generation with running
it to EOS or max_new_tokens and cutting afterwards, on a tiny student trained by md.train; both
modes must return the same texts. `--engines hf,vllm` compares the sampling engines on a real
student (md.bench.engines). A student that learnt to end with EOS gains nothing (the check
costs a little); a model that runs on into a made-up next question (a few-shot base model, an
undertrained student) is where stopping saves the rest of the batch.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from md.inference.hf import HFGenerator
from md.models.tiny_student import tiny_student
from md.prompts import student_input


def timed(gen: HFGenerator, prompts: list[str], paths: int, temperature: float) -> float:
    """Seconds to sample `paths` completions of every prompt."""
    torch.manual_seed(0)
    start = time.perf_counter()
    out = gen.sample(prompts, paths, temperature)
    seconds = time.perf_counter() - start
    assert [len(row) for row in out] == [paths] * len(prompts), "wrong number of samples"
    return seconds


def bench(questions: int, paths: int, new_tokens: int, hidden: int, layers: int,
          threads: int | None = None, repeats: int = 2) -> dict:
    """Batched vs one-sequence-at-a-time sampling; returns both timings and the speed-up."""
    if threads:
        torch.set_num_threads(threads)
    model, tok = tiny_student(hidden=hidden, layers=layers, heads=4, seed=0)
    prompts = [student_input(f"Tom has {i} apples and buys {i + 3} more. How many now?", "pot")
               for i in range(questions)]
    seqs = questions * paths
    batched = HFGenerator(model, tok, batch_size=seqs, max_new_tokens=new_tokens)
    single = HFGenerator(model, tok, batch_size=1, max_new_tokens=new_tokens)
    timed(batched, prompts[:1], 1, 0.7)  # warm-up: first-call allocations and kernel choice
    # Best of `repeats`: the CPU is shared, and the minimum is the least disturbed measurement.
    t_batched = min(timed(batched, prompts, paths, 0.7) for _ in range(repeats))
    # batch_size=1: one sequence per generate call
    t_single = min(timed(single, prompts, paths, 0.7) for _ in range(repeats))
    return {"questions": questions, "paths": paths, "sequences": seqs, "new_tokens": new_tokens,
            "hidden": hidden, "layers": layers, "threads": torch.get_num_threads(),
            "repeats": repeats, "batched_s": t_batched, "single_s": t_single,
            "batched_seq_per_s": seqs / t_batched, "single_seq_per_s": seqs / t_single,
            "speedup": t_single / t_batched}


def stop_bench(steps: int, questions: int, paths: int, new_tokens: int, repeats: int = 2) -> dict:
    """HF sampling that stops each row at the stop string during generation, against running
    every row to max_new_tokens and cutting afterwards, on a tiny student trained `steps` steps
    (md.train, CPU) on the demo examples. Same prompts, paths and seed in both modes."""
    import tempfile

    from md.mixing.examples import demo_examples
    from md.models import build_student
    from md.settings import TrainSettings
    from md.stages.train import run

    examples = demo_examples(n_questions=max(questions, 32))
    texts = [e.input for e in examples] + [e.target for e in examples]
    tiny = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
    with tempfile.TemporaryDirectory() as tmp:
        student = build_student(name="tiny-llama", tiny=tiny, finetune="full",
                                tokenizer_texts=texts, workdir=f"{tmp}/student")
        run(examples, student, TrainSettings(trainer={"max_steps": steps}, batch_size=16, lr=3e-3),
            out_dir=f"{tmp}/run")
    prompts = [e.input for e in examples[: 2 * questions : 2]]  # CoT prompts
    gens = {mode: HFGenerator(student.model, student.tokenizer, batch_size=questions * paths,
                              max_new_tokens=new_tokens, stop_early=mode == "stop",
                              progress=False) for mode in ("stop", "cut")}
    timed(gens["stop"], prompts[:1], 1, 0.7)  # warm-up
    seconds = {m: min(timed(g, prompts, paths, 0.7) for _ in range(repeats)) for m, g in gens.items()}
    torch.manual_seed(0)
    same = gens["stop"].sample(prompts, paths, 0.7)
    torch.manual_seed(0)
    assert same == gens["cut"].sample(prompts, paths, 0.7), "the two modes must give the same texts"
    seqs = questions * paths
    return {"train_steps": steps, "sequences": seqs, "max_new_tokens": new_tokens,
            "stop_s": seconds["stop"], "cut_s": seconds["cut"],
            "stop_seq_per_s": seqs / seconds["stop"], "cut_seq_per_s": seqs / seconds["cut"],
            "speedup": seconds["cut"] / seconds["stop"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--paths", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all)")
    ap.add_argument("--repeats", type=int, default=2, help="timings per mode; the best is kept")
    ap.add_argument("--stop-strings", action="store_true",
                    help="instead: stopping at the stop string during generation vs cutting "
                         "afterwards, on a tiny student trained --train-steps steps")
    ap.add_argument("--train-steps", type=int, default=None,
                    help="steps of the trained student (--stop-strings: 150, --engines: 20)")
    ap.add_argument("--engines", default=None,
                    help="instead: sampling engines side by side on a saved real student, e.g. "
                         "hf,vllm (md.bench.engines; --questions, --paths, --new-tokens apply)")
    ap.add_argument("--student", default="smollm2-135m", help="with --engines: conf/student/<name>")
    ap.add_argument("--batch-size", type=int, default=32, help="with --engines: HF sequences per call")
    ap.add_argument("--vllm", action="append", default=[], metavar="KEY=VALUE",
                    help="with --engines: an inference.vllm setting, e.g. enforce_eager=false")
    args = ap.parse_args()
    if args.engines:
        import yaml

        from md.bench import engines

        settings = {k: yaml.safe_load(v) for k, v in (kv.split("=", 1) for kv in args.vllm)}
        results = engines.compare(args.engines.split(","), args.student, args.questions, args.paths,
                                  args.new_tokens, args.batch_size, train_steps=args.train_steps or 20,
                                  vllm=settings)
        print(json.dumps(results, indent=1))
        print(engines.last_line(results))
        return
    if args.stop_strings:
        r = stop_bench(args.train_steps or 150, args.questions, args.paths, args.new_tokens, args.repeats)
        print(json.dumps(r, indent=1))
        print(f"stop strings during generation: {r['stop_seq_per_s']:.1f} seq/s, cut afterwards: "
              f"{r['cut_seq_per_s']:.1f} seq/s, speed-up {r['speedup']:.1f}x (same texts)")
        return
    r = bench(args.questions, args.paths, args.new_tokens, args.hidden, args.layers, args.threads,
              args.repeats)
    print(json.dumps(r, indent=1))
    print(f"batched: {r['batched_seq_per_s']:.1f} seq/s, one at a time: "
          f"{r['single_seq_per_s']:.1f} seq/s, speed-up {r['speedup']:.1f}x")


if __name__ == "__main__":
    main()
