"""awx/beatsync_awx_import.json (the `awx import` file): survey specs follow AWX's
survey-spec rules, and every survey/schedule variable is a real variable of the playbooks
and roles it is given to, with a compatible type."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testlib import REPO

IMPORT_FILE = REPO / "awx" / "beatsync_awx_import.json"
DATA = json.loads(IMPORT_FILE.read_text())
TEMPLATES = {template["name"]: template for template in DATA["job_templates"]}

# AWX's survey question types (awx/main/models/mixins.py SurveyJobTemplateMixin).
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
REQUIRED_KEYS = {"question_name", "variable", "type", "required"}
# argument_specs type -> survey types that give a value the role accepts
COMPATIBLE = {
    "int": {"integer"}, "float": {"integer", "float"}, "str": {"text", "textarea", "password", "multiplechoice"},
    "path": {"text"}, "bool": {"multiplechoice"}, "list": {"multiselect"},
}
RRULE = re.compile(r"^DTSTART;TZID=[A-Za-z_/+-]+:\d{8}T\d{6} RRULE:FREQ=(MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)"
                   r"(;INTERVAL=\d+)?(;(BYDAY|BYHOUR|BYMINUTE|BYMONTHDAY|COUNT|UNTIL)=[A-Z0-9,]+)*$")


def role_options():
    """{variable: {type, choices, default, roles}} from every roles/*/meta/argument_specs.yml."""
    options = {}
    for path in sorted(REPO.glob("roles/*/meta/argument_specs.yml")):
        spec = yaml.safe_load(path.read_text())["argument_specs"]["main"]["options"]
        for name, option in spec.items():
            entry = options.setdefault(name, {"type": option.get("type", "str"), "choices": option.get("choices"),
                                              "roles": []})
            entry["roles"].append(path.parts[-3])
    return options


def playbook_variables(playbook):
    """beatsync_* variables a playbook reads itself (play keywords, vars, tasks, task files)."""
    text = (REPO / playbook).read_text()
    for task_file in (REPO / "playbooks" / "tasks").glob("*.yml"):
        text += task_file.read_text()
    return set(re.findall(r"\b(beatsync_[a-z0-9_]+)\b", text))


def playbook_roles(playbook):
    return set(re.findall(r"name: beatsync\.ops\.([a-z_]+)", (REPO / playbook).read_text()))


def questions():
    return [pytest.param(template, question, id="%s:%s" % (name, question["variable"]))
            for name, template in TEMPLATES.items()
            for question in template["related"]["survey_spec"]["spec"]]


def test_both_templates_and_their_job_types():
    assert set(TEMPLATES) == {"BeatSync diagnose", "BeatSync repair"}
    diagnose, repair = TEMPLATES["BeatSync diagnose"], TEMPLATES["BeatSync repair"]
    assert diagnose["job_type"] == "check" and diagnose["ask_job_type_on_launch"]
    assert repair["job_type"] == "run"
    for template in TEMPLATES.values():
        assert template["job_type"] in ("run", "check")
        assert (REPO / template["playbook"]).is_file(), template["playbook"]
        assert template["survey_enabled"] and template["ask_limit_on_launch"]
        assert template["natural_key"] == {"organization": template["project"]["organization"],
                                           "name": template["name"], "type": "job_template"}
        project = [p for p in DATA["projects"] if p["natural_key"] == template["project"]]
        inventory = [i for i in DATA["inventory"] if i["natural_key"] == template["inventory"]]
        assert project and inventory
        assert yaml.safe_load(template["extra_vars"])


def test_surveys_ask_what_the_issue_asks():
    wanted = {"beatsync_hosts", "beatsync_port", "beatsync_service"}
    for template in TEMPLATES.values():
        variables = [q["variable"] for q in template["related"]["survey_spec"]["spec"]]
        assert len(variables) == len(set(variables)), "duplicate survey variables"
        assert wanted <= set(variables)
    repair = {q["variable"] for q in TEMPLATES["BeatSync repair"]["related"]["survey_spec"]["spec"]}
    assert {"beatsync_manage_firewall", "beatsync_restart_budget"} <= repair


@pytest.mark.parametrize("template, question", questions())
def test_survey_question_follows_the_rules(template, question):
    assert REQUIRED_KEYS <= set(question), REQUIRED_KEYS - set(question)
    assert question["type"] in SURVEY_TYPES
    assert isinstance(question["required"], bool)
    assert re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", question["variable"])
    assert question["question_name"].strip()
    default = question.get("default")
    kind = question["type"]
    if kind in ("integer", "float"):
        assert "min" in question and "max" in question and question["min"] <= question["max"]
        assert isinstance(default, int if kind == "integer" else (int, float)) and not isinstance(default, bool)
        assert question["min"] <= default <= question["max"]
    elif kind in ("multiplechoice", "multiselect"):
        choices = question["choices"]
        choices = choices.split("\n") if isinstance(choices, str) else choices
        assert choices and len(choices) == len(set(choices))
        selected = default.split("\n") if kind == "multiselect" and default else [default]
        assert all(item in choices for item in selected), (default, choices)
    else:
        assert isinstance(default, str)
        if "min" in question:
            assert question["min"] <= len(default) <= question["max"]
    if question["required"]:
        assert default not in (None, ""), "a required question needs a default for schedules"


@pytest.mark.parametrize("template, question", questions())
def test_survey_variable_is_a_real_variable(template, question):
    variable = question["variable"]
    playbook = template["playbook"]
    options = role_options()
    used_by_playbook = playbook_variables(playbook)
    roles = playbook_roles(playbook)
    role_option = options.get(variable)
    in_roles = role_option is not None and set(role_option["roles"]) & roles
    assert variable in used_by_playbook or in_roles, \
        "%s is neither read by %s nor an option of its roles %s" % (variable, playbook, sorted(roles))
    if in_roles:
        assert question["type"] in COMPATIBLE[role_option["type"]], (variable, role_option["type"])
        if role_option["type"] == "bool":
            assert sorted(question["choices"]) == ["false", "true"]
        if role_option["choices"]:
            assert question["type"] == "multiplechoice" and set(question["choices"]) <= set(role_option["choices"])


def test_repair_template_reaches_the_repair_role_options():
    options = role_options()
    for variable in ("beatsync_manage_firewall", "beatsync_restart_budget"):
        assert "repair" in options[variable]["roles"]
    assert "repair" in playbook_roles("playbooks/repair.yml")


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_schedule_examples(name):
    template = TEMPLATES[name]
    schedules = template["related"]["schedules"]
    assert schedules
    survey = {q["variable"] for q in template["related"]["survey_spec"]["spec"]}
    for schedule in schedules:
        assert RRULE.match(schedule["rrule"]), schedule["rrule"]
        assert schedule["unified_job_template"] == template["natural_key"]
        assert set(schedule["extra_data"]) <= survey, "schedule extra_data must be survey answers"


def test_machine_credential_without_secrets():
    [credential] = DATA["credentials"]
    assert credential["credential_type"] == {"name": "Machine", "kind": "ssh", "type": "credential_type"}
    assert credential["natural_key"] == {"organization": credential["organization"], "name": credential["name"],
                                         "credential_type": credential["credential_type"], "type": "credential"}
    inputs = credential["inputs"]
    assert inputs["username"] and inputs["become_method"] == "sudo" and inputs["become_username"] == "root"
    # an import file is shared: no secret travels in it (the key is added in AWX)
    assert not set(inputs) & {"password", "ssh_key_data", "ssh_key_unlock", "become_password"}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_use_the_credential_and_become(name):
    template = TEMPLATES[name]
    [credential] = DATA["credentials"]
    assert template["related"]["credentials"] == [credential["natural_key"]]
    assert template["become_enabled"] is True, "the runbook's commands need root"
    assert template["allow_simultaneous"] is False


def test_repair_prompts_for_the_credential():
    repair = TEMPLATES["BeatSync repair"]
    assert repair["ask_credential_on_launch"] is True
    assert repair["allow_simultaneous"] is False, "two repairs of one host at a time"


def test_inventory_has_the_projects_inventory_as_source():
    [inventory] = DATA["inventory"]
    [source] = inventory["related"]["inventory_sources"]
    assert source["source"] == "scm"
    assert source["source_project"] == DATA["projects"][0]["natural_key"]
    assert source["natural_key"] == {"name": source["name"], "inventory": inventory["natural_key"],
                                     "type": "inventory_source"}
    assert (REPO / source["source_path"]).is_file(), source["source_path"]
    assert source["update_on_launch"] and source["overwrite"]


def test_the_inventory_source_gives_the_hosts_the_credential_reaches(tmp_path):
    """ansible-inventory on the source path (what AWX's inventory update runs): hosts in group
    beatsync, with the group_vars beside the file: the credential's user and become."""
    [source] = DATA["inventory"][0]["related"]["inventory_sources"]
    [credential] = DATA["credentials"]
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(REPO / source["source_path"]),
                           "--list", "--export"], capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["beatsync"]["hosts"]
    group_vars = data["beatsync"]["vars"]
    assert group_vars["ansible_user"] == credential["inputs"]["username"]
    assert group_vars["ansible_become"] is True
