"""beatsync.ops.diagnose's action: the canonical unit's inputs and the key that lets the run's
workers share one rendering (a host whose inputs differ never gets another host's unit)."""

from __future__ import annotations

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


def test_the_cache_gives_back_what_was_written_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr(action.C, "DEFAULT_LOCAL_TMP", str(tmp_path))
    cache = action._UnitCache("k1")  # pylint: disable=protected-access
    assert cache.read() is None
    cache.write("[Unit]\nDescription=x\n")
    assert cache.read() == "[Unit]\nDescription=x\n"
    assert action._UnitCache("k2").read() is None  # pylint: disable=protected-access
    assert (tmp_path / "beatsync_ops_canonical_unit").stat().st_mode & 0o777 == 0o700
