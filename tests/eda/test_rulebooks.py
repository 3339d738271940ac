"""Both shipped rulebooks through ansible-rulebook's own schema validator and rule parser
(conditions parsed by its condition grammar), and the controller form kept in step with the
CLI form: the same source, the same rules in the same order, run_job_template where the CLI
runs run_playbook. (run_job_template needs an AWX controller, which does not run here; the
rules themselves run for real in test_rulebook_repair.py and test_rulebook_escalation.py.)"""

from __future__ import annotations

import json

import pytest
import yaml

from testlib import REPO

rulebook_parser = pytest.importorskip("ansible_rulebook.rules_parser")
validators = pytest.importorskip("ansible_rulebook.validators")

RULEBOOKS = REPO / "extensions" / "eda" / "rulebooks"
CLI = RULEBOOKS / "beatsync_repair.yml"
CONTROLLER = RULEBOOKS / "beatsync_repair_controller.yml"
IMPORT = REPO / "awx" / "beatsync_awx_import.json"


def _load(path):
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", [CLI, CONTROLLER], ids=lambda path: path.name)
def test_rulebook_is_valid(path):
    data = _load(path)
    validators.Validate.rulebook(data)
    assert len(data) == 1
    for rule in data[0]["rules"]:
        assert rulebook_parser.parse_condition(rule["condition"]), rule["name"]


def _actions(rule):
    return [next(iter(action)) for action in rule.get("actions") or [rule["action"]]]


def test_controller_rulebook_matches_the_cli_one():
    cli, controller = _load(CLI)[0], _load(CONTROLLER)[0]
    assert cli["sources"][0]["beatsync.ops.beatsync_probe"].keys() == \
        controller["sources"][0]["beatsync.ops.beatsync_probe"].keys()
    artifact_rules = [rule for rule in controller["rules"] if "beatsync_unhealthy" in rule["condition"]]
    assert len(artifact_rules) == 2
    rules = [rule for rule in controller["rules"] if rule not in artifact_rules]
    assert [rule["condition"] for rule in rules] == [rule["condition"] for rule in cli["rules"]]
    for cli_rule, rule in zip(cli["rules"], rules):
        assert [name.replace("run_playbook", "run_job_template") for name in _actions(cli_rule)] == _actions(rule)
    assert not any("run_playbook" in _actions(rule) for rule in controller["rules"])


def test_controller_rulebook_launches_the_imported_template():
    awx = json.loads(IMPORT.read_text())
    template = next(item for item in awx["job_templates"] if item["name"] == "BeatSync repair")
    launches = [action["run_job_template"] for rule in _load(CONTROLLER)[0]["rules"]
                for action in rule.get("actions") or [rule["action"]] if "run_job_template" in action]
    assert len(launches) == 2
    for launch in launches:
        assert "'%s'" % template["name"] in launch["name"]
        assert "'%s'" % template["project"]["organization"]["name"] in launch["organization"]
        assert launch["post_events"] is True and launch["job_args"]["limit"] == "{{ event.host }}"
        # the template takes no free extra vars, only its survey's: beatsync_hosts is one of them
        survey = [question["variable"] for question in template["related"]["survey_spec"]["spec"]]
        assert set(launch["job_args"]["extra_vars"]) <= set(survey)
        assert launch["include_events"] is False
