# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The one control-character cleaner: text read from a host (journal, systemctl, /proc) made
safe to show and to put in a JSON report. Standard library only."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_LINE_CHARS = 2048
TRUNCATED = "...[truncated]"


def clean_line(line, max_chars=MAX_LINE_CHARS):
    """One line made harmless: text (bytes decoded, bad UTF-8 replaced), trailing newline
    dropped, control characters (not tab) replaced by '?', length bounded."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    elif not isinstance(line, str):
        line = str(line)
    line = line.rstrip("\r\n")
    if len(line) > max_chars:
        line = line[:max_chars] + TRUNCATED
    return _CONTROL.sub("?", line)
