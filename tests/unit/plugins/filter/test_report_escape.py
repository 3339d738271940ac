# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report_escape filter plugin (beatsync.ops.xml_text, beatsync.ops.md_cell) and its docs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.filter import report_escape

FILTER_DIR = Path(report_escape.__file__).resolve().parent


def test_filters_exposed():
    filters = report_escape.FilterModule().filters()
    assert sorted(filters) == ["md_cell", "xml_text"]
    assert filters["xml_text"]("a\x07<") == "a\ufffd&lt;"
    assert filters["xml_text"]("a\x07", replacement="") == "a"
    assert filters["md_cell"]("a|b\nc") == "a\\|b<br>c"
    assert filters["md_cell"]("a\nc", newline=" / ") == "a / c"


def test_bad_options_name_the_option():
    with pytest.raises(AnsibleFilterError, match="replacement must be a string"):
        report_escape.xml_text("x", replacement=1)
    with pytest.raises(AnsibleFilterError, match="newline must be a string"):
        report_escape.md_cell("x", newline=None)


@pytest.mark.parametrize("name,option", [("xml_text", "replacement"), ("md_cell", "newline")])
def test_docs_beside_the_plugin(name, option):
    docs = yaml.safe_load((FILTER_DIR / ("%s.yml" % name)).read_text(encoding="utf-8"))
    assert docs["DOCUMENTATION"]["name"] == name
    assert option in docs["DOCUMENTATION"]["options"] and "_input" in docs["DOCUMENTATION"]["options"]
    assert "beatsync.ops.%s" % name in docs["EXAMPLES"]
    assert docs["RETURN"]["_value"]["type"] == "str"
