# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_escape: XML 1.0 text and Markdown table cells, checked with real parsers (xml.etree)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _escape as esc

NASTY = "Service\x07Unavailable\x1b[31m <b>&\"'</b> | `x` \\ \x00\x0b\x0c\ufffe\uffff\ud800 tab\there\r\nnext\x7f \U0001F600"


def test_xml_text_replaces_forbidden_and_escapes():
    assert esc.xml_text("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&apos;f"
    assert esc.xml_text("bell\x07") == "bell\ufffd"
    assert esc.xml_text("bell\x07", replacement="") == "bell"
    assert esc.xml_text("\ud800x\udfff") == "\ufffdx\ufffd"
    assert esc.xml_text("\ufffe\uffff") == "\ufffd\ufffd"
    assert esc.xml_text("t\tn\nr\r\U0001F600\x7f\x85") == "t\tn\nr\r\U0001F600\x7f\x85"   # all legal in XML 1.0
    assert esc.xml_text(None) == "" and esc.xml_text(503) == "503" and esc.xml_text(b"caf\xc3\xa9\xff") == "caf\u00e9\ufffd"
    assert esc.xml_text(esc.xml_safe_chars(NASTY)) == esc.xml_text(NASTY)


def test_xml_safe_chars_replaces_exactly_what_xml_1_0_forbids():
    """Every code point, against XML 1.0's Char production as the standard writes it."""
    def allowed(code):
        return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    every = "".join(chr(code) for code in range(0x110000))
    expected = "".join(char if allowed(ord(char)) else "?" for char in every)
    assert esc.xml_safe_chars(every, replacement="?") == expected


@pytest.mark.parametrize("replacement", ["\ufffd", "", "?"])
def test_xml_text_parses_in_text_and_attribute(replacement):
    text = esc.xml_text(NASTY, replacement=replacement)
    document = '<?xml version="1.0" encoding="UTF-8"?><r a="%s">%s</r>' % (text, text)
    root = ET.fromstring(document.encode("utf-8"))
    assert root.text == esc.xml_safe_chars(NASTY, replacement).replace("\r\n", "\n")
    assert "<b>" in root.text and "\x07" not in root.text
    assert "<b>" in root.get("a")


def test_unescaped_would_not_parse():
    with pytest.raises(ET.ParseError):
        ET.fromstring(("<r>%s</r>" % "a\x07b").encode("utf-8"))


def test_md_cell():
    assert esc.md_cell("a|b") == "a\\|b"
    assert esc.md_cell("back\\slash") == "back\\\\slash"
    assert esc.md_cell("`code`") == "\\`code\\`"
    assert esc.md_cell("one\r\ntwo\nthree\rfour") == "one<br>two<br>three<br>four"
    assert esc.md_cell("one\ntwo", newline=" ") == "one two"
    assert esc.md_cell("<script>") == "&lt;script&gt;"
    assert esc.md_cell("  bell\x07 tab\tx\u2028y  ") == "bell  tab x y"
    assert esc.md_cell(None) == "" and esc.md_cell(8000) == "8000"
    assert esc.md_cell("port_conflict_stale (x)") == "port_conflict_stale (x)"


def test_md_cell_keeps_one_cell_per_value():
    values = [NASTY, "|", "\\|", "a\\", "x | y | z", "\n|\n", "", "`|`"]
    row = "| " + " | ".join(esc.md_cell(value) for value in values) + " |"
    assert "\n" not in row
    assert len(esc.md_row_cells(row)) == len(values)
    assert esc.md_row_cells("| a | b\\|c |") == ["a", "b\\|c"]
