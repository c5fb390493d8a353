# elbench: KOKKOS + OpenMP for CPU nodes. Use with elbench-packages.cmake.
# Run with: lmp -k on t <threads> -sf kk -pk kokkos newton on neigh half
set(PKG_KOKKOS ON CACHE BOOL "" FORCE)
set(PKG_OPENMP ON CACHE BOOL "" FORCE)
set(Kokkos_ENABLE_SERIAL ON CACHE BOOL "" FORCE)
set(Kokkos_ENABLE_OPENMP ON CACHE BOOL "" FORCE)
set(Kokkos_ENABLE_CUDA OFF CACHE BOOL "" FORCE)
set(BUILD_OMP ON CACHE BOOL "" FORCE)
