#!/usr/bin/env bash
# Train, test and register elbench's shipped potentials: every family x {mixed, q0, q4} on the reference
# dataset tests/data/reference_small.extxyz (elbench dataset output of the classical charged-electrode
# reference). CPU only; about 2 h on 2 cores (JOBS=2 runs two trainings at a time). Steps:
#   1. split (seed 2026, 80/10/10 per charge state) and render the training inputs (600 gradient updates,
#      batch 1; ACE's tiny preset is one linear least-squares solve, to which the gradient updates do not apply);
#   2. train each in its family's environment (elbench train run);
#   3. register (copies files to potentials/trained/<name>/, test RMSE through elbench rmse, manifest block);
#   4. NVT stability on the quickstart system (stability.py, two streams; lengths below: the registry's 20 ps
#      target for the DeePMD models that passed 2 ps (native pair style, ~30 steps/s: ~20 min each), 2 ps for
#      the other fast ones, 0.05 ps for the float64 message-passing models at 1-3 steps/s), then register again.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E="${ELBENCH_ENVS:-$HOME/.cache/elbench/envs}/core/bin"
WORK="${WORK:-/tmp/elbench-trained}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
cd "$here"
"$E/elbench" dataset split tests/data/reference_small.extxyz --out "$WORK/splits"
"$E/elbench" train render "$WORK/splits" --out "$WORK/train" --families dp,dp-mp,mace,ace,grace,esen --sets mixed,q0,q4 \
  --gradient-updates 600 --batch-size 1
# JOBS trainings at a time (each single-threaded); a directory with a train_status.json is not retrained
ls -d "$WORK"/train/*/ | xargs -P "${JOBS:-1}" -I{} sh -c '[ -f "{}/train_status.json" ] || "$0" train run "{}"' "$E/elbench"
"$E/python" potentials/trained/register.py "$WORK/train" "$WORK/splits" --stability potentials/trained/stability.json
# NVT stability in two streams (one core each), merged into potentials/trained/stability.json
"$E/python" potentials/trained/stability.py "$WORK/stability" --json "$WORK/stability_a.json" ${STABILITY_A:-dp-mixed:20 dp-q0:20 dp-q4:2 \
  grace-fs-mixed:2 grace-fs-q0:2 grace-fs-q4:2 dpa3-mixed:0.05 dpa3-q0:0.05 dpa3-q4:0.05} &
"$E/python" potentials/trained/stability.py "$WORK/stability" --json "$WORK/stability_b.json" ${STABILITY_B:-ace-mixed:2 ace-q0:2 ace-q4:2 \
  mace-mixed:0.05 mace-q0:0.05 mace-q4:0.05 esen-mixed:0.05 esen-q0:0.05 esen-q4:0.05}
wait
"$E/python" - "$WORK/stability_a.json" "$WORK/stability_b.json" potentials/trained/stability.json <<'PY'
import json, sys
merged = {}
for path in sys.argv[1:]:
    try:
        merged |= json.load(open(path))
    except FileNotFoundError:
        pass
json.dump(merged, open(sys.argv[-1], "w"), indent=1, sort_keys=True)
PY
"$E/python" potentials/trained/register.py "$WORK/train" "$WORK/splits" --stability potentials/trained/stability.json
"$E/python" potentials/trained/register.py --table  # the results table of potentials/trained/README.md
