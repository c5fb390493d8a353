# elbench: MLIP pair styles that live outside upstream LAMMPS. Each block is active only when
# the build script passes its source/install directory (see cmake/README.md).
#  - DeePMD-kit (pair_style deepmd): built as a plugin against this LAMMPS (PLUGIN package);
#    the build script runs deepmd-kit's source/lmp/plugin CMake with LAMMPS_SOURCE_ROOT.
#  - GRACE (pair_style grace, grace/fs, grace/1l/kk): the ML-PACE sources of the GRACE-enabled
#    LAMMPS branch; TensorFlow's C library enables the TF-based "grace" style.
#  - MACE (pair_style mace): the MACE LAMMPS branch with libtorch (found through
#    CMAKE_PREFIX_PATH = ELBENCH_LIBTORCH). MACE through
#    mliap unified needs no extra source: ML-IAP + PYTHON + KOKKOS from elbench-packages.cmake.
if(DEFINED ELBENCH_LIBTORCH)
  set(CMAKE_PREFIX_PATH ${ELBENCH_LIBTORCH} CACHE PATH "" FORCE)
  set(PKG_ML-MACE ON CACHE BOOL "" FORCE)
endif()
if(DEFINED ELBENCH_NO_GRACE_TF)
  set(NO_GRACE_TF ON CACHE BOOL "" FORCE)
endif()
