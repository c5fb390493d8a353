"""Frames per second of `elbench analyze` vs a bare MDAnalysis read vs MAICoS.

    python benchmarks/bench_analysis.py [--frames 2000] [--repeats 3] [--workdir DIR]
    python benchmarks/bench_analysis.py --trajectory traj.dcd --topology system_full.data

Without --trajectory it writes a synthetic-but-liquid-like Au(111)/water/Na+
DCD (elbench.analysis.synthetic.vibrating_interface: 1096 atoms, 300 waters,
4 Na+) and an atom_style full data file (molecule ids and charges, which
MAICoS's DiporderPlanar needs). For each method it reports the median of
``--repeats`` runs:

- bare: MDAnalysis iterating the trajectory doing nothing;
- maicos: DensityPlanar (water, 0.1 Å) + DiporderPlanar (cos θ, 0.1 Å), run one
  after the other, as a user would to get the same two profiles;
- elbench: InterfaceAnalysis (every observable, one pass), and the whole
  `elbench analyze` command (open, analyse, write CSV/JSON, no plots), the
  latter next to the bare read as a command (Python start-up and imports included);
- side by side: bare read and InterfaceAnalysis alternating in one process
  (``--pairs``), the CPU-time ratio the target is stated on.

A benchmark, not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

warnings.simplefilter("ignore")


def make_synthetic(workdir: Path, n_frames: int) -> tuple[Path, Path]:
    from elbench.analysis import synthetic as S

    traj, data = workdir / f"synthetic_{n_frames}.dcd", workdir / "synthetic_full.data"
    if traj.is_file() and data.is_file():
        return traj, data
    system, frames = S.vibrating_interface(n_frames)
    gen = list(frames())
    S.write_data(data, system, gen[0], atom_style="full")
    S.write_trajectory(traj, gen, system.cell)
    return traj, data


CPU_TIMES: dict[int, float] = {}


def _cpu_now() -> float:
    import resource

    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    """Median wall time; the median CPU time (this process + children) goes to CPU_TIMES."""
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), _cpu_now()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(_cpu_now() - c)
    CPU_TIMES[id(fn)] = statistics.median(cpu)
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "elbench-bench")
    ap.add_argument("--trajectory", type=Path)
    ap.add_argument("--topology", type=Path)
    ap.add_argument("--skip-maicos", action="store_true")
    ap.add_argument("--pairs", type=int, default=9, help="bare read / InterfaceAnalysis pairs timed alternately")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--formats", action="store_true", help="also time bare reads of XTC and LAMMPS dump copies")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.trajectory:
        traj, data = args.trajectory, args.topology
    else:
        traj, data = make_synthetic(args.workdir, args.frames)

    from elbench.analysis.interface import InterfaceAnalysis
    from elbench.analysis.readers import open_trajectory

    opened = open_trajectory(traj, data)
    u = opened.universe
    n = opened.n_frames
    results: dict = {"trajectory": str(traj), "frames": n, "atoms": u.atoms.n_atoms}

    def bare():
        for _ in u.trajectory:
            pass

    def elbench():
        InterfaceAnalysis(u.atoms, type_map=opened.data.type_map).run()

    def maicos_pair():
        import maicos

        water = u.select_atoms("element O or element H")
        maicos.DensityPlanar(water, bin_width=0.1, unwrap=False, dens="mass").run()
        maicos.DiporderPlanar(water, bin_width=0.1, order_parameter="cos_theta", unwrap=False).run()

    def cli():
        subprocess.run(
            [str(Path(sys.executable).parent / "elbench"), "analyze", str(traj), "--topology", str(data),
             "--out", str(args.workdir / "cli_out"), "--no-plots"],
            check=True, capture_output=True,
        )

    def bare_cli():
        # the bare read as a command, as elbench analyze is one: start Python, import MDAnalysis, open, iterate
        code = (
            "import sys, MDAnalysis as mda\n"
            "u = mda.Universe(sys.argv[1], sys.argv[2], topology_format='DATA', format='DCD', atom_style=sys.argv[3])\n"
            "for ts in u.trajectory: pass\n"
        )
        style = "id resid type charge x y z" if "Atoms # full" in Path(data).read_text()[:20000] else "id type x y z"
        subprocess.run([sys.executable, "-W", "ignore", "-c", code, str(data), str(traj), style], check=True, capture_output=True)

    methods = [("bare", bare), ("elbench", elbench), ("bare_cli", bare_cli), ("elbench_cli", cli)]
    if not args.skip_maicos:
        methods.append(("maicos_density+diporder", maicos_pair))
    bare()  # warm the page cache
    elbench()  # load the compiled kernels (numba's cache) outside the timing
    for name, fn in methods:
        med, all_t = timed(fn, args.repeats if name != "maicos_density+diporder" else max(1, args.repeats - 1))
        cpu = CPU_TIMES[id(fn)]
        results[name] = {
            "frames_per_s": round(n / med, 1),
            "seconds": [round(t, 3) for t in all_t],
            "frames_per_cpu_s": round(n / cpu, 1),
        }
        print(
            f"{name:26s} {n / med:10.1f} frames/s wall {n / cpu:10.1f} frames/CPU-s"
            f"   (runs: {', '.join(f'{t:.2f}' for t in all_t)} s)",
            flush=True,
        )
    results["side_by_side"] = side_by_side(bare, elbench, args.pairs)
    if args.formats:
        results["bare_by_format"] = bare_by_format(u, traj, data, args)
    results["bare_again"] = {"frames_per_s": round(n / timed(bare, args.repeats)[0], 1)}
    results["machine"] = {
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
    }
    print(f"bare again {results['bare_again']['frames_per_s']:.1f} frames/s; load average {os.getloadavg()}")
    for key in ("frames_per_s", "frames_per_cpu_s"):
        e, b = results["elbench"][key], results["bare"][key]
        print(f"[{key}] elbench / bare read time ratio: {b / e:.2f}x")
        print(f"[{key}] elbench analyze / bare-read command time ratio: {results['bare_cli'][key] / results['elbench_cli'][key]:.2f}x")
        if "maicos_density+diporder" in results:
            print(f"[{key}] elbench speed-up over MAICoS pair: {e / results['maicos_density+diporder'][key]:.1f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def side_by_side(bare, analysis, pairs: int) -> dict:
    """CPU time of the bare read and of InterfaceAnalysis, alternating in one process: the ratio the target is on.

    Alternating keeps both under the same load; the median and the minimum of
    the per-pair ratios are reported (the minimum pair is the least disturbed).
    """
    b, a = [], []
    for _ in range(pairs):
        for fn, out in ((bare, b), (analysis, a)):
            t = time.process_time()
            fn()
            out.append(time.process_time() - t)
    ratios = [y / x for x, y in zip(b, a)]
    res = {
        "pairs": pairs,
        "bare_cpu_s": [round(x, 4) for x in b],
        "elbench_cpu_s": [round(x, 4) for x in a],
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_of_minima": round(min(a) / min(b), 3),
    }
    print(
        f"side by side ({pairs} pairs, CPU): bare {min(b):.4f} s, elbench {min(a):.4f} s (minima); "
        f"elbench / bare: median {res['ratio_median']:.2f}x, of minima {res['ratio_of_minima']:.2f}x",
        flush=True,
    )
    return res


def bare_by_format(u, traj: Path, data: Path, args) -> dict:
    """Bare-read frames/s of the same frames as DCD, XTC and LAMMPS dump custom (text)."""
    import MDAnalysis as mda

    from elbench.analysis.readers import open_trajectory

    out = {}
    copies = {"XTC": args.workdir / (traj.stem + ".xtc"), "LAMMPSDUMP": args.workdir / (traj.stem + ".lammpstrj")}
    for fmt, path in copies.items():
        if not path.is_file():
            if fmt == "XTC":
                with mda.Writer(str(path), u.atoms.n_atoms) as w:
                    for _ in u.trajectory:
                        w.write(u.atoms)
            else:
                with open(path, "w") as fh:
                    for ts in u.trajectory[:200]:  # text dumps are slow to write and read: 200 frames
                        fh.write(f"ITEM: TIMESTEP\n{ts.frame}\nITEM: NUMBER OF ATOMS\n{u.atoms.n_atoms}\n")
                        fh.write("ITEM: BOX BOUNDS pp pp pp\n" + "".join(f"0.0 {x:.6f}\n" for x in ts.dimensions[:3]))
                        fh.write("ITEM: ATOMS id type x y z\n")
                        fh.write("".join(f"{i + 1} 1 {x:.5f} {y:.5f} {z:.5f}\n" for i, (x, y, z) in enumerate(ts.positions)))
    for fmt, path in [("DCD", traj), *copies.items()]:
        opened = open_trajectory(path, data)
        n = opened.n_frames

        def read(r=opened.universe.trajectory):
            for _ in r:
                pass

        med, _ = timed(read, 3)
        out[fmt] = {"frames_per_s": round(n / med, 1), "frames": n, "bytes_per_frame": round(path.stat().st_size / n)}
        print(f"bare read {fmt:11s} {n / med:10.1f} frames/s  {path.stat().st_size / n / 1024:.1f} KiB/frame", flush=True)
    return out


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
