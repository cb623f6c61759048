"""The ``dcai-al`` command: parse arguments and dispatch, nothing more."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COURSE_HELP = "the course folder (default: the current folder if it is a course, else the kit's checkout)"


class _RenamedFlag(argparse._StoreAction):
    """An option with an old spelling that still works for one release and says its new name on stderr."""

    def __call__(self, parser, namespace, values, option_string=None):
        new = self.option_strings[0]
        if option_string != new:
            print(f"dcai-al: {option_string} is deprecated; use {new}.", file=sys.stderr)
        super().__call__(parser, namespace, values, option_string)


def _parser() -> argparse.ArgumentParser:
    from .experiments import LABS

    parser = argparse.ArgumentParser(prog="dcai-al", description="Growing and compressing datasets: the course kit.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the labs' experiments headless and write figures and report.md")
    run.add_argument("--lab", type=int, nargs="+", choices=sorted(LABS), help="labs to run (default: all)")
    size = run.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes (CI); also set by DCAI_AL_QUICK=1")
    size.add_argument(
        "--full",
        action="store_true",
        help="the largest sizes: Lab 3's cost curve to 10^7 rows (about 8 GB), Lab 4 with pools of 20k and 40k",
    )
    run.add_argument("--device", choices=["cpu", "cuda", "mps"], default=None, help="torch device (default: best)")
    run.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    run.add_argument("--out", type=Path, default=Path("results"), help="output folder (default results/)")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    run.add_argument(
        "--cifar10",
        type=Path,
        default=None,
        metavar="ROOT",
        help="opt-in: Lab 4 on CIFAR-10 from ROOT with ResNet models (meant for a GPU)",
    )
    run.add_argument("--download", action="store_true", help="with --cifar10: allow downloading it into ROOT")

    rel = sub.add_parser("release", help="regenerate labs/ from solutions/ through nbgrader")
    rel.add_argument("names", nargs="*", help="assignments (default: all)")
    rel.add_argument("--course", type=Path, default=None, help=COURSE_HELP)

    grade = sub.add_parser(
        "autograde", help="autograde a folder of submissions with nbgrader, each student on its own, in parallel"
    )
    grade.add_argument("submissions", type=Path, help="folder laid out as <student>/<lab>/<lab>.ipynb")
    grade.add_argument(
        "--out", type=Path, default=Path("grading"), help="results folder (default grading/): CSVs, feedback, gradebook"
    )
    grade.add_argument("--course", type=Path, default=None, help=COURSE_HELP)
    grade.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    grade.add_argument("--scheduler", default=None, help="grade on a running Dask cluster (tcp://host:8786)")
    grade.add_argument("--force", action="store_true", help="grade every notebook again, even unchanged ones")
    grade.add_argument("--full-size", action="store_true", help="run the notebooks' experiments at full size")
    grade.add_argument("--timeout", type=int, default=None, help="per-cell time limit in seconds")
    grade.add_argument("--keep", type=Path, default=None, help="also write a whole nbgrader course here")
    grade.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without the bubblewrap sandbox: the students' code runs with your rights (recorded in grades.csv)",
    )
    grade.add_argument("--memory", type=int, default=2048, metavar="MB", help="memory per student (default 2048)")
    grade.add_argument("--cpu-time", type=int, default=1200, metavar="S", help="CPU seconds per process (1200)")
    grade.add_argument("--processes", type=int, default=256, metavar="N", help="processes per student (256)")
    grade.add_argument("--file-size", type=int, default=256, metavar="MB", help="largest file a student writes (256)")

    rehearse = sub.add_parser(
        "rehearse", help="autograde a simulated class (typical mistakes, loops, tampering) and judge the grades"
    )
    rehearse.add_argument("names", nargs="*", help="assignments (default: all)")
    rehearse.add_argument("--timeout", type=int, default=None, help="per-cell time limit in seconds")
    rehearse.add_argument("--out", type=Path, default=None, help="write grades.csv and feedback/ here")
    rehearse.add_argument(
        "--every-mistake", action="store_true", help="hand in every typical mistake, not each exercise's first two"
    )

    exercises = sub.add_parser(
        "exercises", help="list each lab's graded functions and which visible case catches each typical mistake"
    )
    exercises.add_argument("names", nargs="*", help="assignments (default: all)")
    exercises.add_argument("--course", type=Path, default=None, help="the course folder (default: as for release)")

    scale = sub.add_parser("scale", help="past one machine: a sharded pool, selected on a Dask cluster")
    scale_sub = scale.add_subparsers(dest="scale_command", required=True)
    cluster = argparse.ArgumentParser(add_help=False)
    cluster.add_argument("--scheduler", default=None, help="address of a running Dask scheduler (tcp://host:8786)")
    cluster.add_argument("--workers", type=int, default=2, help="without --scheduler: LocalCluster workers (2)")
    cluster.add_argument("--threads", type=int, default=1, help="without --scheduler: threads per worker (1)")
    make = scale_sub.add_parser("make-pool", parents=[cluster], help="generate a clustered embedding pool in shards")
    make.add_argument("path", type=Path)
    make.add_argument("--n", type=int, default=1_000_000, help="rows (default 1,000,000)")
    make.add_argument("--d", type=int, default=64, help="dimension (default 64)")
    make.add_argument("--shard-rows", type=int, default=1_048_576, help="rows per shard (a multiple of 65,536)")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--overwrite", action="store_true")
    pick = scale_sub.add_parser("select", parents=[cluster], help="top-J uncertain and k-center picks from a pool")
    pick.add_argument("path", type=Path)
    pick.add_argument(
        "--batch-size", "--j", type=int, default=1000, action=_RenamedFlag, help="uncertain rows to pick (top-J)"
    )
    pick.add_argument(
        "--k-centers-batch-size",
        "--budget",
        type=int,
        default=100,
        action=_RenamedFlag,
        help="k-center picks (0: none)",
    )
    pick.add_argument(
        "--n-initial", "--labelled", type=int, default=1000, action=_RenamedFlag, help="random labelled seed set's size"
    )
    pick.add_argument("--score", default="entropy", choices=["entropy", "least confidence", "margin"])
    pick.add_argument("--seed", type=int, default=0)
    pick.add_argument("--out", type=Path, default=Path("results/selection.json"), help="JSON result (atomic write)")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        import matplotlib

        matplotlib.use("Agg")
        from .config import quick_mode
        from .experiments import LABS, RunConfig, run_labs

        config = RunConfig(
            quick=args.quick or quick_mode(),
            full=args.full,
            device=args.device,
            seed=args.seed,
            out_dir=args.out,
            progress=not args.no_progress,
            cifar10_root=args.cifar10,
            download=args.download,
        )
        try:
            reports = run_labs(args.lab or sorted(LABS), config)
        except (FileNotFoundError, ConnectionError) as exc:  # opt-in data missing: say how to get it
            print(f"dcai-al: {exc}", file=sys.stderr)
            return 1
        for report in reports:
            print(f"{report.title}: {report.seconds:.1f} s")
        print(f"Report: {config.out_dir / 'report.md'}")
        return 0
    if args.command == "release":
        from .grading import course_root, release

        root = course_root(args.course)
        print(f"Course: {root}")
        for path in release(args.names or None, root=root):
            print(f"released {path}")
        return 0
    if args.command == "autograde":
        return _autograde(args)
    if args.command == "rehearse":
        from .classroom import rehearse
        from .grading import score_table

        every = args.every_mistake
        rows, problems = rehearse(args.names or None, timeout=args.timeout, out=args.out, every_mistake=every)
        for lab in sorted({r.assignment for r in rows}):
            print(f"{lab}\n{score_table([r for r in rows if r.assignment == lab])}\n")
        if problems:
            print("The grader got these wrong:\n  " + "\n  ".join(problems))
            return 1
        print("Every simulated student got the grade and the message they deserve.")
        return 0
    if args.command == "exercises":
        return _exercises(args)
    if args.command == "scale":
        return _scale(args)
    return 2  # unreachable: argparse requires a command


def _exercises(args) -> int:
    from .exercises import for_lab, labs
    from .exercises.solutions import try_mistakes
    from .grading import course_root

    root = course_root(args.course)
    missed = 0
    for lab in args.names or labs():
        records = for_lab(lab)
        results = try_mistakes(lab, root)
        caught = sum(r.caught for r in results)
        missed += len(results) - caught
        print(f"{lab}: {len(records)} graded functions, {caught} of {len(results)} typical mistakes caught visibly")
        for record in records:
            print(
                f"  {record.name}{record.signature}: {record.points:g} points, {len(record.cases)} visible cases, "
                f"{len(record.hidden_cases())} hidden"
            )
            for r in (r for r in results if r.exercise == record.name):
                where = f"caught by: {r.case}" if r.caught else f"NOT CAUGHT (expected {r.says!r}): {r.message[:80]!r}"
                print(f"    - {r.story}: {where}")
    return 1 if missed else 0


def _autograde(args) -> int:
    from .grading import autograde, course_root, score_table
    from .sandbox import Limits, SandboxUnavailable

    try:
        root = course_root(args.course)
        print(f"Course: {root}", flush=True)
        mib = 1 << 20
        limits = Limits(args.memory * mib, args.cpu_time, args.processes, args.file_size * mib)
        if args.no_sandbox:
            print(
                "dcai-al autograde: WARNING: --no-sandbox: every student's code runs with your rights, "
                "on your files; grades.csv records this on each row (sandboxed = no).",
                file=sys.stderr,
            )
        result = autograde(
            args.submissions,
            root=root,
            out=args.out,
            quick=not args.full_size,
            timeout=args.timeout,
            workers=args.workers,
            scheduler=args.scheduler,
            force=args.force,
            keep=args.keep,
            progress=not args.no_progress,
            sandbox=not args.no_sandbox,
            limits=limits,
        )
    except (FileNotFoundError, FileExistsError, ValueError, SandboxUnavailable) as exc:  # say what is wrong
        print(f"dcai-al autograde: {exc}", file=sys.stderr)
        return 2
    if len({r.student for r in result.rows}) <= 40:
        for lab in sorted({r.assignment for r in result.rows}):
            print(f"{lab}\n{score_table([r for r in result.rows if r.assignment == lab])}\n")
    if result.reused:
        print(f"{result.regraded} notebooks graded, {result.reused} unchanged since the last run (--force: all)")
    out = args.out
    print(f"Grades: {out / 'grades.csv'}  Problems: {out / 'problems.csv'}  Feedback: {out / 'feedback'}")
    print(result.summary.replace(str(result.out), str(out)))
    return 1 if result.counts.get("failed") else 0


def _scale(args) -> int:
    from . import scale

    try:
        if args.scale_command == "make-pool" and args.path.exists() and not args.overwrite:
            raise FileExistsError(f"{args.path} exists; pass --overwrite to replace it.")
        pool = scale.open_pool(args.path) if args.scale_command == "select" else None  # fail before any cluster
        with scale.connect(args.scheduler, n_workers=args.workers, threads_per_worker=args.threads) as client:
            workers = len(client.scheduler_info()["workers"])
            if pool is None:
                pool = scale.write_embedding_pool(
                    args.path,
                    args.n,
                    args.d,
                    shard_rows=args.shard_rows,
                    seed=args.seed,
                    client=client,
                    overwrite=args.overwrite,
                )
                print(f"wrote {pool.n:,} x {pool.d} in {pool.n_shards} shards to {pool.path} ({workers} workers)")
                return 0
            result = scale.select(
                pool,
                client=client,
                batch_size=args.batch_size,
                k_centers_batch_size=args.k_centers_batch_size,
                n_initial=args.n_initial,
                seed=args.seed,
                score=args.score,
            )
    except (FileNotFoundError, FileExistsError, ValueError) as exc:  # the user's input: say what is wrong
        print(f"dcai-al scale: {exc}", file=sys.stderr)
        return 1
    scale.write_json(args.out, result)
    for part, seconds in result["seconds"].items():
        print(f"{part}: {seconds:.2f} s")
    print(f"{workers} workers; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
