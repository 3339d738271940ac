# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters that make host text safe for the collection's report formats.

beatsync.ops.xml_text (XML 1.0) and beatsync.ops.md_cell (a Markdown table cell); their
documentation is in xml_text.yml and md_cell.yml beside this file.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.module_utils._escape import md_cell as _md_cell
from ansible_collections.beatsync.ops.plugins.module_utils._escape import xml_text as _xml_text


def xml_text(value, replacement="\ufffd"):
    if not isinstance(replacement, str):
        raise AnsibleFilterError("xml_text: replacement must be a string, not %s" % type(replacement).__name__)
    return _xml_text(value, replacement=replacement)


def md_cell(value, newline="<br>"):
    if not isinstance(newline, str):
        raise AnsibleFilterError("md_cell: newline must be a string, not %s" % type(newline).__name__)
    return _md_cell(value, newline=newline)


class FilterModule:
    """beatsync.ops report escaping filters."""

    def filters(self):
        return {"xml_text": xml_text, "md_cell": md_cell}
