#!/usr/bin/env bash
# Make elbench's shipped tiny models (one per MLIP family) from reference-labelled frames.
#   potentials/tiny/make_models.sh dataset         frames -> $DATA (core env; ~15 s)
#   potentials/tiny/make_models.sh mace|dp|dpa3|ace|grace|esen   one model -> potentials/<name>/
# Each runs in the family's environment (scripts/setup-env <env>); each potentials/<name>/README.md
# records the exact command and data. Models are tiny on purpose: tests and quickstart on a laptop CPU.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
envs="${ELBENCH_ENVS:-$HOME/.cache/elbench/envs}"
DATA="${DATA:-/tmp/elbench-tiny-data}"
work="$(mktemp -d /tmp/elbench-tiny-XXXX)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

dataset() {
  "$envs/core/bin/python" "$here/potentials/tiny/make_dataset.py" "$DATA" --frames 24 --every 40
}

mace() {  # MACE: 8x0e+8x1o, 2 interactions, r_max 4.5 Å, float64
  local out="$here/potentials/mace-tiny"; mkdir -p "$out"
  (cd "$work" && "$envs/mace/bin/mace_run_train" --name mace-tiny --seed 1 \
    --train_file "$DATA/train.extxyz" --valid_file "$DATA/valid.extxyz" --E0s average \
    --model MACE --hidden_irreps '8x0e+8x1o' --r_max 4.5 --num_interactions 2 --max_L 1 \
    --correlation 2 --num_radial_basis 6 --MLP_irreps 8x0e --batch_size 6 --valid_batch_size 6 \
    --max_num_epochs "${EPOCHS:-5}" --energy_key REF_energy --forces_key REF_forces \
    --device cpu --default_dtype float64 > train.log 2>&1 || { tail -20 train.log; exit 1; })
  cp "$work/mace-tiny.model" "$out/mace-tiny.model"
  grep -E "Epoch|RMSE" "$work/train.log" | tail -3 > "$out/train_summary.txt" || true
}

case "${1:-}" in
  dataset|mace) "$1" ;;
  *) sed -n 2,6p "$0"; exit 2 ;;
esac
