# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host text made safe for each report format.

PRIVATE to the collection: no compatibility promise for anything outside beatsync.ops.

Standard library only. Text from a host (an HTTP reason phrase, a process name, a journal
line) can hold anything; a report must stay well-formed whatever it holds.

- ``xml_text(value, replacement)``: XML 1.0 character data or attribute value. Characters
  XML 1.0 forbids (C0 controls other than tab, newline and carriage return; U+FFFE, U+FFFF;
  lone surrogates) are replaced (default U+FFFD, "" drops them), then ``& < > " '`` are
  escaped.
- ``md_cell(value, newline)``: one GitHub-flavoured Markdown table cell: backslashes,
  ``|`` and backticks escaped, ``<``/``>`` as entities (no HTML from a host), line breaks as
  ``<br>`` (or a space), other control characters as spaces, outer whitespace trimmed.
"""

from __future__ import absolute_import, division, print_function

import re

REPLACEMENT = u"\ufffd"

# Everything outside XML 1.0's Char production
# (#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]), listed as the
# characters it leaves out: the same set as the negated production (a test checks every code
# point), compiled in a tenth of the time (~3 ms of every run that imports this file).
_XML_FORBIDDEN_RE = re.compile(u"[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;"}
_XML_ESCAPE_RE = re.compile(r"[&<>\"']")

_MD_ESCAPES = {"\\": "\\\\", "|": "\\|", "`": "\\`", "<": "&lt;", ">": "&gt;"}
_MD_ESCAPE_RE = re.compile(r"[\\|`<>]")
_MD_CONTROL_RE = re.compile(u"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]")


def to_text(value):
    """str for any value: None -> "", bytes decoded as UTF-8 (bad bytes replaced)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else str(value)


def xml_safe_chars(value, replacement=REPLACEMENT):
    """value with every character XML 1.0 forbids replaced (not escaped)."""
    return _XML_FORBIDDEN_RE.sub(replacement, to_text(value))


def xml_text(value, replacement=REPLACEMENT):
    """value as XML 1.0 text or attribute content: forbidden characters replaced, then
    & < > " ' escaped. Carriage returns and tabs stay (as characters)."""
    return _XML_ESCAPE_RE.sub(lambda match: _XML_ESCAPES[match.group(0)], xml_safe_chars(value, replacement))


def md_cell(value, newline="<br>"):
    """value as the content of one Markdown table cell (see the module text)."""
    text = to_text(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _MD_CONTROL_RE.sub(" ", text.replace("\t", " "))
    text = _MD_ESCAPE_RE.sub(lambda match: _MD_ESCAPES[match.group(0)], text.strip())
    return newline.join(line.strip() for line in text.split("\n"))


def md_row_cells(row):
    """The cells of one Markdown table row, split at unescaped '|' (for checks and tests)."""
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    cells, current, escaped = [], [], False
    for char in row:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip())
    return cells
