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

convert() {  # convert ENV FORMAT OUT : the tiny dataset in a family's training format (elbench.dataset.convert)
  "$envs/$1/bin/python" - "$2" "$DATA" "$3" <<'PY'
import sys
from pathlib import Path
from elbench.dataset.convert import write_format
from elbench.dataset.frames import read_frames
fmt, data, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
for split in ("train", "valid"):
    write_format(fmt, read_frames(data / f"{split}.extxyz"), out / split, ["Au", "O", "H", "Na"])
PY
}

ace() {  # pacemaker (python-ace) fit with the pyace evaluator (no TensorFlow), ~10 functions per element
  local out="$here/potentials/ace-tiny"; mkdir -p "$out"
  convert grace pacemaker "$work/data"
  cp "$here/potentials/tiny/ace-input.yaml" "$work/input.yaml"
  (cd "$work" && "$envs/grace/bin/pacemaker" input.yaml > fit.log 2>&1 || { tail -30 fit.log; exit 1; })
  cp "$work/output_potential.yaml" "$out/ace-tiny.yaml"
  (cd "$work" && "$envs/grace/bin/pace_yaml2yace" output_potential.yaml -o "$out/ace-tiny.yace" > /dev/null)
  grep -iE "rmse" "$work/fit.log" | tail -4 > "$out/fit_summary.txt" || true
}

grace() {  # GRACE-FS (tensorpotential) fit with gracemaker, exported as a GRACE-FS YAML (-sf)
  local out="$here/potentials/grace-fs-tiny"; mkdir -p "$out"
  convert grace grace "$work/data"
  cp "$here/potentials/tiny/grace-input.yaml" "$work/input.yaml"
  (cd "$work" && "$envs/grace/bin/gracemaker" input.yaml -sf > fit.log 2>&1 || { grep -v "^WARNING:tensorflow" fit.log | tail -30; exit 1; })
  cp "$work/seed/1/FS_model.yaml" "$out/grace-fs-tiny.yaml"
  grep -iE "rmse" "$work/seed/1/log.txt" | tail -4 > "$out/fit_summary.txt" || true
}

dp_input() {  # dp_input TEMPLATE : the training JSON with the converted systems filled in
  "$envs/core/bin/python" - "$here/potentials/tiny/$1" "$work/data" > "$work/input.json" <<'PY'
import json, sys
from pathlib import Path
cfg = json.load(open(sys.argv[1]))
data = Path(sys.argv[2])
for split, key in (("train", "training_data"), ("valid", "validation_data")):
    cfg["training"][key]["systems"] = sorted(str(p.parent) for p in (data / split).glob("*/type.raw"))
print(json.dumps(cfg, indent=1))
PY
}

dp() {  # DeePMD se_e2_a, TensorFlow backend, float64, frozen to .pb
  local out="$here/potentials/dp-tiny"; mkdir -p "$out"
  convert dp deepmd "$work/data"; dp_input dp-se_e2_a.json
  (cd "$work" && "$envs/dp/bin/dp" --tf train input.json > train.log 2>&1 && "$envs/dp/bin/dp" --tf freeze -o dp-tiny.pb >> train.log 2>&1 \
     || { tail -30 train.log; exit 1; })
  cp "$work/dp-tiny.pb" "$out/dp-tiny.pb"; tail -3 "$work/lcurve.out" > "$out/lcurve_tail.txt"
}

dpa3() {  # DP-MP: DPA-3 (PyTorch backend, deepmd-kit built against CPU torch 2.13), frozen to .pth
  local out="$here/potentials/dpa3-tiny"; mkdir -p "$out"
  convert dpmp deepmd "$work/data"; dp_input dpa3.json
  (cd "$work" && "$envs/dpmp/bin/dp" --pt train input.json > train.log 2>&1 && "$envs/dpmp/bin/dp" --pt freeze -o dpa3-tiny.pth >> train.log 2>&1 \
     || { tail -30 train.log; exit 1; })
  cp "$work/dpa3-tiny.pth" "$out/dpa3-tiny.pth"; tail -3 "$work/lcurve.out" > "$out/lcurve_tail.txt"
}

case "${1:-}" in
  dataset|mace|ace|grace|dp|dpa3) "$1" ;;
  *) sed -n 2,6p "$0"; exit 2 ;;
esac
