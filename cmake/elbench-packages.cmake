# elbench: LAMMPS packages every elbench build needs (load with -C before a hardware preset).
# Classical reference: MANYBODY (eam), KSPACE (pppm + slab), MOLECULE (bonds/angles), EXTRA-FIX.
# MLIPs: ML-PACE (pace, pace/extrapolation; grace/fs with the GRACE sources), ML-IAP with Python
# (mliap unified: MACE), PYTHON, PLUGIN (DeePMD plugin). ELECTRODE for constant-potential work.
set(ELBENCH_PACKAGES
  MANYBODY KSPACE MOLECULE RIGID EXTRA-FIX EXTRA-DUMP EXTRA-MOLECULE ELECTRODE
  ML-PACE ML-IAP ML-SNAP PYTHON PLUGIN)
foreach(pkg ${ELBENCH_PACKAGES})
  set(PKG_${pkg} ON CACHE BOOL "" FORCE)
endforeach()
set(MLIAP_ENABLE_PYTHON ON CACHE BOOL "" FORCE)   # pair_style mliap unified (needs cython + numpy)
set(BUILD_MPI ON CACHE BOOL "" FORCE)
set(BUILD_SHARED_LIBS ON CACHE BOOL "" FORCE)     # the Python module and plugins need liblammps.so
set(LAMMPS_EXCEPTIONS ON CACHE BOOL "" FORCE)
set(CMAKE_BUILD_TYPE Release CACHE STRING "" FORCE)
set(FFT KISS CACHE STRING "" )                    # override with -D FFT=FFTW3 where FFTW is installed
