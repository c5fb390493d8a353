#!/usr/bin/env bash
# Build a LAMMPS for elbench on a cluster (KOKKOS CUDA/OpenMP + ML-PACE + ML-IAP/Python + PLUGIN),
# optionally with the DeePMD plugin, GRACE and MACE styles. See cmake/README.md.
#
#   cmake/build-lammps.sh --source DIR --preset cuda-sm90|cuda-sm80|openmp [options]
#     --source DIR        a LAMMPS source tree (git clone -b stable https://github.com/lammps/lammps.git;
#                         for GRACE use the GRACE-enabled branch, for pair_style mace the MACE branch)
#     --preset NAME       hardware preset: cuda-sm90 (H100/H200), cuda-sm80 (A100), openmp (CPU)
#     --prefix DIR        install prefix (default: $PWD/lammps-elbench)
#     --jobs N            parallel compile jobs (default: nproc)
#     --deepmd-root DIR   DeePMD-kit C++ install (libdeepmd_cc); builds the deepmd LAMMPS plugin
#     --deepmd-source DIR DeePMD-kit source tree (its source/lmp/plugin is built against this LAMMPS)
#     --libtorch DIR      libtorch for pair_style mace (needs the MACE LAMMPS branch)
#     --no-grace-tf       build GRACE styles without TensorFlow (grace/fs and grace/1l/kk only)
#     --dry-run           print the commands, run nothing
# After the build: set [lammps] binary = "<prefix>/bin/lmp" in elbench.toml (and kokkos.enabled = true
# for the KOKKOS presets), export LAMMPS_PLUGIN_PATH=<prefix>/lib/deepmd_lmp when DeePMD was built,
# then `elbench doctor -c elbench.toml` lists which pair styles the new binary has.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="" preset="" prefix="$PWD/lammps-elbench" jobs="$(nproc 2>/dev/null || echo 4)"
deepmd_root="" deepmd_source="" libtorch="" no_grace_tf=0 dry=0

usage() { sed -n '2,22p' "$0"; exit "${1:-2}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --source) source_dir="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --deepmd-root) deepmd_root="$2"; shift 2 ;;
    --deepmd-source) deepmd_source="$2"; shift 2 ;;
    --libtorch) libtorch="$2"; shift 2 ;;
    --no-grace-tf) no_grace_tf=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
case "$preset" in
  cuda-sm90) hw="$here/kokkos-cuda-sm90.cmake" ;;
  cuda-sm80) hw="$here/kokkos-cuda-sm80.cmake" ;;
  openmp) hw="$here/kokkos-openmp.cmake" ;;
  *) echo "--preset must be cuda-sm90, cuda-sm80 or openmp (got '${preset}')" >&2; exit 2 ;;
esac
[[ -n "$source_dir" ]] || { echo "--source DIR (a LAMMPS source tree) is required" >&2; exit 2; }
if [[ $dry -eq 0 && ! -f "$source_dir/cmake/CMakeLists.txt" ]]; then
  echo "$source_dir is not a LAMMPS source tree (no cmake/CMakeLists.txt)" >&2; exit 2
fi
if [[ -n "$deepmd_source" && -z "$deepmd_root" ]] || [[ -z "$deepmd_source" && -n "$deepmd_root" ]]; then
  echo "--deepmd-root and --deepmd-source go together" >&2; exit 2
fi

run() { printf '+'; printf ' %q' "$@"; printf '\n'; [[ $dry -eq 1 ]] || "$@"; }

build="$source_dir/build-elbench-$preset"
args=(-S "$source_dir/cmake" -B "$build"
      -C "$here/elbench-packages.cmake" -C "$hw" -C "$here/mlip-backends.cmake"
      -D "CMAKE_INSTALL_PREFIX=$prefix"
      -D "PYTHON_EXECUTABLE=$(command -v python3 || echo python3)")
[[ -n "$libtorch" ]] && args+=(-D "ELBENCH_LIBTORCH=$libtorch")
[[ $no_grace_tf -eq 1 ]] && args+=(-D "ELBENCH_NO_GRACE_TF=ON")
# nvcc_wrapper lives under lib/kokkos, next to src/
[[ "$preset" == cuda-* ]] && args+=(-D "CMAKE_CXX_COMPILER=$source_dir/lib/kokkos/bin/nvcc_wrapper")

run cmake "${args[@]}"
run cmake --build "$build" -j "$jobs"
run cmake --install "$build"
# the LAMMPS Python module (needed by mliap unified and by elbench's bridge engine)
run cmake --build "$build" --target install-python

if [[ -n "$deepmd_root" ]]; then
  plugin_build="$build/deepmd-plugin"
  run cmake -S "$deepmd_source/source/lmp/plugin" -B "$plugin_build" \
      -D "LAMMPS_SOURCE_ROOT=$source_dir" -D "CMAKE_PREFIX_PATH=$deepmd_root" \
      -D "CMAKE_INSTALL_PREFIX=$prefix"
  run cmake --build "$plugin_build" -j "$jobs"
  run cmake --install "$plugin_build"
  echo "DeePMD plugin installed; export LAMMPS_PLUGIN_PATH=$prefix/lib/deepmd_lmp"
fi
echo "done: $prefix/bin/lmp (check it with: elbench doctor)"
