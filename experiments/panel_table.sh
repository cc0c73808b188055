#!/usr/bin/env bash
# The real table, second edition (experiment=svamp_panel_cpu): SmolLM2-135M on SVAMP with the
# Faithful-CoT panel as teacher, every student tested on SVAMP and, out of distribution, on ASDiv.
#   experiments/panel_table.sh [extra md.train / md.evaluate overrides]
#   nohup experiments/panel_table.sh > runs/panel_table.log 2>&1 &     # what the table ran
#   ONLY="pot_s0 label_s0" experiments/panel_table.sh     # some students only (a second process)
# In order of what the table needs most: CoT distillation and MD, seed by seed (3 seeds); MD from
# gpt-3.5-turbo alone; PoT distillation; label fine-tuning (one seed each); the CoT + PoT ensemble
# on both test sets (voted from the paths the two students already sampled); the report.
# Each stage is one job in its own folder under runs/svamp_panel_cpu/; a stage whose
# metrics.json is there is skipped, so a killed run resumes where it stopped when started again
# (a half-trained student from its last checkpoint, a half-sampled evaluation from its record).
# Every stage logs its wall time (START / END lines); the last line is the total.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export MD_DATA_CACHE=${MD_DATA_CACHE:-../shared/data}
export WANDB_MODE=${WANDB_MODE:-offline}
# Other jobs share the cores: threads that wait sleep instead of spinning (measured here: a
# training step under load fell from ~76 s to ~15 s).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python
ROOT=${MD_RUNS:-runs}/svamp_panel_cpu
SVAMP=$MD_DATA_CACHE/svamp
ASDIV=$MD_DATA_CACHE/asdiv
OOD_TEST=${OOD_TEST:-150}         # ASDiv test questions (a fixed sample, the same for every student)
# ONLY="pot_s0 label_s0": just these students (no ensemble, no report), e.g. as a second process
# beside a running table, which then finds them done and skips them
ONLY=${ONLY:-}
EXP=(experiment=svamp_panel_cpu "data.path=$SVAMP")
mkdir -p "$ROOT"
T0=$(date +%s)

stage() {  # stage NAME DONE_FILE COMMAND...: run COMMAND unless DONE_FILE exists, timed
  local name=$1 done=$2; shift 2
  if [ -f "$done" ]; then echo "SKIP  $name (done: $done)"; return 0; fi
  local t=$(date +%s)
  echo "START $name $(date -u +%H:%M:%S)"
  if ! "$@"; then echo "FAIL  $name $(( $(date +%s) - t )) s"; return 0; fi
  echo "END   $name $(( $(date +%s) - t )) s (total $(( $(date +%s) - T0 )) s)"
}

student() {  # student NAME MIX SEED [overrides]: train + evaluate on SVAMP, then on ASDiv
  local name=$1 mix=$2 seed=$3; shift 3
  local run=$ROOT/$name
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then return 0; fi
  stage "$name train+svamp" "$run/eval/metrics.json" \
    "$PY" -m md.train "${EXP[@]}" "mix=$mix" "seed=$seed" "hydra.run.dir=$run" "$@"
  stage "$name asdiv" "$run/eval_asdiv/metrics.json" \
    "$PY" -m md.evaluate "${EXP[@]}" data=asdiv "data.path=$ASDIV" "data.max_test=$OOD_TEST" \
    "seed=$seed" "student_dir=$run/student" "hydra.run.dir=$run/eval_asdiv" "$@"
}

ensemble() {  # ensemble DATA PATH MAX_TEST EVAL_FOLDER: the CoT + PoT vote, from saved paths
  local data=$1 path=$2 max_test=$3 saved=$4 dest=$ROOT/ensemble_s0/$1
  stage "ensemble $data" "$dest/metrics.json" \
    "$PY" -m md.evaluate "${EXP[@]}" "data=$data" "data.path=$path" \
    ${max_test:+"data.max_test=$max_test"} seed=0 \
    "inference.ensemble=[$ROOT/cot_s0/student,$ROOT/pot_s0/student]" \
    inference.reuse_paths=true "inference.reuse_from=$saved" "hydra.run.dir=$dest" "$@"
}

EXTRA=("$@")
for seed in 0 1 2; do
  student "cot_s$seed" cot "$seed" "${EXTRA[@]}"
  student "md_s$seed" md "$seed" "${EXTRA[@]}"
done
student md_gpt35_s0 md 0 "teacher.models=[gpt-3.5-turbo]" "${EXTRA[@]}"
student pot_s0 pot 0 "${EXTRA[@]}"
student label_s0 label 0 "${EXTRA[@]}"
[ -z "$ONLY" ] || { echo "TOTAL $(( $(date +%s) - T0 )) s"; exit 0; }
ensemble svamp "$SVAMP" "" eval "${EXTRA[@]}"
ensemble asdiv "$ASDIV" "$OOD_TEST" eval_asdiv "${EXTRA[@]}"
stage report "$ROOT/report.done" sh -c \
  "'$PY' -m md.report '$ROOT' --out '$ROOT/report.md' && touch '$ROOT/report.done'"
echo "TOTAL $(( $(date +%s) - T0 )) s"
