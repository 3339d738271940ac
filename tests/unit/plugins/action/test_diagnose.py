"""beatsync.ops.diagnose's action: the canonical unit's inputs and the key that lets the run's
workers share one rendering (a host whose inputs differ never gets another host's unit)."""

from __future__ import annotations

import os
import time

import pytest

from ansible_collections.beatsync.ops.plugins.action import diagnose as action


def role_variables(**host):
    variables = dict(action.SERVICE_ROLE_SOURCES["defaults"])
    variables.update(host)
    variables.update(action.SERVICE_ROLE_SOURCES["vars"])
    return variables


def test_the_inputs_follow_the_roles_own_templates():
    # ExecStart reads service__python (vars/main.yml), which reads service_venv and service_python.
    assert {"service_port", "service_app", "service__python", "service_venv", "service_python",
            "service_environment", "service_hardening_options"} <= action.UNIT_INPUTS
    assert "inventory_hostname" not in action.UNIT_INPUTS


def test_the_same_inputs_give_the_same_key_and_any_change_another():
    base = action._unit_key(role_variables())  # pylint: disable=protected-access
    assert base and base == action._unit_key(role_variables(unrelated="x"))  # pylint: disable=protected-access
    for change in ({"service_port": 8001}, {"service_python": "/opt/venv/bin/python"},
                   {"service_environment": {"TOKEN": "a"}}, {"service_hardening": True}):
        assert action._unit_key(role_variables(**change)) not in (None, base), change  # pylint: disable=protected-access


@pytest.mark.parametrize("value", ["{{ site_name }} BeatSync", {"A": "{% if x %}1{% endif %}"}, ["{# note #}"]])
def test_an_inventory_template_among_the_inputs_is_rendered_on_its_host(value):
    name = "service_environment" if isinstance(value, dict) else (
        "service_extra_args" if isinstance(value, list) else "service_description")
    assert action._unit_key(role_variables(**{name: value})) is None  # pylint: disable=protected-access


def test_the_cache_renders_once_and_gives_back_what_it_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(action.C, "DEFAULT_LOCAL_TMP", str(tmp_path))
    calls = []

    def render(text="[Unit]\nDescription=x\n"):
        calls.append(text)
        return text

    cache = action._UnitCache("k1")  # pylint: disable=protected-access
    assert cache.read() is None
    assert cache.get(render) == "[Unit]\nDescription=x\n"
    assert cache.get(render) == "[Unit]\nDescription=x\n" and len(calls) == 1
    assert action._UnitCache("k2").get(lambda: render("other")) == "other"  # pylint: disable=protected-access
    assert len(calls) == 2
    assert (tmp_path / "beatsync_ops_canonical_unit").stat().st_mode & 0o777 == 0o700


def test_workers_starting_together_render_once(tmp_path, monkeypatch):
    """Forked processes, as Ansible's workers are: the first renders under the lock, the others
    wait and read what it kept."""
    monkeypatch.setattr(action.C, "DEFAULT_LOCAL_TMP", str(tmp_path))
    marks = tmp_path / "renders"
    marks.mkdir()

    def render():
        (marks / str(os.getpid())).write_text("x")
        time.sleep(0.3)  # long enough for every worker to reach the lock
        return "[Unit]\n"

    children = []
    for dummy in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's exit code is the assertion
            code = 0 if action._UnitCache("k").get(render) == "[Unit]\n" else 1  # pylint: disable=protected-access
            os._exit(code)  # pylint: disable=protected-access
        children.append(pid)
    codes = [os.waitpid(pid, 0)[1] for pid in children]
    assert codes == [0, 0, 0, 0]
    assert len(list(marks.iterdir())) == 1


def test_a_cache_that_cannot_be_written_only_means_rendering(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setattr(action.C, "DEFAULT_LOCAL_TMP", str(blocked))
    assert action._UnitCache("k").get(lambda: "rendered") == "rendered"  # pylint: disable=protected-access


def test_ansible_doc_reads_the_action_file_without_a_warning(capfd):
    """ansible-doc and ansible-lint read an action file's top-level names; one they cannot name
    (a tuple target) printed "failed to assign id" in every lint run."""
    from ansible.parsing.plugin_docs import read_docstring  # pylint: disable=import-outside-toplevel
    read_docstring(action.__file__)
    assert "failed to assign id" not in capfd.readouterr().err
