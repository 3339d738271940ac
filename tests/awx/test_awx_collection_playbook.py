"""awx/configure_awx.yml, the awx.awx form of the job templates: run for real by
ansible-playbook, with the awx.awx modules replaced by stand-ins (awx.awx and an AWX server are
not available here). Each stand-in accepts exactly the options the real module has (names
from ansible/awx awx_collection/plugins/modules/*.py), so a misspelt or unknown option fails
as it would against AWX, and returns what it was given; the test checks that against
awx/beatsync_awx_import.json, the awx-import form."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from testlib import COLLECTIONS_PATH, REPO, ansible_env

PLAYBOOK = REPO / "awx" / "configure_awx.yml"
IMPORT = json.loads((REPO / "awx" / "beatsync_awx_import.json").read_text())

_COMMON = ["name", "new_name", "description", "organization", "state"]
# Option names of the awx.awx modules (awx_collection/plugins/modules/<name>.py, AWX 24.x).
REAL_OPTIONS = {
    "execution_environment": _COMMON + ["image", "credential", "pull", "copy_from"],
    "credential": _COMMON + ["copy_from", "credential_type", "inputs", "update_secrets", "user", "team"],
    "project": _COMMON + [
        "copy_from", "scm_type", "scm_url", "local_path", "scm_branch", "scm_refspec", "credential", "scm_clean",
        "scm_delete_on_update", "scm_track_submodules", "scm_update_on_launch", "scm_update_cache_timeout",
        "allow_override", "timeout", "default_environment", "custom_virtualenv", "notification_templates_started",
        "notification_templates_success", "notification_templates_error", "signature_validation_credential",
        "wait", "update_project", "interval"],
    "inventory": _COMMON + ["copy_from", "variables", "kind", "host_filter", "instance_groups",
                            "prevent_instance_group_fallback", "input_inventories"],
    "inventory_source": ["name", "new_name", "description", "inventory", "source", "source_path", "source_vars",
                         "enabled_var", "enabled_value", "host_filter", "credential", "execution_environment",
                         "custom_virtualenv", "organization", "overwrite", "overwrite_vars", "timeout", "verbosity",
                         "update_on_launch", "update_cache_timeout", "source_project", "scm_branch",
                         "notification_templates_started", "notification_templates_success",
                         "notification_templates_error", "state"],
    "job_template": _COMMON + [
        "copy_from", "job_type", "inventory", "project", "playbook", "credential", "credentials", "execution_environment",
        "forks", "limit", "verbosity", "extra_vars", "job_tags", "force_handlers", "skip_tags", "start_at_task",
        "timeout", "use_fact_cache", "host_config_key", "ask_scm_branch_on_launch", "ask_diff_mode_on_launch",
        "ask_variables_on_launch", "ask_limit_on_launch", "ask_tags_on_launch", "ask_skip_tags_on_launch",
        "ask_job_type_on_launch", "ask_verbosity_on_launch", "ask_inventory_on_launch", "ask_credential_on_launch",
        "ask_execution_environment_on_launch", "ask_forks_on_launch", "ask_instance_groups_on_launch",
        "ask_job_slice_count_on_launch", "ask_labels_on_launch", "ask_timeout_on_launch", "survey_enabled",
        "survey_spec", "become_enabled", "diff_mode", "allow_simultaneous", "custom_virtualenv", "job_slice_count",
        "webhook_service", "webhook_credential", "labels", "notification_templates_started",
        "notification_templates_success", "notification_templates_error", "instance_groups",
        "prevent_instance_group_fallback", "scm_branch"],
    "schedule": _COMMON + [
        "rrule", "execution_environment", "extra_data", "inventory", "credentials", "labels", "instance_groups",
        "scm_branch", "job_type", "job_tags", "skip_tags", "limit", "diff_mode", "verbosity", "forks",
        "job_slice_count", "timeout", "unified_job_template", "enabled"],
}

STAND_IN = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

OPTIONS = %r


def main():
    module = AnsibleModule(argument_spec={name: dict(type="raw") for name in OPTIONS}, supports_check_mode=True)
    module.exit_json(changed=False, sent={key: value for key, value in module.params.items() if value is not None})


if __name__ == "__main__":
    main()
'''


def stand_in_collection(root):
    modules = root / "ansible_collections" / "awx" / "awx" / "plugins" / "modules"
    modules.mkdir(parents=True)
    (modules.parent.parent / "galaxy.yml").write_text("namespace: awx\nname: awx\nversion: 0.0.0-standin\n")
    for name, options in REAL_OPTIONS.items():
        (modules / (name + ".py")).write_text(STAND_IN % (options,))
    return root


def run(tmp_path, *args):
    env = ansible_env()
    env["ANSIBLE_COLLECTIONS_PATH"] = "%s:%s" % (stand_in_collection(tmp_path / "standin"), COLLECTIONS_PATH)
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(PLAYBOOK), *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    data = json.loads(proc.stdout)
    sent = {}
    for task in data["plays"][0]["tasks"]:
        result = task["hosts"]["localhost"]
        assert not result.get("failed"), (task["task"]["name"], result)
        sent[task["task"]["name"]] = [item["sent"] for item in result["results"]]
    return proc.returncode, sent


def test_every_object_of_the_import_file_is_configured_with_its_values(tmp_path):
    rc, sent = run(tmp_path)
    assert rc == 0
    [ee] = sent["Execution environment"]
    assert ee == {"name": "BeatSync EE", "description": IMPORT["execution_environments"][0]["description"],
                  "image": IMPORT["execution_environments"][0]["image"], "pull": "missing",
                  "organization": "Default", "state": "present"}
    [credential] = sent["Machine credential (SSH user and become)"]
    source = IMPORT["credentials"][0]
    assert credential == {"name": "BeatSync machine", "description": source["description"], "organization": "Default",
                          "credential_type": "Machine", "inputs": source["inputs"], "update_secrets": False,
                          "state": "exists"}, "without a key file an existing credential must be left alone"
    [project] = sent["Project"]
    assert project["scm_url"] == IMPORT["projects"][0]["scm_url"] and project["default_environment"] == "BeatSync EE"
    [inventory] = sent["Inventory"]
    assert inventory["variables"] == {"beatsync_port": 8000}

    [inventory_source] = sent["Inventory source (the project's inventory file)"]
    assert inventory_source == {
        "name": "BeatSync hosts from the project", "inventory": "BeatSync", "organization": "Default",
        "description": IMPORT["inventory"][0]["related"]["inventory_sources"][0]["description"],
        "source": "scm", "source_project": "BeatSync ops", "source_path": "inventory/example/hosts.yml",
        "overwrite": True, "overwrite_vars": True, "update_on_launch": True, "update_cache_timeout": 300,
        "verbosity": 1, "state": "present"}

    templates = {item["name"]: item for item in sent["Job templates with their credential and surveys"]}
    assert set(templates) == {"BeatSync diagnose", "BeatSync repair"}
    for source in IMPORT["job_templates"]:
        got = templates[source["name"]]
        assert got["survey_spec"] == source["related"]["survey_spec"]
        assert got["extra_vars"] == yaml.safe_load(source["extra_vars"])
        assert (got["project"], got["inventory"], got["organization"]) == ("BeatSync ops", "BeatSync", "Default")
        for key in ("playbook", "job_type", "ask_limit_on_launch", "ask_job_type_on_launch", "become_enabled",
                    "survey_enabled", "allow_simultaneous", "ask_credential_on_launch"):
            assert got[key] == source[key], key
        assert got["credentials"] == ["BeatSync machine"]
    assert templates["BeatSync diagnose"]["job_type"] == "check"
    repair = templates["BeatSync repair"]
    assert repair["ask_credential_on_launch"] is True and repair["allow_simultaneous"] is False

    schedules = {item["name"]: item for item in sent["Schedules (created disabled, as examples)"]}
    expected = {schedule["name"]: schedule for template in IMPORT["job_templates"]
                for schedule in template["related"]["schedules"]}
    assert set(schedules) == set(expected) and schedules
    for name, schedule in expected.items():
        assert schedules[name]["rrule"] == schedule["rrule"]
        assert schedules[name]["extra_data"] == schedule["extra_data"]
        assert schedules[name]["unified_job_template"] == schedule["unified_job_template"]["name"]
        assert schedules[name]["enabled"] is False


def test_a_key_file_sets_the_credential_key(tmp_path):
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n")
    rc, sent = run(tmp_path, "-e", "beatsync_awx_ssh_key_file=%s" % key)
    assert rc == 0
    [credential] = sent["Machine credential (SSH user and become)"]
    assert credential["state"] == "present" and credential["update_secrets"] is True
    assert credential["inputs"] == dict(IMPORT["credentials"][0]["inputs"], ssh_key_data=key.read_text().rstrip("\n"))


def test_the_playbook_uses_only_options_the_real_modules_have():
    play = yaml.safe_load(PLAYBOOK.read_text())[0]
    used = 0
    for task in play["tasks"]:
        [module] = [key for key in task if key.startswith("awx.awx.")]
        unknown = set(task[module]) - set(REAL_OPTIONS[module.split(".")[-1]])
        assert not unknown, (module, unknown)
        used += 1
    assert used == len(REAL_OPTIONS)
