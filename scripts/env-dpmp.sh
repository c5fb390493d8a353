# DP-MP (DPA-2 / DPA-3, deepmd-kit PyTorch backend) environment. The PyPI wheel is compiled for
# torch 2.11 (a 5.9 GB CUDA env); instead the deepmd-kit sdist is built against the local CPU
# torch 2.13 with the TensorFlow backend off (about 1.5 min). Its LAMMPS plugin would need the
# LAMMPS source, so DP-MP runs through elbench's bridge with deepmd's Python calculator.
# shellcheck source=/dev/null
source "$here/scripts/lib-family.sh"
install_family() {
  local dir="$1"
  fam_pip "$dir" torch==2.13.0 $(elbench_core_deps)
  # build backend of deepmd-kit (no build isolation: it must see the CPU torch) and its runtime deps
  fam_pip "$dir" scikit-build-core cmake ninja setuptools_scm packaging wheel dependency_groups hatch-fancy-pypi-readme \
    "dargs>=0.4.7" typing_extensions h5py wcmatch einops ml_dtypes mendeleev array-api-compat pyyaml lmdb msgpack "e3nn>=0.5.9" "vesin[torch]"
  DP_VARIANT=cpu DP_ENABLE_TENSORFLOW=0 DP_ENABLE_PYTORCH=1 \
    fam_pip "$dir" --no-build-isolation --no-deps --no-binary deepmd-kit deepmd-kit==3.2.0
  fam_check "$dir" "import deepmd, torch, lammps, ase; from deepmd.pt.infer.deep_eval import DeepEval"
}
