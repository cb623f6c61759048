"""A bubblewrap sandbox for the kernel that runs a student's notebook.

nbgrader runs a student's code on the instructor's machine, as the
instructor. :func:`write_kernelspec` writes a ``python3`` kernelspec whose
kernel starts inside `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``). With ``JUPYTER_PATH`` pointing at it, nbgrader, nbclient and
JupyterLab start that kernel instead of the plain one; they only need ZMQ
over unix sockets in a folder the sandbox sees (two ``KernelManager``
settings, returned by :func:`write_kernelspec`)::

    (job / "work").mkdir()  # not autograded/<student>/<lab>: see ``workdir`` below
    info = write_kernelspec(job / "sandbox", workdir=job / "work")
    env = {**os.environ, **info["env"]}
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", lab, "--student", student,
                    *info["args"]], cwd=course, env=env, check=True)

:func:`write_command` runs any other command in the same sandbox and
limits (the grader's trusted comparison serves a student's functions from a
fresh process this way, :mod:`dcai_al.grading.trusted`).

What the kernel sees
--------------------
A read-only, empty root holding only what the kernel needs, bound
read-only: ``/usr`` (with ``/bin``, ``/lib*`` and ``/sbin`` as the system
has them), a short list of ``/etc`` files (:data:`ETC`), the Python prefix,
the virtual environment, the kit's package folder and the caller's
``readonly`` paths. Writable: the working directory (a folder of its
own, not the graded notebook's), the folder of the connection file and sockets, and a private
``/tmp`` (a fresh tmpfs of at most ``Limits.memory``, mounted before any
bind below it, which also holds ``HOME``, ``MPLCONFIGDIR`` and the other
caches). ``/proc`` is a fresh one for the kernel's own PID namespace;
``/dev`` is bwrap's minimal one (``null``, ``zero``, ``full``, ``random``,
``urandom``, ``tty``, ``pts``, ``shm``).

This is a whitelist, not ``--ro-bind / /`` with ``--tmpfs`` over the
sensitive folders. A blacklist has to name every place a secret may live
(the course folder, the other students' scratch courses and gradebooks
under ``/tmp``, ``/root``, ``/home``, ``/work``, ``/etc/shadow``, sockets in
``/run``, mounted drives) and fails open the day a new one appears; the
whitelist fails closed, and a missing path shows up at once as an
``ImportError`` in an honest notebook.

Also: no network (``--unshare-all``: new network, IPC, UTS, cgroup, PID
and user namespaces; ``--disable-userns`` where bwrap has it); no
capabilities (``--cap-drop ALL``: the kernel cannot remount its read-only
views); and an environment filtered before ``bwrap`` starts (the names in
:data:`PASS_ENV` plus the caller's), so the instructor's tokens never reach
the sandbox, not even through ``/proc/1/environ``. ``JPY_PARENT_PID`` is
never passed (ipykernel would see PID 1 and exit); ``--die-with-parent``
ties the sandbox to the kernel manager instead. Interrupts are messages
(``"interrupt_mode": "message"``): a SIGINT would reach ``bwrap``, not
Python.

Limits
------
See :class:`Limits`. Per process, always: ``RLIMIT_DATA`` (memory),
``RLIMIT_CPU``, ``RLIMIT_FSIZE`` and ``RLIMIT_NPROC``. ``RLIMIT_AS`` is not
usable: ``import torch`` alone maps about 3 GB of address space (and
reserves about 1.2 GB of the ``RLIMIT_DATA``). ``RLIMIT_NPROC`` does not
bind root: the kernel exempts the host's uid 0. Where a cgroup is writable
(v2 with the controller delegated, or v1's ``memory`` and ``pids``
hierarchies), the launcher also puts the whole sandbox in a cgroup of its
own, with ``memory.max`` (v1: ``memory.limit_in_bytes``, no swap) and
``pids.max``, and removes it when the sandbox ends. So, grading as root
without a writable pids cgroup, nothing counts processes: a fork bomb can
take the machine's PIDs until the kernel ends, when the PID namespace
kills them all. :func:`describe` says what enforces each limit here.

Outputs are not limited while a cell runs; :func:`cut_outputs` cuts the
executed notebook to 1 MB per cell before feedback is generated.

This module is also the launcher: the kernelspec runs it as a script
(``python -I -S sandbox.py launch ...``), so its top level imports only
the standard library.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "PASS_ENV",
    "Limits",
    "SandboxUnavailable",
    "available",
    "cgroup_controllers",
    "cut_outputs",
    "describe",
    "remove_stale_cgroups",
    "write_command",
    "write_kernelspec",
]

MB = 1_000_000
GiB = 1 << 30

#: Environment variables passed from the grader into the sandbox (when set);
#: everything else is dropped. ``DCAI_AL_QUICK`` is the kit's quick switch.
PASS_ENV = (
    "DCAI_AL_QUICK",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "MPLBACKEND",
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
)

#: What of ``/etc`` the kernel sees (those that exist), read-only.
ETC = (
    "alternatives",
    "fonts",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "timezone",
)

HOME = "/tmp/home"  # inside the sandbox's private /tmp
PLAN = "sandbox.json"  # the launcher's instructions, beside kernel.json
SOCKET_PATH_MAX = 107  # bytes in a unix socket's path (sun_path, less the final NUL)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed kernel.

    Parameters
    ----------
    memory : int
        Bytes. Per process, ``RLIMIT_DATA`` (private writable memory, so an
        oversized allocation raises ``MemoryError``; ``import torch``
        reserves about 1.2 GB of it); for the whole sandbox,
        ``memory.max`` of its cgroup where one is writable (past it the
        kernel is killed).
    cpu_seconds : int
        CPU time per process (``RLIMIT_CPU``); past it the process gets
        SIGXCPU and dies. The per-cell wall-clock limit is nbgrader's.
    processes : int
        Processes and threads of the sandbox: ``pids.max`` of its cgroup,
        and ``RLIMIT_NPROC``, which does not bind root.
    file_size : int
        Bytes, the largest file the kernel may write (``RLIMIT_FSIZE``).
    """

    memory: int = 2 * GiB
    cpu_seconds: int = 1200
    processes: int = 256
    file_size: int = 256 << 20

    def __post_init__(self):
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int; got {value!r}.")


def _bwrap() -> str | None:
    return shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


_PROBES: dict[tuple[str, ...], bool] = {}


def _works(*flags: str) -> bool:
    """Whether ``bwrap <flags> true`` runs here (cached)."""
    if flags not in _PROBES:
        bwrap = _bwrap()
        ok = False
        if bwrap is not None:
            try:
                cmd = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *flags, "true"]
                ok = subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
        _PROBES[flags] = ok
    return _PROBES[flags]


def available() -> bool:
    """Whether a sandbox can be made here: ``bwrap`` is installed and works.

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    return _works("--unshare-all", "--die-with-parent", "--cap-drop", "ALL")


def _require() -> str:
    bwrap = _bwrap()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be sandboxed. "
            "Install it (Debian/Ubuntu: apt-get update && apt-get install -y bubblewrap)."
        )
    if not available():
        probe = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", "true"]
        err = subprocess.run(probe, capture_output=True, text=True).stderr.strip()
        raise SandboxUnavailable(
            f"bwrap is installed at {bwrap} but cannot create a sandbox here ({err or 'no message'}). "
            "It needs root, or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; "
            "inside Docker, --privileged or a seccomp profile that allows unshare)."
        )
    return bwrap


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def _bind_ro(path: Path, seen: set) -> list[str]:
    """``--ro-bind`` for ``path``, or the symlink itself when it is one at the top (``/bin -> usr/bin``)."""
    if str(path) in seen:
        return []
    seen.add(str(path))
    if path.is_symlink() and path.parent == Path("/"):
        return ["--symlink", os.readlink(path), str(path)]
    return ["--ro-bind-try", str(path), str(path)]


def _bwrap_args(*, workdir: Path, runtime: Path | None, readonly: list[Path], limits: Limits) -> list[str]:
    seen: set = set()
    args = ["--unshare-all", "--die-with-parent", "--cap-drop", "ALL"]
    if _works("--unshare-user", "--disable-userns"):
        args += ["--unshare-user", "--disable-userns"]  # no nested namespaces to re-mount from
    args += ["--dev", "/dev", "--proc", "/proc"]
    # The private /tmp before any bind: a bind below /tmp (the venv, a readonly path) must come after it.
    # Its pages are memory: at most limits.memory.
    if _works("--size", "1048576", "--tmpfs", "/tmp"):
        args += ["--size", str(limits.memory)]
    args += ["--tmpfs", "/tmp", "--dir", HOME]
    font_cache = _matplotlib_font_cache()
    if font_cache is not None:  # read-only, inside the writable config dir: no 0.1 s font scan per kernel
        config = _sandbox_env()["MPLCONFIGDIR"]
        args += ["--dir", config, "--ro-bind", str(font_cache), f"{config}/{font_cache.name}"]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.lexists(top):
            args += _bind_ro(Path(top), seen)
    args += [x for name in ETC if os.path.lexists(f"/etc/{name}") for x in _bind_ro(Path("/etc", name), seen)]
    # Python: the prefix that the venv's python links into, the venv, the kit's package.
    python = [Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parents[1], Path(sys.prefix)]
    for path in [*python, _package_dir(), *readonly]:
        args += _bind_ro(path, seen)
    if runtime is not None:
        args += ["--bind", str(runtime), str(runtime)]
    args += ["--bind", str(workdir), str(workdir)]
    args += ["--chdir", str(workdir), "--remount-ro", "/"]
    return args


def _matplotlib_font_cache() -> Path | None:
    """The grader's matplotlib font list (built if missing), which every sandboxed kernel would rebuild."""
    try:
        import matplotlib
        from matplotlib import font_manager  # noqa: F401 - importing it writes the cache
    except ImportError:
        return None
    found = sorted(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"))
    return found[-1] if found else None


def _sandbox_env() -> dict[str, str]:
    return {
        "HOME": HOME,
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "TMPDIR": "/tmp",
        "XDG_CACHE_HOME": f"{HOME}/.cache",
        "XDG_CONFIG_HOME": f"{HOME}/.config",
        "MPLCONFIGDIR": f"{HOME}/.config/matplotlib",
        "IPYTHONDIR": f"{HOME}/.ipython",
        "JUPYTER_CONFIG_DIR": f"{HOME}/.jupyter",
        "JUPYTER_DATA_DIR": f"{HOME}/.local/share/jupyter",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }


def _checked_places(folder, workdir, limits, readonly):
    """``(bwrap, folder, workdir, limits, readonly)`` checked and resolved, for a kernel or a command."""
    bwrap = _require()
    folder = Path(folder).resolve()
    workdir = Path(workdir).resolve()
    limits = Limits() if limits is None else limits
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a Limits; got {type(limits).__name__}.")
    if workdir == folder or folder.is_relative_to(workdir) or workdir.is_relative_to(folder):
        raise ValueError(f"folder {folder} and workdir {workdir} must not contain each other.")
    readonly = [Path(p).resolve() for p in readonly]
    missing = [str(p) for p in readonly if not p.exists()]
    if missing:
        raise FileNotFoundError(f"readonly paths {missing} do not exist.")
    return bwrap, folder, workdir, limits, readonly


def write_kernelspec(
    folder,
    *,
    workdir,
    limits: Limits | None = None,
    readonly=(),
    pass_env=(),
    name: str = "python3",
) -> dict:
    """Write a kernelspec whose kernel runs in a bubblewrap sandbox.

    Kernelspec managers search ``JUPYTER_PATH`` before the user's, the
    environment's and the system's folders, and take the first kernel of a
    name: with the returned ``env``, ``python3`` is this one, not
    ipykernel's own. The workdir is part of the kernelspec, so write one per
    notebook graded (into the same folder, before each ``nbgrader
    autograde <assignment> --student <id>``), and never share a folder
    between two kernels running at once: they would see each other's
    sockets.

    Parameters
    ----------
    folder : path
        A folder for this one grading job (one student, one notebook at a
        time), outside ``workdir``: gets ``kernels/<name>/kernel.json``,
        the launcher's plan and ``runtime/`` (the connection file and the
        kernel's sockets, bound into the sandbox). Keep its path short: a
        unix socket's path must fit in 107 bytes.
    workdir : path
        The kernel's working directory, the only writable folder it sees
        besides its private ``/tmp``; it must exist when the kernel starts.
        Never a folder that the host writes into after the kernel ends
        (for ``nbgrader autograde``, not ``autograded/<student>/<assignment>``,
        where nbgrader writes and chmods the graded notebook): the kernel
        can leave symlinks there, and a write through one reaches any file
        the grader may write.
    limits : Limits, optional
        Defaults to ``Limits()``: 2 GB, 1200 CPU-seconds, 256 processes,
        256 MiB files.
    readonly : iterable of path
        More paths the kernel may read (data shipped with the course).
    pass_env : iterable of str
        More environment variables passed into the sandbox, besides
        :data:`PASS_ENV`.
    name : str
        The kernel's name; ``"python3"`` shadows the plain kernel.

    Returns
    -------
    dict
        ``"env"``: variables to set for nbgrader, nbclient or jupyter
        (``JUPYTER_PATH``, so that they find this kernel first);
        ``"args"``: the command-line flags to add to ``nbgrader autograde``
        (``--KernelManager.transport=ipc`` and
        ``--KernelManager.connection_file=<folder>/runtime/kernel.json``, the
        one place the sandbox sees the connection file and the sockets);
        ``"config"``: the same as a traitlets config dict, for
        ``NotebookClient(config=...)``; ``"kernelspec"``: the kernel.json
        written; ``"limits"``: what :func:`describe` returns.

    Raises
    ------
    SandboxUnavailable
        When bubblewrap is missing or cannot run here.
    """
    if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"name must be a kernel name (letters, digits, '-', '_'); got {name!r}.")
    bwrap, folder, workdir, limits, readonly = _checked_places(folder, workdir, limits, readonly)
    pass_env = [*PASS_ENV, *pass_env]
    bad = [v for v in pass_env if not isinstance(v, str) or not v or "=" in v]
    if bad:
        raise ValueError(f"pass_env must hold variable names; got {bad}.")
    if "JPY_PARENT_PID" in pass_env:
        raise ValueError("JPY_PARENT_PID cannot be passed: ipykernel would see PID 1 and exit.")

    runtime = folder / "runtime"
    longest = len(str(runtime)) + len("/kernel-ipc-65535")
    if longest > SOCKET_PATH_MAX:
        raise ValueError(f"folder {folder} is too long for unix sockets ({longest} > {SOCKET_PATH_MAX} bytes).")
    spec_dir = folder / "kernels" / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)

    plan = {
        "bwrap": [bwrap, *_bwrap_args(workdir=workdir, runtime=runtime, readonly=readonly, limits=limits)],
        "kernel": [sys.executable, "-m", "ipykernel_launcher", "-f"],
        "env": _sandbox_env(),
        "pass_env": sorted(set(pass_env)),
        "runtime": str(runtime),
        "limits": asdict(limits),
    }
    (spec_dir / PLAN).write_text(json.dumps(plan, indent=1))
    spec = {
        "argv": [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "launch", str(spec_dir / PLAN)]
        + ["{connection_file}"],
        "display_name": "Python 3 (sandboxed)",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False, "dcai_al_sandbox": True},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    manager = {"transport": "ipc", "connection_file": str(runtime / "kernel.json")}
    return {
        "env": {"JUPYTER_PATH": str(folder)},
        "args": [f"--KernelManager.{k}={v}" for k, v in manager.items()],
        "config": {"KernelManager": manager},
        "kernelspec": spec,
        "limits": describe(limits),
    }


def write_command(
    folder,
    argv,
    *,
    workdir,
    limits: Limits | None = None,
    readonly=(),
    pass_env=(),
) -> list[str]:
    """A command line that runs ``argv`` in the same sandbox and limits as the kernel of :func:`write_kernelspec`.

    For a fresh process that must not share the kernel's state (the grader's
    trusted comparison serves the student's functions this way). The same
    read-only view, private ``/tmp``, namespaces, filtered environment,
    rlimits and cgroups; no runtime folder (no sockets).

    Parameters
    ----------
    folder : path
        Gets the launcher's plan; outside ``workdir``.
    argv : list of str
        The command to run inside, e.g. ``[sys.executable, "-I", script, ...]``.
    workdir : path
        Its working directory and the only writable folder it sees besides
        its private ``/tmp``.
    limits, readonly, pass_env
        As for :func:`write_kernelspec`.

    Returns
    -------
    list of str
        Run it with :mod:`subprocess`; its exit status is the command's.

    Raises
    ------
    SandboxUnavailable
        When bubblewrap is missing or cannot run here.
    """
    argv = [str(a) for a in argv]
    if not argv:
        raise ValueError("argv must name a command.")
    bwrap, folder, workdir, limits, readonly = _checked_places(folder, workdir, limits, readonly)
    pass_env = sorted({*PASS_ENV, *pass_env} - {"JPY_PARENT_PID"})
    folder.mkdir(parents=True, exist_ok=True)
    plan = {
        "bwrap": [bwrap, *_bwrap_args(workdir=workdir, runtime=None, readonly=readonly, limits=limits)],
        "command": argv,
        "env": _sandbox_env(),
        "pass_env": pass_env,
        "limits": asdict(limits),
    }
    (folder / PLAN).write_text(json.dumps(plan, indent=1))
    return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "run", str(folder / PLAN)]


def describe(limits: Limits | None = None) -> dict:
    """What each limit of ``limits`` is enforced by on this machine.

    Examples
    --------
    >>> sorted(describe())
    ['cpu_seconds', 'file_size', 'memory', 'processes']
    """
    limits = Limits() if limits is None else limits
    cgroups = cgroup_controllers()
    root = os.getuid() == 0
    memory = "RLIMIT_DATA per process" + (" and the sandbox's memory cgroup" if "memory" in cgroups else "")
    if "pids" in cgroups:
        processes = "the sandbox's pids cgroup" + ("" if root else " and RLIMIT_NPROC")
    else:
        processes = "nothing (RLIMIT_NPROC does not bind root; no writable pids cgroup)" if root else "RLIMIT_NPROC"
    return {
        "memory": f"{limits.memory} bytes: {memory}",
        "cpu_seconds": f"{limits.cpu_seconds} s: RLIMIT_CPU per process",
        "processes": f"{limits.processes}: {processes}",
        "file_size": f"{limits.file_size} bytes: RLIMIT_FSIZE",
    }


# ---------------------------------------------------------------- cgroups

CGROUP_PREFIX = "dcai-al-sandbox-"
#: The files that set each limit, cgroup v2 first, then v1 (None: the limit's value; 0: no swap).
CGROUP_FILES = {
    "memory": {2: {"memory.max": None, "memory.swap.max": 0}, 1: {"memory.limit_in_bytes": None}},
    "pids": {2: {"pids.max": None}, 1: {"pids.max": None}},
}


def _cgroup_mounts() -> dict:
    """Controller -> (version, folder of this process's cgroup), from /proc/self/{mountinfo,cgroup}."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text().splitlines()
        membership = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    mounts = {}  # "v2", or a v1 hierarchy's controllers ("memory", "pids") -> (mount root, mount point)
    for line in mountinfo:
        left, _, right = line.partition(" - ")
        fields, (fstype, _source, options) = left.split(), right.split()[:3]
        if fstype == "cgroup2":
            mounts["v2"] = (fields[3], fields[4])
        elif fstype == "cgroup":
            key = ",".join(sorted(o for o in options.split(",") if o in CGROUP_FILES))
            if key:
                mounts.setdefault(key, (fields[3], fields[4]))
    found = {}
    for line in membership:
        _, controllers, path = line.split(":", 2)
        key = ",".join(sorted(c for c in controllers.split(",") if c in CGROUP_FILES))
        if controllers == "" and "v2" in mounts:
            root, point = mounts["v2"]
            folder = Path(point, os.path.relpath(path, root))
            try:
                delegated = (folder / "cgroup.subtree_control").read_text().split()
            except OSError:
                delegated = []
            for controller in CGROUP_FILES:
                if controller in delegated:  # v2 wins over v1 for the same controller
                    found[controller] = (2, folder)
        elif key and key in mounts:
            root, point = mounts[key]
            for controller in key.split(","):
                found.setdefault(controller, (1, Path(point, os.path.relpath(path, root))))
    return found


def cgroup_controllers() -> set[str]:
    """The cgroup controllers (``"memory"``, ``"pids"``) a sandbox started from this process gets.

    Those whose cgroup (v2 with the controller delegated, or v1) this
    process may create children in; the others' limits fall back to rlimits.

    Examples
    --------
    >>> cgroup_controllers() <= {"memory", "pids"}
    True
    """
    return {c for c, (_, folder) in _cgroup_mounts().items() if os.access(folder, os.W_OK)}


def _make_cgroups(limits: dict) -> list[Path]:
    """Create this sandbox's cgroups with their limits; [] where none can be made (then rlimits only)."""
    made = []
    for controller, (version, parent) in _cgroup_mounts().items():
        if not os.access(parent, os.W_OK):
            continue
        _sweep(parent)
        folder = parent / f"{CGROUP_PREFIX}{os.getpid()}"
        try:
            folder.mkdir(exist_ok=True)
            for name, value in CGROUP_FILES[controller][version].items():
                value = limits["memory" if controller == "memory" else "processes"] if value is None else value
                if (folder / name).exists():
                    (folder / name).write_text(str(value))
            if version == 1 and controller == "memory" and (folder / "memory.memsw.limit_in_bytes").exists():
                (folder / "memory.memsw.limit_in_bytes").write_text(str(limits["memory"]))  # no swap either
        except OSError as error:
            print(f"dcai_al.sandbox: no {controller} cgroup ({error}); rlimits only", file=sys.stderr)
            _remove_cgroup(folder)
            continue
        made.append(folder)
    return made


def remove_stale_cgroups() -> int:
    """Remove the cgroups left by sandboxes whose launcher was killed; returns how many.

    A kernel killed with SIGKILL (``shutdown_kernel(now=True)``) takes its
    launcher with it, and its processes die with its PID namespace, but its
    empty cgroup folders stay until the next sandbox starts, or until this
    is called (say, at the end of a grading run).
    """
    count = 0
    for _, (_, parent) in _cgroup_mounts().items():
        if os.access(parent, os.W_OK):
            count += _sweep(parent)
    return count


def _sweep(parent: Path) -> int:
    """Remove the cgroups of sandboxes whose launcher was killed (empty ones only: rmdir refuses the rest)."""
    count = 0
    for folder in parent.glob(f"{CGROUP_PREFIX}*"):
        pid = folder.name.removeprefix(CGROUP_PREFIX)
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            count += _remove_cgroup(folder)
        except PermissionError:
            pass
    return count


def _remove_cgroup(folder: Path) -> bool:
    """Kill what is left in ``folder``, then remove it; whether it is gone."""
    for _ in range(50):
        try:
            pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


# ---------------------------------------------------------------- launcher (runs as a script)


def _set_rlimits(limits: dict) -> None:
    pairs = [
        (resource.RLIMIT_DATA, limits["memory"]),
        (resource.RLIMIT_CPU, limits["cpu_seconds"]),
        (resource.RLIMIT_FSIZE, limits["file_size"]),
        (resource.RLIMIT_NPROC, limits["processes"]),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in pairs:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _launch(plan_path: str, connection_file: str, extra: list[str]) -> None:
    """Start the sandboxed kernel: check its connection file is in the runtime folder, then :func:`_start`."""
    plan = json.loads(Path(plan_path).read_text())
    runtime = Path(plan["runtime"])
    conn = Path(connection_file).resolve()
    if conn.parent != runtime:
        sys.exit(
            f"dcai_al.sandbox: the connection file {conn} is not in {runtime}, which the sandbox sees. "
            f"Set KernelManager.connection_file inside it (write_kernelspec returns the flag in 'args')."
        )
    _start(plan, [*plan["kernel"], str(conn), *extra])


def _start(plan: dict, command: list[str]) -> None:
    """Filter the environment, set the limits, run ``command`` in bwrap.

    Without cgroups, this process becomes ``bwrap``. With them, it stays as
    bwrap's parent (``--die-with-parent``), forwards SIGTERM, and removes the
    cgroups when the sandbox ends.
    """
    env = {k: os.environ[k] for k in plan["pass_env"] if k in os.environ}
    env.update(plan["env"])
    argv = [*plan["bwrap"], "--", *command]
    groups = _make_cgroups(plan["limits"]) if plan.get("cgroups", True) else []
    if not groups:
        _set_rlimits(plan["limits"])
        os.execve(argv[0], argv, env)
    pid = os.fork()
    if pid == 0:
        try:
            for folder in groups:
                (folder / "cgroup.procs").write_text(str(os.getpid()))
            _set_rlimits(plan["limits"])
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(pid, signum))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts are messages to the kernel
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    for folder in groups:
        _remove_cgroup(folder)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _main(argv: list[str]) -> None:
    if len(argv) >= 3 and argv[0] == "launch":
        _launch(argv[1], argv[2], argv[3:])
    elif len(argv) == 2 and argv[0] == "run":
        plan = json.loads(Path(argv[1]).read_text())
        _start(plan, plan["command"])
    else:
        sys.exit(
            "usage: python -I -S sandbox.py launch PLAN.json CONNECTION_FILE [KERNEL_ARGS...]\n"
            "       python -I -S sandbox.py run PLAN.json"
        )


# ---------------------------------------------------------------- outputs


def cut_outputs(nb, *, max_bytes: int = MB) -> list[int]:
    """Cut every code cell's outputs to ``max_bytes``, in place, with a note.

    Streams and text are cut at the limit, rich outputs (images, HTML)
    past it are dropped, and a last output says "output cut at 1 MB by the
    grader". Errors are always kept (tracebacks shortened), so the grade's
    messages survive.

    Parameters
    ----------
    nb : dict or nbformat.NotebookNode
        An executed notebook (nbformat 4), changed in place.
    max_bytes : int
        Per cell, over all its outputs (UTF-8 bytes of their JSON).

    Returns
    -------
    list of int
        The indices of the cells that were cut.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "outputs": [
    ...     {"output_type": "stream", "name": "stdout", "text": "x" * 5000}]}]}
    >>> cut_outputs(nb, max_bytes=1000)
    [0]
    >>> len(nb["cells"][0]["outputs"][0]["text"]) <= 1000
    True
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1000:
        raise ValueError(f"max_bytes must be an int >= 1000; got {max_bytes!r}.")
    cut = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code" or not cell.get("outputs"):
            continue
        kept, dropped = _cut_cell(cell["outputs"], max_bytes)
        if dropped:
            note = f"[output cut at {_size_name(max_bytes)} by the grader: {dropped:,} bytes not shown]\n"
            kept.append(_stream("stderr", note))
            node = type(cell["outputs"][0])  # nbformat.NotebookNode stays one
            cell["outputs"] = [o if isinstance(o, node) else node(o) for o in kept]
            cut.append(index)
    return cut


def _size(output) -> int:
    return len(json.dumps(output, ensure_ascii=False).encode())


def _size_name(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n / 1000:g} kB"


def _stream(name: str, text: str) -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _clip(text, budget: int) -> str:
    """The start of ``text`` whose JSON takes at most about ``budget`` bytes."""
    text = "".join(text) if isinstance(text, list) else text
    for _ in range(4):  # escapes (newlines, quotes) make JSON longer than the text
        size = len(json.dumps(text, ensure_ascii=False).encode())
        if size <= budget:
            break
        text = text.encode()[: max(len(text.encode()) * budget // size - 16, 0)].decode(errors="ignore")
    return text


def _cut_cell(outputs: list, max_bytes: int) -> tuple[list, int]:
    """Outputs that fit in ``max_bytes`` (errors always), and the bytes dropped."""
    budget = max_bytes - 200  # room for the note
    errors = [o for o in outputs if o.get("output_type") == "error"]
    for error in errors:  # a traceback never exceeds a quarter of the budget
        lines, total = [], 0
        for line in error.get("traceback", []):
            total += len(line.encode())
            if total > max_bytes // 4:
                lines.append("... (traceback cut by the grader)")
                break
            lines.append(line)
        error["traceback"] = lines
        error["evalue"] = _clip(error.get("evalue", ""), 2000)
    budget -= sum(_size(e) for e in errors)
    kept, dropped = [], 0
    for output in outputs:
        size = _size(output)
        if output.get("output_type") == "error":
            kept.append(output)
        elif size <= budget:
            kept.append(output)
            budget -= size
        elif output.get("output_type") == "stream" and budget > 100:
            text = _clip(output.get("text", ""), budget - 100)
            kept.append(_stream(output.get("name", "stdout"), text))
            dropped += size - _size(kept[-1])
            budget = 0
        else:
            dropped += size
    return kept, dropped


if __name__ == "__main__":
    _main(sys.argv[1:])
