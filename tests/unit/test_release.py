"""The collection as released: what the tarball holds, its links, licence, metadata, changelog.

- `ansible-galaxy collection build` of the work tree gives a tarball with no development
  content (an allow-list of top-level entries plus a deny-list of dev paths), with COPYING,
  CHANGELOG.rst and the docs; every relative link in the shipped Markdown and reST resolves to
  a file inside the tarball (so nothing points at ../shared or a dev-only file).
- version_added of every module, plugin and role is set and not newer than galaxy.yml's version.
- requires_ansible claims exactly the ansible-core minors that scripts/test.sh tests (the main
  toolchain and each scripts/test-core-lane.sh lane, by their requirements/toolchain*.txt
  pins, each pinned alike in its constraints file); the dependency ranges have upper bounds,
  and every dependency is used.
- `antsibull-changelog release` of the current tree for galaxy.yml's version (in a copy) gives
  a CHANGELOG.rst that lists every module, plugin, role and playbook, holds no Ansible markup
  (C(...), O(...)) and is valid reST; the committed CHANGELOG.rst is what changelog.yaml renders.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import pytest
import yaml

from testlib import tool

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
VERSION = GALAXY["version"]

# What a release may hold at its top level (MANIFEST.json and FILES.json come from the build).
ALLOWED_TOP = {
    "MANIFEST.json", "FILES.json", "README.md", "COPYING", "CHANGELOG.rst",
    "changelogs", "docs", "meta", "plugins", "roles", "playbooks", "extensions",
    "awx", "collections", "inventory", "execution-environment.yml", "decision-environment.yml",
}
# Development content, wherever the allow-list would let it through.
FORBIDDEN = (
    "molecule/", "scripts/", "requirements/", "tests/", "benchmarks/", "inventory/demo/", ".ci/",
    "build/", "ee/", ".venv/", ".git/", ".ansible/", ".cache/", ".pytest_cache/", "reports/",
    "beatsync-reports/", "pytest.ini", ".ansible-lint", ".gitignore", "changelogs/.plugin-cache.yaml",
)

# [text](target) and ![alt](target) in Markdown, src="..." in HTML, `text <target>`_ in reST.
MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_SRC = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
RST_LINK = re.compile(r"`[^`<]*<([^>`]+)>`__?")
# Ansible documentation markup that reST would print literally.
ANSIBLE_MARKUP = re.compile(r"(?<![\w`])(?:[CMOPIBULEV]|RV)\([^)]*\)")


def _env(home):
    env = dict(os.environ)
    for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_CONFIG"):
        env.pop(var, None)
    env.update(ANSIBLE_HOME=str(home), ANSIBLE_LOCAL_TEMP=str(Path(home) / "tmp"),
               ANSIBLE_NOCOLOR="1", PATH=str(BIN) + os.pathsep + env.get("PATH", ""))
    return env


def _run(cmd, cwd, env, timeout=600):
    proc = subprocess.run(cmd, cwd=str(cwd), env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, "%s -> %d\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(map(str, cmd)), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def _tree_files():
    """The files of the work tree that git would commit (tracked, or untracked and not ignored)."""
    proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          cwd=str(REPO), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip("not a git work tree: %s" % proc.stderr.strip())
    return [p for p in proc.stdout.split("\0") if p and (REPO / p).is_file()]


def _copy_tree(dest):
    for rel in _tree_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    return dest


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """Members of the tarball built from a clean copy of the work tree (no stray build output)."""
    root = tmp_path_factory.mktemp("release")
    src = _copy_tree(root / "src")
    dist = root / "dist"
    dist.mkdir()
    home = root / "home"
    home.mkdir()
    _run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(src)],
         cwd=root, env=_env(home))
    built = sorted(dist.glob("beatsync-ops-*.tar.gz"))
    assert [p.name for p in built] == ["beatsync-ops-%s.tar.gz" % VERSION]
    with tarfile.open(built[0]) as tar:
        members = {m.name: m for m in tar.getmembers()}
        texts = {name: tar.extractfile(m).read().decode("utf-8") for name, m in members.items()
                 if m.isfile() and name.endswith((".md", ".rst"))}
        copying = tar.extractfile("COPYING").read().decode("utf-8") if "COPYING" in members else ""
    return {"files": {n for n, m in members.items() if m.isfile()},
            "dirs": {n for n, m in members.items() if m.isdir()},
            "texts": texts, "copying": copying}


def test_tarball_holds_no_development_content(tarball):
    names = tarball["files"] | tarball["dirs"]
    tops = {name.split("/", 1)[0] for name in names}
    assert not tops - ALLOWED_TOP, (
        "unexpected top-level entries in the tarball (add them to galaxy.yml build_ignore, or to "
        "ALLOWED_TOP if users need them): %s" % sorted(tops - ALLOWED_TOP))
    leaked = sorted(n for n in names for bad in FORBIDDEN
                    if n == bad.rstrip("/") or n.startswith(bad if bad.endswith("/") else bad + "/")
                    or (not bad.endswith("/") and n == bad))
    assert not leaked, "development files in the tarball: %s" % leaked[:20]
    compiled = sorted(n for n in names if "__pycache__" in n.split("/") or n.endswith(".pyc"))
    assert not compiled, compiled[:5]
    for needed in ("README.md", "COPYING", "CHANGELOG.rst", "meta/runtime.yml", "docs/runbook.md",
                   "inventory/example/hosts.yml", "playbooks/diagnose.yml", "playbooks/repair.yml"):
        assert needed in tarball["files"], needed


def test_copying_is_the_full_gpl3(tarball):
    text = tarball["copying"]
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text
    assert "END OF TERMS AND CONDITIONS" in text and "How to Apply These Terms" in text
    debian = Path("/usr/share/common-licenses/GPL-3")
    if debian.is_file():
        assert text == debian.read_text(encoding="utf-8")
    assert "GPL-3.0-or-later" in GALAXY["license"]


def _links(name, text):
    found = MD_LINK.findall(text) + HTML_SRC.findall(text)
    if name.endswith(".rst"):
        found += RST_LINK.findall(text)
    return found


def test_every_relative_link_in_shipped_docs_resolves_inside_the_tarball(tarball):
    shipped = tarball["files"] | tarball["dirs"]
    assert "README.md" in tarball["texts"]
    checked, broken = 0, []
    for name, text in sorted(tarball["texts"].items()):
        for link in _links(name, text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", link, re.I) or link.startswith(("#", "//")):
                continue  # absolute URL, mailto:, in-page anchor
            path = link.split("#", 1)[0].split("?", 1)[0]
            if not path:
                continue
            target = PurePosixPath(name).parent / path
            parts = []
            for part in target.parts:
                if part == "..":
                    if not parts:
                        broken.append("%s: %s leaves the collection" % (name, link))
                        break
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            else:
                resolved = "/".join(parts).rstrip("/")
                checked += 1
                if resolved not in shipped:
                    broken.append("%s: %s -> %s is not in the tarball" % (name, link, resolved))
    assert not broken, "\n".join(broken)
    assert checked >= 4, "expected README's links to docs/runbook.md, docs/architecture.md, CHANGELOG.rst, COPYING"
    for name, text in tarball["texts"].items():
        assert "../shared" not in text, "%s refers to ../shared, which no user's clone has" % name


def _version_tuple(text):
    return tuple(int(x) for x in re.findall(r"\d+", str(text))[:3])


def test_version_added_is_set_and_not_newer_than_the_release():
    problems = []
    # Python plugins carry DOCUMENTATION; filters of a multi-filter file are documented by
    # one YAML file each beside it (ansible-core's way for filter and test plugins).
    yaml_docs = sorted((REPO / "plugins").glob("*/*.yml"))
    yaml_documented = {p.parent / p.stem for p in yaml_docs}
    for path in sorted((REPO / "plugins").glob("*/*.py")) + yaml_docs:
        if path.parent.name in ("module_utils", "plugin_utils", "doc_fragments") or path.name == "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".py" and "DOCUMENTATION" not in source and path.parent.name == "filter":
            provided = re.findall(r'"(\w+)":\s*\w+', source)
            if provided and all(path.parent / name in yaml_documented for name in provided):
                continue  # every filter it provides has its own YAML documentation
        match = re.search(r"^\s*version_added:\s*['\"]?([0-9.]+)", source, re.M)
        if path.parent.name == "action" and (REPO / "plugins" / "modules" / path.name).exists():
            continue  # documented by the module file of the same name
        if not match:
            problems.append("%s: no version_added" % path.relative_to(REPO))
        elif _version_tuple(match.group(1)) > _version_tuple(VERSION):
            problems.append("%s: version_added %s is newer than %s" % (path.relative_to(REPO), match.group(1), VERSION))
    for spec in sorted((REPO / "roles").glob("*/meta/argument_specs.yml")):
        main = (yaml.safe_load(spec.read_text(encoding="utf-8"))["argument_specs"] or {}).get("main") or {}
        added = main.get("version_added")
        if not added:
            problems.append("%s: main entry point has no version_added (antsibull-changelog lists a new role by it)"
                            % spec.relative_to(REPO))
        elif _version_tuple(added) > _version_tuple(VERSION):
            problems.append("%s: version_added %s is newer than %s" % (spec.relative_to(REPO), added, VERSION))
    assert not problems, "\n".join(problems)


def _pinned(requirements, name):
    for line in (REPO / "requirements" / requirements).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^%s==([0-9.]+)\s*$" % re.escape(name), line.strip())
        if match:
            return _version_tuple(match.group(1))
    raise AssertionError("%s is not pinned in requirements/%s" % (name, requirements))


def _ci_toolchains():
    """{requirements file: how CI runs it} for every ansible-core toolchain scripts/test.sh tests.

    The main toolchain (scripts/bootstrap.sh: requirements/toolchain.txt, everything runs on it)
    and each `scripts/test-core-lane.sh LANE` step (requirements/toolchain-LANE.txt: lint, sanity,
    unit tests), read from the script's commands, not its comments.
    """
    commands = [line.split("#", 1)[0] for line in
                (REPO / "scripts" / "test.sh").read_text(encoding="utf-8").splitlines()]
    lane_script = (REPO / "scripts" / "test-core-lane.sh").read_text(encoding="utf-8")
    found = {}
    if any(re.search(r"\bscripts/bootstrap\.sh\b", line) for line in commands):
        found["toolchain.txt"] = "scripts/bootstrap.sh (the main toolchain)"
    for line in commands:
        lanes = re.findall(r"\bscripts/test-core-lane\.sh\s+([\w-]+)", line)
        if re.search(r"\bscripts/test-oldest-core\.sh\b", line):
            lanes.append("py311")  # its entry point: exec test-core-lane.sh py311
        for lane in lanes:
            assert re.search(r"^\s*%s\)" % re.escape(lane), lane_script, re.M), (
                "scripts/test.sh runs lane %r that scripts/test-core-lane.sh does not define" % lane)
            found["toolchain-%s.txt" % lane] = "scripts/test-core-lane.sh %s" % lane
    return found


def test_every_claimed_ansible_core_minor_has_a_ci_lane():
    """requires_ansible claims exactly the minors the toolchains of scripts/test.sh pin."""
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    spec = runtime["requires_ansible"]
    lower = re.search(r">=\s*([0-9.]+)", spec)
    upper = re.search(r"<\s*([0-9.]+)", spec)
    assert lower and upper, "requires_ansible needs a lower and an upper bound: %r" % spec
    low, high = _version_tuple(lower.group(1))[:2], _version_tuple(upper.group(1))[:2]
    assert low[0] == high[0] and low < high, spec
    claimed = {(low[0], minor) for minor in range(low[1], high[1])}
    toolchains = _ci_toolchains()
    assert "toolchain.txt" in toolchains, "scripts/test.sh no longer bootstraps the main toolchain"
    tested = {}
    for name, how in toolchains.items():
        tested.setdefault(_pinned(name, "ansible-core")[:2], []).append("%s (%s)" % (name, how))
    untested = sorted(claimed - set(tested))
    assert not untested, (
        "requires_ansible %r claims ansible-core %s, which no lane in scripts/test.sh tests (add a "
        "requirements/toolchain-LANE.txt and a `scripts/test-core-lane.sh LANE` step), or narrow "
        "the claim; tested: %s" % (spec, ", ".join("%d.%d" % v for v in untested), sorted(tested)))
    unclaimed = sorted(set(tested) - claimed)
    assert not unclaimed, "CI tests ansible-core %s outside requires_ansible %r: %s" % (
        ", ".join("%d.%d" % v for v in unclaimed), spec, [tested[v] for v in unclaimed])


def test_each_toolchain_and_its_constraints_pin_the_same_ansible_core():
    for toolchain in sorted((REPO / "requirements").glob("toolchain*.txt")):
        constraints = toolchain.name.replace("toolchain", "constraints", 1)
        assert (REPO / "requirements" / constraints).is_file(), "%s has no %s" % (toolchain.name, constraints)
        assert _pinned(toolchain.name, "ansible-core") == _pinned(constraints, "ansible-core"), (
            toolchain.name, constraints)


def test_dependencies_have_upper_bounds_and_are_used():
    deps = GALAXY.get("dependencies") or {}
    code = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for top in ("plugins", "roles", "playbooks", "extensions")
                     for p in (REPO / top).rglob("*") if p.is_file() and p.suffix in (".py", ".yml", ".yaml", ".j2"))
    for name, spec in deps.items():
        assert re.search(r">=\s*\d", spec) and re.search(r"<\s*\d", spec), "%s: %r needs >= and < bounds" % (name, spec)
        assert name + "." in code, "%s is a dependency but nothing in the collection uses it" % name


def _release_copy(tmp_path):
    """A copy of the tree with `antsibull-changelog release` run for galaxy.yml's version."""
    changelog = tool("antsibull-changelog")
    dest = _copy_tree(tmp_path / "ansible_collections" / "beatsync" / "ops")
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(tmp_path)
    _run([changelog, "release", "--version", VERSION, "--update-existing"], cwd=dest, env=env)
    return dest


def test_changelog_release_is_clean_and_lists_everything(tmp_path):
    dest = _release_copy(tmp_path)
    text = (dest / "CHANGELOG.rst").read_text(encoding="utf-8")
    markup = sorted(set(ANSIBLE_MARKUP.findall(text)))
    assert not markup, "Ansible markup printed literally in CHANGELOG.rst (use ``...`` in fragments): %s" % markup
    expected = ["beatsync.ops.%s" % p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__"]
    # A filter is named by its documentation: DOCUMENTATION in its .py, or a YAML file per
    # filter beside a file that provides several.
    expected += ["beatsync.ops.%s" % p.stem for p in (REPO / "plugins" / "filter").glob("*.yml")]
    expected += ["beatsync.ops.%s" % p.stem for p in (REPO / "plugins" / "filter").glob("*.py")
                 if p.stem != "__init__" and "DOCUMENTATION" in p.read_text(encoding="utf-8")]
    expected += ["beatsync.ops.%s" % p.parent.parent.name for p in (REPO / "roles").glob("*/meta/argument_specs.yml")]
    expected += ["beatsync.ops.%s" % p.stem for p in (REPO / "playbooks").glob("*.yml")]
    missing = sorted(name for name in set(expected) if not re.search(r"^- %s - " % re.escape(name), text, re.M))
    assert not missing, "not listed as new in CHANGELOG.rst: %s" % missing
    for section in ("New Modules", "New Roles", "New Playbooks", "Release Summary"):
        assert "\n%s\n" % section in text, section
    docutils_core = pytest.importorskip("docutils.core")
    docutils_core.publish_doctree(text, settings_overrides={"halt_level": 2, "report_level": 2})


def test_committed_changelog_is_what_changelog_yaml_renders(tmp_path):
    changelog = tool("antsibull-changelog")
    dest = _copy_tree(tmp_path / "ansible_collections" / "beatsync" / "ops")
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(tmp_path)
    _run([changelog, "generate"], cwd=dest, env=env)
    assert (dest / "CHANGELOG.rst").read_text(encoding="utf-8") == (REPO / "CHANGELOG.rst").read_text(encoding="utf-8"), (
        "CHANGELOG.rst is stale: run antsibull-changelog generate (or release)")
