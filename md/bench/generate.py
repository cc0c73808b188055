"""Generation throughput: batched sampling (prompts x num_return_sequences, KV cache) against one
sequence at a time, on the same tiny random student, in one run. A benchmark, not a test.

    python -m md.bench.generate                    # 8 questions x 8 paths x 32 new tokens, CPU
    python -m md.bench.generate --questions 16 --paths 20 --hidden 256 --layers 4

Prints sequences/s of each mode and the speed-up. Both modes do the same work: the same
prompts, paths and `max_new_tokens`; a batched call runs until its longest row stops, so if
anything it does more token steps than the one-at-a-time mode.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from md.bench.tiny import tiny_student
from md.infer import HFGenerator
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--paths", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all)")
    ap.add_argument("--repeats", type=int, default=2, help="timings per mode; the best is kept")
    args = ap.parse_args()
    r = bench(args.questions, args.paths, args.new_tokens, args.hidden, args.layers, args.threads,
              args.repeats)
    print(json.dumps(r, indent=1))
    print(f"batched: {r['batched_seq_per_s']:.1f} seq/s, one at a time: "
          f"{r['single_seq_per_s']:.1f} seq/s, speed-up {r['speedup']:.1f}x")


if __name__ == "__main__":
    main()
