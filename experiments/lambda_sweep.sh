#!/usr/bin/env bash
# The λ ablation in one go: the fixed-λ sweep (5 runs) AND the adaptive per-question λ it is
# compared with, all in W&B group / runs folder "lambda_sweep"; then the comparison report.
# A plain -m cannot do both: loss=adaptive has no loss.lambda to sweep.
#   experiments/lambda_sweep.sh teacher=openai trainer=gpu logger=wandb data.path=/data/svamp
#   experiments/lambda_sweep.sh student=tiny-llama data=synthetic trainer.max_steps=5   # CPU check
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
"$PY" -m md.train -m experiment=lambda_sweep "$@"
"$PY" -m md.train experiment=lambda_sweep loss=adaptive "$@"
"$PY" -m md.report "${MD_RUNS:-runs}/lambda_sweep" --out "${MD_RUNS:-runs}/lambda_sweep/report.md"
