"""The install story: one dependency list, pinned, the same for pip and conda; README commands exist."""

import re
import tomllib

import yaml  # comes with jupyter


def _pyproject(repo):
    return tomllib.loads((repo / "pyproject.toml").read_text())["project"]


def test_environment_yml_matches_pyproject(repo):
    project = _pyproject(repo)
    pip_deps = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((repo / "environment.yml").read_text())
    conda_pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(conda_pip) == pip_deps
    assert "python=3.11" in env["dependencies"]


def test_every_dependency_is_pinned_and_torch_matches_the_disk_builds(repo):
    project = _pyproject(repo)
    for dep in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", dep), dep
    assert "torch==2.14.1" in project["dependencies"] and "torchvision==0.29.1" in project["dependencies"]


def test_lock_file_agrees_with_the_direct_pins(repo):
    lock = dict(line.split("==") for line in (repo / "requirements.lock").read_text().split() if "==" in line)
    lock = {k.lower(): v for k, v in lock.items()}
    for dep in _pyproject(repo)["dependencies"]:
        name, version = dep.split("==")
        assert lock[name.lower()] == version, name


def test_readme_commands_exist_and_ci_runs_the_test_command(repo):
    readme = (repo / "README.md").read_text()
    commands = re.findall(r"^    (make \w+)", readme, flags=re.M) or re.findall(r"^(make \w+)$", readme, flags=re.M)
    assert commands[:2] == ["make run", "make test"]
    makefile = (repo / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (repo / ".ci" / "run").read_text()


def test_virtual_environment_is_ignored(repo):
    assert ".venv/" in (repo / ".gitignore").read_text().split()


def test_the_version_has_one_source(repo):
    import importlib.metadata

    import dcai_al

    project = _pyproject(repo)
    assert "version" not in project and "version" in project["dynamic"]  # read from dcai_al.__version__
    assert importlib.metadata.version("dcai-al") == dcai_al.__version__


def test_the_license_file_matches_pyproject(repo):
    assert _pyproject(repo)["license"] == {"text": "MIT"}
    assert (repo / "LICENSE").read_text().startswith("MIT License")


def test_make_lint_exists_and_make_test_runs_it(repo):
    makefile = (repo / "Makefile").read_text()
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert lint and "ruff check ." in lint.group(1) and "ruff format --check ." in lint.group(1)
    assert re.search(r"^test:.*\blint\b", makefile, re.M)
