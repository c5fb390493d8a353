# elbench: KOKKOS + CUDA for NVIDIA Ampere (A100/A30, sm_80). Use with elbench-packages.cmake.
# Render decks with [lammps.kokkos] enabled = true: lmp -k on g N -sf kk -pk kokkos newton on neigh half
set(PKG_KOKKOS ON CACHE BOOL "" FORCE)
set(Kokkos_ENABLE_SERIAL ON CACHE BOOL "" FORCE)
set(Kokkos_ENABLE_OPENMP OFF CACHE BOOL "" FORCE)
set(Kokkos_ENABLE_CUDA ON CACHE BOOL "" FORCE)
set(Kokkos_ARCH_AMPERE80 ON CACHE BOOL "" FORCE)
set(Kokkos_ENABLE_CUDA_LAMBDA ON CACHE BOOL "" FORCE)
# The C++ compiler must be nvcc_wrapper from LAMMPS' bundled Kokkos:
#   -D CMAKE_CXX_COMPILER=<lammps>/lib/kokkos/bin/nvcc_wrapper   (build-lammps.sh passes it)
set(CMAKE_CXX_STANDARD 17 CACHE STRING "" FORCE)
