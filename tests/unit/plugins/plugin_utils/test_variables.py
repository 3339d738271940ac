"""plugin_utils/_variables.py: an action's options from their beatsync_* variables (only the
ones the task did not set, only when set, templated as the play would), and a message that names
the variable an option came from. With ansible-core's own Templar."""

from __future__ import annotations

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.beatsync.ops.plugins.plugin_utils._variables import naming_variables, options_from_variables

VARIABLES = {"dir": "beatsync_report_dir", "mode": "beatsync_report_mode", "metrics_file": "beatsync_metrics_file"}


def fill(args, task_vars):
    templar = Templar(loader=DataLoader(), variables=task_vars)
    return options_from_variables(args, task_vars, templar, VARIABLES)


def test_an_unset_option_comes_from_its_variable():
    args = {}
    used = fill(args, {"beatsync_report_dir": "/srv/reports", "beatsync_report_mode": "0640"})
    assert args == {"dir": "/srv/reports", "mode": "0640"}
    assert used == {"dir": "beatsync_report_dir", "mode": "beatsync_report_mode"}


def test_the_tasks_own_option_wins():
    args = {"dir": "/from/the/task"}
    used = fill(args, {"beatsync_report_dir": "/srv/reports"})
    assert args == {"dir": "/from/the/task"} and used == {}


def test_undefined_null_and_empty_variables_leave_the_option_unset():
    args = {}
    used = fill(args, {"beatsync_report_dir": None, "beatsync_metrics_file": ""})
    assert args == {} and used == {}


def test_a_template_in_a_variable_is_rendered():
    args = {}
    fill(args, {"base": "/srv", "beatsync_report_dir": trust_as_template("{{ base }}/reports")})
    assert args == {"dir": "/srv/reports"}


def test_the_message_names_the_variable_of_the_option_it_names():
    used = {"mode": "beatsync_report_mode", "dir": "beatsync_report_dir"}
    message = naming_variables(ValueError("mode must be an octal string, got 'rw-r--r--'"), used)
    assert message == ("mode must be an octal string, got 'rw-r--r--'; "
                       "options set through inventory variables: mode (from beatsync_report_mode)")
    assert naming_variables(ValueError("port 0 is out of range"), used) == "port 0 is out of range"


def test_an_option_is_named_by_its_whole_name_only():
    used = {"dir": "beatsync_report_dir", "dir_mode": "beatsync_report_dir_mode"}
    message = naming_variables(ValueError("dir_mode must be an octal string"), used)
    assert message.endswith("options set through inventory variables: dir_mode (from beatsync_report_dir_mode)")
