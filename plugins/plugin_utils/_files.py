# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this plugin_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Controller-side file writing for the collection's action plugins (write_metrics, write_reports).

``write_atomic`` replaces a file so that readers (node_exporter, a person, a scheduler) see the
old content or the new one, never a part. ``FileWriteAction`` is the action plugin both share:
controller only, arguments checked against ``ARGUMENT_SPEC``, the plugin's own errors turned
into a failed result with their message, never ``changed``.
"""

from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.beatsync.ops.plugins.plugin_utils._variables import naming_variables, options_from_variables


class AtomicWriteError(Exception):
    """A file could not be written. ``in_directory`` is True when not even the temporary file
    could be created (the directory is not writable); ``reason`` is the system's word for it."""

    def __init__(self, path, reason, in_directory=False):
        self.path, self.reason, self.in_directory = path, reason, in_directory
        if in_directory:
            super().__init__("cannot write in the directory %s: %s" % (os.path.dirname(path), reason))
        else:
            super().__init__("cannot write %s: %s" % (path, reason))


def write_atomic(path, text, mode):
    """Write text (UTF-8) to path with permissions mode: a temporary file in the same directory,
    written, fsync'ed, chmod'ed, then renamed over path. On failure the temporary file is removed
    and path is left as it was; an OSError becomes AtomicWriteError."""
    directory, name = os.path.split(path)
    try:
        handle, tmp_path = tempfile.mkstemp(dir=directory, prefix=".%s." % name, suffix=".tmp")
    except OSError as exc:
        raise AtomicWriteError(path, exc.strerror or str(exc), in_directory=True) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException as exc:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        if isinstance(exc, OSError):
            raise AtomicWriteError(path, exc.strerror or str(exc)) from None
        raise


class FileWriteAction(ActionBase):
    """Base of an action plugin that writes files on the controller only.

    Subclasses set ``ARGUMENT_SPEC``, ``ERRORS`` (the exception classes whose message is the
    failure message, after ``ERROR_PREFIX``), optionally ``VARIABLES`` (option -> the beatsync_*
    variable an option the task does not set is read from, see _variables) and define
    ``write(args, task_vars)``, which returns the result's keys. The result never reports
    ``changed``; a message about an option read from a variable names the variable."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    ARGUMENT_SPEC = {}
    ERRORS = ()
    ERROR_PREFIX = ""
    VARIABLES = {}

    def write(self, args, task_vars):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        from_variables = options_from_variables(self._task.args, task_vars, self._templar, self.VARIABLES)
        try:
            dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        except AnsibleActionFail as exc:
            return dict(result, failed=True, msg=naming_variables(exc, from_variables))
        try:
            values = self.write(args, task_vars)
        except self.ERRORS as exc:
            return dict(result, failed=True, msg="%s%s" % (self.ERROR_PREFIX, naming_variables(exc, from_variables)))
        return dict(result, changed=False, **values)
