# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this plugin_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Action options read from the collection's beatsync_* variables.

Operators set a value once in their inventory (beatsync_port, beatsync_report_dir ...) and
every task of the collection reads it. An action does that itself instead of its task writing
``option: "{{ beatsync_x | default(...) }}"`` for each option: such a task templates every
option in every run (a Jinja compile each, in the worker), and writes each default a second
time beside the action's argument spec.
"""

from __future__ import annotations

import re


def options_from_variables(args, task_vars, templar, variables):
    """Set each option of ``variables`` (option -> variable name) that ``args`` (the task's
    arguments, changed in place) lacks from its variable, when that is set (not undefined,
    null or ""). Returns {option: variable} for the options it set."""
    used = {}
    for option, variable in variables.items():
        if option not in args and task_vars.get(variable) not in (None, ""):
            args[option] = templar.template(task_vars[variable])
            used[option] = variable
    return used


def naming_variables(exc, used):
    """The message of exc, plus the variable of each option it names that was read from one:
    the operator set beatsync_port, not the action's ``port``."""
    message = getattr(exc, "message", None) or str(exc)
    # Whole option names only: a message about dir_mode is not about dir.
    named = ["%s (from %s)" % (option, variable) for option, variable in sorted(used.items())
             if re.search(r"(?<![\w])%s(?![\w])" % re.escape(option), message)]
    return message + ("; options set through inventory variables: %s" % ", ".join(named) if named else "")
