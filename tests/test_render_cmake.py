"""cmake/ presets: every pair style a template can emit is provided by at least one preset build."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from elbench.potentials.styles import emittable_pair_styles
from render_fixtures import CASES, render_case

CMAKE = Path(__file__).resolve().parents[1] / "cmake"
#: every pair style a template can emit -> the build switches it needs (from the family specs)
STYLE_BUILD_NEEDS = {style: needs for style, (needs, _) in emittable_pair_styles().items()}
PRESETS = ("kokkos-cuda-sm90.cmake", "kokkos-cuda-sm80.cmake", "kokkos-openmp.cmake")


def switches(*files: str) -> set[str]:
    """Cache variables a preset combination turns ON (foreach over ELBENCH_PACKAGES expanded)."""
    on: set[str] = set()
    for name in files:
        text = (CMAKE / name).read_text()
        on |= set(re.findall(r"set\((\S+) ON CACHE BOOL", text))
        pkgs = re.search(r"set\(ELBENCH_PACKAGES(.*?)\)", text, re.S)
        if pkgs:
            on |= {f"PKG_{p}" for p in pkgs.group(1).split()}
        on |= {m for m in re.findall(r"set\((PKG_[\w-]+) ON CACHE BOOL", text)}
    return on


def test_every_emittable_style_has_a_preset() -> None:
    builds = [switches("elbench-packages.cmake", hw, "mlip-backends.cmake") for hw in PRESETS]
    script = (CMAKE / "build-lammps.sh").read_text()
    for style, needs in STYLE_BUILD_NEEDS.items():
        cmake_needs = {n for n in needs if not n.startswith("plugin:")}
        assert any(cmake_needs <= b for b in builds), f"{style} needs {cmake_needs}"
        if "plugin:deepmd" in needs:
            assert "source/lmp/plugin" in script and "LAMMPS_SOURCE_ROOT" in script


def test_gpu_presets_target_hopper_and_ampere() -> None:
    assert "Kokkos_ARCH_HOPPER90" in switches("kokkos-cuda-sm90.cmake")
    assert "Kokkos_ARCH_AMPERE80" in switches("kokkos-cuda-sm80.cmake")
    assert {"Kokkos_ENABLE_CUDA", "PKG_KOKKOS"} <= switches("kokkos-cuda-sm90.cmake")
    assert "Kokkos_ENABLE_OPENMP" in switches("kokkos-openmp.cmake")


def test_every_pair_style_in_the_golden_cases_is_known() -> None:
    """Styles the decks actually write (first word after pair_style, hybrid sub-styles) are all mapped."""
    for name in CASES:
        for line in render_case(name).splitlines():
            words = line.split()
            if words[:1] == ["pair_style"]:
                styles = [words[1]] + ([w for w in words[2:] if not re.match(r"^[\d.\"/]", w)]
                                       if words[1].startswith("hybrid") else [])
                for style in styles:
                    base = style.removesuffix("/kk") if style != "grace/1l/kk" else style
                    assert base in STYLE_BUILD_NEEDS, f"{name}: {style}"


def test_build_script_dry_run() -> None:
    out = subprocess.run(["bash", str(CMAKE / "build-lammps.sh"), "--source", "/src/lammps", "--preset", "cuda-sm80",
                          "--dry-run"], capture_output=True, text=True, check=True).stdout
    assert "-C " + str(CMAKE / "kokkos-cuda-sm80.cmake") in out
    assert "nvcc_wrapper" in out and "install-python" in out
    bad = subprocess.run(["bash", str(CMAKE / "build-lammps.sh"), "--preset", "gpu"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--preset must be" in bad.stderr
