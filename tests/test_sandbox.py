"""The sandbox for a student's kernel: what a notebook run in it can and cannot do.

Each test runs a small notebook with nbclient in the sandboxed ``python3``
kernel, as nbgrader does (``JUPYTER_PATH`` and the ``KernelManager`` config
from :func:`dcai_al.sandbox.write_kernelspec`). Every attack is bounded and
aims only at the test's own temporary folders; the one probe of the kit
(``dcai_al/checks.py``) opens it for appending and writes nothing.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from dcai_al import sandbox

pytestmark = pytest.mark.skipif(
    not sandbox.available(),
    reason="bubblewrap (bwrap) is missing or cannot create namespaces here: apt-get install -y bubblewrap",
)

KIT = Path(sandbox.__file__).resolve().parent


@pytest.fixture
def course(tmp_path):
    """A fake scratch course: a gradebook, a solution, and one student's folder to grade in."""
    root = tmp_path / "course"
    workdir = root / "autograded" / "alice" / "lab1"
    workdir.mkdir(parents=True)
    (root / "gradebook.db").write_bytes(b"SQLite format 3\0 alice=0 bob=0")
    (root / "solutions" / "lab1").mkdir(parents=True)
    (root / "solutions" / "lab1" / "lab1.ipynb").write_text("### BEGIN SOLUTION secret")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "lab1.ipynb").write_text("bob's submission")
    return root


@pytest.fixture
def kernel(course, monkeypatch):
    """Run cells in the sandboxed kernel, in the student's folder; returns the executed notebook."""
    folder = Path(tempfile.mkdtemp(prefix="sbx-"))  # short: the socket paths live in it
    workdir = course / "autograded" / "alice" / "lab1"

    def run(*cells, timeout=30, limits=None, interrupt_on_timeout=False, **given):
        """Execute ``cells`` (dedented) after a first cell that imports os and json and sets ``given``."""
        info = sandbox.write_kernelspec(folder, workdir=workdir, limits=limits)
        for name, value in info["env"].items():
            monkeypatch.setenv(name, value)
        setup = "import json, os\n" + "".join(f"{name} = {value!r}\n" for name, value in given.items())
        sources = [setup, *(textwrap.dedent(c).strip() for c in cells)]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in sources])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=interrupt_on_timeout,
            config=Config(info["config"]),
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
        assert text(nb.cells[0]) == "", text(nb.cells[0])
        nb.cells = nb.cells[1:]
        return nb

    yield run
    shutil.rmtree(folder, ignore_errors=True)


def text(cell) -> str:
    """Everything a cell printed, errors as ``Name: value``."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}\n")
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def digest(*paths) -> dict:
    return {str(p): Path(p).read_bytes() for p in paths}


def host_pids_with(token: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def test_kernelspec_shadows_the_plain_python3_kernel(course, monkeypatch, tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager

    info = sandbox.write_kernelspec(tmp_path / "ks", workdir=course / "autograded" / "alice" / "lab1")
    monkeypatch.setenv("JUPYTER_PATH", info["env"]["JUPYTER_PATH"])
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[:4] == info["kernelspec"]["argv"][:4]
    assert str(KIT / "sandbox.py") in spec.argv
    assert spec.interrupt_mode == "message"
    assert "--KernelManager.transport=ipc" in info["args"]


def test_an_honest_cell_runs_and_prints(kernel):
    nb = kernel(
        "import numpy as np\nprint(np.arange(4).sum())",
        "from dcai_al.acquisition import entropy\nprint(entropy(np.array([[0.5, 0.5]])).round(3))",
        "import os\nprint(os.getcwd().endswith('alice/lab1'))\n_ = open('scratch.txt', 'w').write('ok')",
    )
    assert [text(c) for c in nb.cells] == ["6\n", "[0.693]\n", "True\n"]


def test_an_endless_loop_is_interrupted_and_the_next_cell_runs(kernel):
    # nbgrader interrupts a cell at its time limit; the kernelspec's interrupts are messages, not SIGINT to bwrap.
    nb = kernel("while True:\n    pass", "print('next')", timeout=3, interrupt_on_timeout=True)
    assert text(nb.cells[0]).startswith("KeyboardInterrupt")
    assert text(nb.cells[1]) == "next\n"


def test_the_graders_environment_does_not_reach_the_kernel(kernel, monkeypatch):
    monkeypatch.setenv("GRADER_TOKEN", "s3cret")
    monkeypatch.setenv("DCAI_AL_QUICK", "1")  # the kit's own switch does
    nb = kernel(
        "print('GRADER_TOKEN' in os.environ, os.environ.get('DCAI_AL_QUICK'), os.environ['HOME'])",
        "print(any(b's3cret' in open(f'/proc/{p}/environ', 'rb').read() for p in os.listdir('/proc') if p.isdigit()))",
    )
    assert [text(c) for c in nb.cells] == ["False 1 /tmp/home\n", "False\n"]


def test_files_outside_the_workdir_cannot_be_read(kernel, course):
    bob = course.parent / "bob" / "lab1.ipynb"
    probes = [course / "gradebook.db", course / "solutions/lab1/lab1.ipynb", bob, "../../../gradebook.db"]
    probes += [KIT.parent / "solutions", KIT.parent / "tests", KIT.parent / ".git", "/home", "/work/main/labs"]
    seen = [str(p) for p in (sys.base_prefix, sys.prefix, KIT)]
    nb = kernel(
        "print([os.path.exists(p) for p in probes])",
        """
        dirs = ['/', '/tmp', '/root', kit_root]
        print(json.dumps({d: sorted(os.listdir(d)) if os.path.isdir(d) else [] for d in dirs}))
        """,
        # The walk of / that found the instructor's notebooks (skipping the system and Python, where nbgrader's
        # own test files are).
        """
        found = [os.path.join(d, f) for d, dirs, files in os.walk('/')
                 if not d.startswith(('/proc', '/dev', '/usr', *seen))
                 for f in files + dirs if f in ('gradebook.db', 'solutions', 'lab1.ipynb', 'bob')]
        print(found)
        """,
        probes=[str(p) for p in probes],
        kit_root=str(KIT.parent),
        seen=seen,
    )
    assert text(nb.cells[0]) == str([False] * len(probes)) + "\n"
    listed = json.loads(text(nb.cells[1]))
    tops = {Path(p).parts[1] for p in [*seen, "/tmp"]}
    assert set(listed["/"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "usr"} | tops
    # /tmp: the sandbox's HOME, and the way down to the workdir and to the kernel's sockets.
    under_tmp = {Path(p).parts[2] for p in seen if Path(p).parts[1:2] == ("tmp",)}  # a venv or kit cloned in /tmp
    assert all(n in ("home", course.parts[2], *under_tmp) or n.startswith("sbx-") for n in listed["/tmp"])
    assert set(listed[str(KIT.parent)]) <= {".venv", "dcai_al"}
    assert all(any(p.startswith(f"/root/{n}/") for p in seen) for n in listed["/root"])
    assert text(nb.cells[2]) == "[]\n"


def test_files_outside_the_workdir_cannot_be_written(kernel, course):
    checks, gradebook = KIT / "checks.py", course / "gradebook.db"
    before = digest(checks, gradebook)
    nb = kernel(
        # Opening the kit's file for appending writes nothing, even where it succeeds.
        """
        try:
            open(checks, 'a').close()
            print('opened')
        except OSError as e:
            print(e.strerror)
        """,
        # The course's folders are not there: these land in the sandbox's private /tmp, if anywhere.
        """
        for p in [gradebook, '../../../gradebook.db', '../../../new.txt']:
            try:
                open(p, 'wb').write(b'alice=11')
            except OSError as e:
                print(e.strerror)
        """,
        """
        try:
            open('/usr/lib/attack.txt', 'w')
        except OSError as e:
            print(e.strerror)
        """,
        checks=str(checks),
        gradebook=str(gradebook),
    )
    assert text(nb.cells[0]) == "Read-only file system\n"
    assert text(nb.cells[2]) == "Read-only file system\n"
    assert digest(checks, gradebook) == before
    assert not (course / "new.txt").exists()


def test_no_network_not_even_loopback(kernel):
    with socket.create_server(("127.0.0.1", 0)) as server:  # without the sandbox, the connection would succeed
        nb = kernel(
            """
            import socket
            try:
                socket.create_connection(('127.0.0.1', port), timeout=5)
                print('connected')
            except OSError as e:
                print(type(e).__name__)
            """,
            port=server.getsockname()[1],
        )
    assert text(nb.cells[0]) in {"ConnectionRefusedError\n", "OSError\n"}


def test_the_kernel_has_its_own_pid_namespace_and_proc(kernel):
    nb = kernel("print(os.getpid())", "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    assert int(text(nb.cells[0])) < 100  # the namespace's PIDs start at 1
    pids = json.loads(text(nb.cells[1]))
    assert os.getpid() not in pids and len(pids) < 10


def test_a_process_left_behind_dies_with_the_kernel(kernel):
    token = f"300.{uuid.uuid4().int % 10**6:06d}"  # a sleep of 300 s, with a duration no one else uses
    nb = kernel(
        """
        import subprocess
        p = subprocess.Popen(['sleep', token], start_new_session=True)
        print(p.pid)
        """,
        token=token,
    )
    assert int(text(nb.cells[0])) < 100  # it ran inside the namespace
    deadline = time.monotonic() + 5  # the namespace's processes are killed as its init exits
    while host_pids_with(f"sleep\0{token}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_pids_with(f"sleep\0{token}") == []


def test_a_killed_sandbox_leaves_no_process(course, monkeypatch):
    from jupyter_client import KernelManager

    folder = Path(tempfile.mkdtemp(prefix="sbx-"))
    info = sandbox.write_kernelspec(folder, workdir=course / "autograded" / "alice" / "lab1")
    monkeypatch.setenv("JUPYTER_PATH", info["env"]["JUPYTER_PATH"])
    token = f"300.{uuid.uuid4().int % 10**6:06d}"
    km = KernelManager(kernel_name="python3", **info["config"]["KernelManager"])
    km.start_kernel()
    launcher = km.provisioner.pid
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        client.execute_interactive(f"import subprocess; subprocess.Popen(['sleep', '{token}'], start_new_session=True)")
        assert host_pids_with(f"sleep\0{token}")
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)  # SIGKILL to the launcher's process group, as for a dead kernel
        shutil.rmtree(folder, ignore_errors=True)
    deadline = time.monotonic() + 5
    while host_pids_with(f"sleep\0{token}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_pids_with(f"sleep\0{token}") == []
    sandbox.remove_stale_cgroups()  # the launcher could not remove its cgroups: it was killed
    assert not list(Path("/sys/fs/cgroup").glob(f"**/{sandbox.CGROUP_PREFIX}{launcher}"))


def test_memory_is_capped(kernel):
    # 3 GB, touched page by page (np.ones), against the 2 GB default.
    hog = """
    import numpy as np
    try:
        a = np.ones(3 * 2**30, dtype=np.uint8)
        print('allocated')
    except MemoryError:
        print('MemoryError')
    """
    try:
        nb = kernel(hog, "print('alive')")
    except DeadKernelError:
        return  # killed at the cgroup's limit: bounded too
    assert [text(c) for c in nb.cells] == ["MemoryError\n", "alive\n"]


@pytest.mark.skipif("memory" not in sandbox.cgroup_controllers(), reason="no writable memory cgroup here")
def test_memory_is_capped_for_the_whole_sandbox(kernel):
    # Two processes of 400 MB each fit their own RLIMIT_DATA of 600 MB, not the sandbox's 600 MB together.
    nb = kernel(
        """
        import subprocess, sys, time
        hog = 'import time; b = bytearray(400 * 2**20); time.sleep(30)'
        procs = [subprocess.Popen([sys.executable, '-c', hog]) for _ in range(2)]
        deadline = time.monotonic() + 20
        while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        print(sorted(p.poll() is not None and p.returncode for p in procs))
        for p in procs:
            p.kill()
        """,
        limits=sandbox.Limits(memory=600 << 20),
    )
    assert -9 in json.loads(text(nb.cells[0]).replace("False", "0"))  # one was killed by the OOM killer


@pytest.mark.skipif(
    os.getuid() == 0 and "pids" not in sandbox.cgroup_controllers(),
    reason="as root, only a pids cgroup limits processes, and none is writable here",
)
def test_the_process_count_is_capped(kernel):
    nb = kernel(
        """
        import subprocess
        procs = []
        try:
            for _ in range(60):
                procs.append(subprocess.Popen(['sleep', '60']))
        except OSError as e:
            print(len(procs), type(e).__name__)
        for p in procs:
            p.kill()
            p.wait()
        """,
        limits=sandbox.Limits(processes=40),
    )
    started, error = text(nb.cells[0]).split()
    assert 0 < int(started) < 40 and error == "BlockingIOError"


def test_a_10_mb_print_is_cut_to_1_mb(kernel, tmp_path):
    nb = kernel("print('x' * 10_000_000)", "print('after')")
    assert sandbox.cut_outputs(nb) == [0]
    outputs = nb.cells[0].outputs
    assert len(json.dumps(outputs)) <= 1_000_000
    assert outputs[-1].text.startswith("[output cut at 1 MB by the grader")
    assert outputs[0].text.startswith("xxxx")
    assert text(nb.cells[1]) == "after\n"
    nbformat.write(nbformat.from_dict(nb), tmp_path / "graded.ipynb")
    assert (tmp_path / "graded.ipynb").stat().st_size < 1_100_000


def test_cut_outputs_keeps_errors_and_small_cells():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output("stream", name="stdout", text="small\n")]),
            nbformat.v4.new_code_cell(
                "",
                outputs=[
                    nbformat.v4.new_output("display_data", data={"text/plain": "y" * 2_000_000}),
                    nbformat.v4.new_output("error", ename="CheckFailed", evalue="entropy: case 2", traceback=["tb"]),
                ],
            ),
        ]
    )
    assert sandbox.cut_outputs(nb) == [1]
    assert nb.cells[0].outputs[0].text == "small\n"
    kinds = [o["output_type"] for o in nb.cells[1].outputs]
    assert kinds == ["error", "stream"]
    assert nb.cells[1].outputs[0]["evalue"] == "entropy: case 2"
    nbformat.validate(nbformat.from_dict(nb))


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="memory"):
        sandbox.Limits(memory=0)
    with pytest.raises(ValueError, match="contain each other"):
        sandbox.write_kernelspec(tmp_path, workdir=tmp_path / "w")
    with pytest.raises(ValueError, match="too long"):
        sandbox.write_kernelspec(tmp_path / ("x" * 100), workdir=tmp_path / "w")


def test_without_bwrap_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_bwrap", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install -y bubblewrap"):
        sandbox.write_kernelspec(tmp_path / "ks", workdir=tmp_path / "w")


def test_a_sandboxed_command_gets_the_kernels_view_and_limits(course, tmp_path, monkeypatch):
    """write_command (the trusted comparison's serving process): the same whitelist, namespaces and limits."""
    monkeypatch.setenv("DCAI_AL_SECRET_TOKEN", "hunter2")
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "given.txt").write_text("from the grader")
    workdir = tmp_path / "work"
    workdir.mkdir()
    probe = textwrap.dedent(
        f"""
        import json, os, resource, socket
        from pathlib import Path
        facts = {{"given": Path({str(inbox / "given.txt")!r}).read_text(), "pid": os.getpid()}}
        facts["gradebook"] = os.path.exists({str(course / "gradebook.db")!r})
        facts["solution"] = os.path.exists({str(course / "solutions")!r})
        try:
            Path({str(inbox / "planted.txt")!r}).write_text("x")
            facts["inbox_writable"] = True
        except OSError:
            facts["inbox_writable"] = False
        try:
            socket.create_connection(("127.0.0.1", 22), timeout=1)
            facts["network"] = True
        except OSError:
            facts["network"] = False
        facts["token"] = os.environ.get("DCAI_AL_SECRET_TOKEN")
        facts["memory"] = resource.getrlimit(resource.RLIMIT_DATA)[0]
        Path("facts.json").write_text(json.dumps(facts))
        """
    )
    limits = sandbox.Limits(memory=1 << 30)
    argv = [sys.executable, "-I", "-c", probe]
    command = sandbox.write_command(tmp_path / "box", argv, workdir=workdir, limits=limits, readonly=[inbox])
    proc = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads((workdir / "facts.json").read_text())
    assert facts["given"] == "from the grader" and facts["inbox_writable"] is False
    assert facts["gradebook"] is False and facts["solution"] is False
    assert facts["network"] is False and facts["token"] is None
    assert facts["pid"] <= 3 and facts["memory"] == 1 << 30
    assert not (inbox / "planted.txt").exists()
