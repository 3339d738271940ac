#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deps_probe
short_description: Check that BeatSync's interpreter can import its dependencies and compile the app
version_added: 0.1.0
description:
  - The runbook's C(python3 -c "import fastapi; import uvicorn"), its C(pip3 install -r requirements.txt) question and
    "check the code for syntax errors", asked of the interpreter the unit really runs (give the C(interpreter) that
    M(beatsync.ops.unit_probe) returns as O(python)).
  - Runs one small standard-library script in O(python) (C(python -I -c), working directory O(app_dir)) that imports
    each of O(modules), reads the installed version of every requirement with C(importlib.metadata), and compiles
    O(app_module) from source (no C(.pyc) is written) to find syntax errors with that interpreter's grammar.
  - Parses O(requirements_file) (names and version specifiers; comments, options such as C(-r) and C(--index-url),
    and URLs are skipped; environment markers are kept but not evaluated) and checks each installed version against
    its specifier (C(==), C(!=), C(>=), C(<=), C(>), C(<), C(~=), C(===), C(==1.2.*)) without needing C(packaging).
  - A missing interpreter, app directory or requirements file is reported in RV(error) and the other fields,
    never as a module failure.
  - Importing a module runs its code in O(python), as the service itself would.
author:
  - BeatSync operations (@beatsync)
options:
  python:
    description:
      - The Python interpreter to check, an absolute path or a name looked up on C(PATH).
      - When omitted, C(/usr/bin/python3), the interpreter of the runbook's unit.
    type: str
  app_dir:
    description:
      - The application directory (the unit's C(WorkingDirectory)), an absolute path.
    type: path
    default: /opt/beatsync/web_service/backend
  requirements_file:
    description:
      - The requirements file, relative to O(app_dir) unless absolute. An empty string skips the requirements check.
    type: str
    default: requirements.txt
  app_module:
    description:
      - The application source file to compile, relative to O(app_dir) unless absolute. An empty string skips the
        syntax check.
    type: str
    default: main.py
  modules:
    description:
      - Python modules that must import, at most 50.
    type: list
    elements: str
    default: [fastapi, uvicorn]
  timeout:
    description:
      - Seconds the check in O(python) may take, imports included. Must be greater than 0.
    type: float
    default: 30
  user:
    description:
      - Run O(python) as this user (the unit's C(User=)), with C(-I) and a clean environment, because the interpreter runs
        the app's code (C(.pth) files, imports), so it gets no more privilege than the service has.
      - Unset runs it as the user the module runs as. Switching users needs root; without root and with another
        user, it runs as the module's own (non-root) user and RV(run_as) says so in its C(error).
    type: str
  group:
    description:
      - The group for O(user) (the unit's C(Group=)); unset means the user's primary group.
    type: str
extends_documentation_fragment:
  - beatsync.ops.probe
seealso:
  - module: beatsync.ops.unit_probe
"""

EXAMPLES = r"""
- name: Find the interpreter the unit runs
  beatsync.ops.unit_probe:
  register: unit

- name: Can it import FastAPI, uvicorn and the requirements, and does main.py compile
  beatsync.ops.deps_probe:
    python: "{{ unit.interpreter | default(omit, true) }}"
    app_dir: /opt/beatsync/web_service/backend
  register: deps

- name: Say what pip3 install -r requirements.txt would have to fix
  ansible.builtin.debug:
    msg: "missing {{ deps.missing }}, wrong versions {{ deps.unsatisfied }}"
  when: deps.missing or deps.unsatisfied
"""

RETURN = r"""
interpreter:
  description: The interpreter checked (resolved to a path when found).
  returned: always
  type: str
  sample: /usr/bin/python3
interpreter_found:
  description: Whether the interpreter exists and is executable.
  returned: always
  type: bool
  sample: true
python_version:
  description: The interpreter's version, or V(null) when the check did not run.
  returned: always
  type: str
  sample: 3.11.2
app_dir:
  description: The application directory.
  returned: always
  type: str
  sample: /opt/beatsync/web_service/backend
app_dir_exists:
  description: Whether O(app_dir) is a directory.
  returned: always
  type: bool
  sample: true
requirements_file:
  description: The requirements file path read, or V(null) when skipped.
  returned: always
  type: str
  sample: /opt/beatsync/web_service/backend/requirements.txt
requirements_found:
  description: Whether the requirements file could be read.
  returned: always
  type: bool
  sample: true
imports:
  description: For each of O(modules), C(ok) (it imported), C(version) (installed version) and C(error) (the exception).
  returned: always
  type: dict
  sample: {"fastapi": {"ok": false, "version": null, "error": "ModuleNotFoundError: No module named 'fastapi'"}}
requirements:
  description:
    - One entry per requirement of the file and the files it includes with C(-r) (followed, at most 5 levels and
      20 files), checked in O(python) itself (PEP 508 markers in its environment, PEP 440 versions), with
      C(name), C(specifier), C(marker), C(file), C(line), C(installed) (version or V(null)), C(applies) (the
      marker holds), C(status) (V(ok), V(missing), V(mismatch), V(not_applicable), V(unsupported), V(invalid)),
      C(satisfied) (true, false, or V(null) when it cannot be told or does not apply) and C(error).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "fastapi", "specifier": ">=0.100", "installed": "0.110.0", "status": "ok", "satisfied": true,
            "applies": true, "marker": null, "file": "/opt/beatsync/web_service/backend/requirements.txt", "line": 1,
            "error": null}]
requirements_skipped:
  description: Requirement file options ignored on purpose (such as C(--index-url)).
  returned: always
  type: list
  elements: str
  sample: ["--index-url https://pypi.org/simple"]
requirements_files:
  description: The requirements files read, the top one first, then the C(-r) includes.
  returned: always
  type: list
  elements: str
requirements_backend:
  description: What compared the versions in O(python) (V(pip._vendor.packaging) or V(stdlib)), or V(null).
  returned: always
  type: str
run_as:
  description:
    - Who ran O(python) (C(user), C(group), C(uid), C(gid), C(switched)), C(uid_seen) (the uid the interpreter
      itself reported) and C(error) (why it could not switch, or V(null)).
  returned: always
  type: dict
  sample: {"user": "beatsync", "group": "beatsync", "uid": 999, "gid": 999, "uid_seen": 999, "switched": true, "error": null}
missing:
  description: Modules or requirements that are not installed (what C(pip3 install -r requirements.txt) would add).
  returned: always
  type: list
  elements: str
  sample: [fastapi, uvicorn]
unsatisfied:
  description: Requirements installed in a version that does not satisfy their specifier.
  returned: always
  type: list
  elements: str
  sample: []
syntax:
  description:
    - The syntax check of O(app_module) with C(checked) (it was compiled), C(ok), C(file), C(line), C(offset),
      C(message) and C(text) (the offending source line).
  returned: always
  type: dict
  sample: {"checked": true, "ok": false, "file": "/opt/beatsync/web_service/backend/main.py", "line": 5,
           "offset": 12, "message": "SyntaxError: invalid syntax", "text": "def health(:"}
checked_in:
  description:
    - Where the check ran. V(interpreter) is O(python) started as O(user)/O(group) with C(-I) (always when
      O(modules) is not empty). V(module) is the module's own process, when nothing is to be imported, the versions are
      compared without pip's C(packaging), O(python) is the interpreter the module runs in (not a venv) and O(user)/O(group)
      are the module's own; the facts are the same as the interpreter's run would give. V(null) when nothing ran (no
      interpreter).
  returned: always
  type: str
  sample: interpreter
error:
  description: What could not be checked (interpreter, app directory or requirements file missing), or V(null).
  returned: always
  type: str
  sample: "interpreter /opt/venv/bin/python not found or not executable"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import validate
from ansible_collections.beatsync.ops.plugins.module_utils._probe_python import probe_deps
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            python=dict(type="str"),
            app_dir=dict(type="path", default="/opt/beatsync/web_service/backend"),
            requirements_file=dict(type="str", default="requirements.txt"),
            app_module=dict(type="str", default="main.py"),
            modules=dict(type="list", elements="str", default=["fastapi", "uvicorn"]),
            timeout=dict(type="float", default=30),
            user=dict(type="str"),
            group=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_deps(**params)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
