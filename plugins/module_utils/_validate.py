# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The one set of input validators of beatsync.ops (modules, action plugins, EDA source).

Standard library only: this code runs on the managed host, on the controller and inside
ansible-rulebook. Each validator returns the normalised value or raises ProbeInputError
whose message names the option and the bad value.
"""

from __future__ import annotations

import re

# A systemd unit name (systemd.unit(5)); no leading '-' so it can never read as an option.
_UNIT_NAME = re.compile(r"^[A-Za-z0-9:_.\\@-]{1,255}$")
# The most journal lines a diagnosis reads (journal_lines, lines): here, with the other limits
# the module edges check, so that checking it does not import the journal code.
MAX_JOURNAL_LINES = 1000
UNIT_SUFFIXES = (".service", ".socket", ".scope", ".slice", ".target", ".mount", ".timer", ".path", ".swap", ".device",
                 ".automount")


class ProbeInputError(ValueError):
    """Bad input to a probe: the message names the parameter and what is wrong."""


def validate_port(value, name="port"):
    """Return value as an int TCP port in 1..65535 or raise ProbeInputError."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(value)
        port = int(str(value).strip())
    except ValueError:
        raise ProbeInputError("%s must be an integer from 1 to 65535, got %r" % (name, value)) from None
    if not 1 <= port <= 65535:
        raise ProbeInputError("%s must be from 1 to 65535, got %d" % (name, port))
    return port


def validate_timeout(value, name="timeout", maximum=600.0):
    """Return value as a float number of seconds in (0, maximum] or raise ProbeInputError."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        seconds = float(value)
    except (TypeError, ValueError):
        raise ProbeInputError("%s must be a number of seconds, got %r" % (name, value)) from None
    if not 0 < seconds <= maximum:
        raise ProbeInputError("%s must be greater than 0 and at most %s seconds, got %s" % (name, maximum, value))
    return seconds


def validate_positive_int(value, name, minimum=1, maximum=None):
    """Return value as an int within [minimum, maximum] or raise ProbeInputError."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = int(value)
    except (TypeError, ValueError):
        raise ProbeInputError("%s must be an integer, got %r" % (name, value)) from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = "at least %d" % minimum if maximum is None else "from %d to %d" % (minimum, maximum)
        raise ProbeInputError("%s must be %s, got %d" % (name, bound, number))
    return number


def validate_abs_path(value, name):
    """An absolute filesystem path without NUL, or ProbeInputError."""
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value:
        raise ProbeInputError("%s must be an absolute path, got %r" % (name, value))
    return value


def validate_url_path(value, name):
    """A URL path starting with '/' without spaces or control characters, or ProbeInputError."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise ProbeInputError("%s must be a URL path starting with '/', got %r" % (name, value))
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
        raise ProbeInputError("%s must not contain spaces or control characters, got %r" % (name, value))
    return value


def validate_word(value, name, allow_empty=False):
    """A string without NUL or surrounding spaces (empty only when allowed)."""
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str) or "\0" in value or value != value.strip() or (not value and not allow_empty):
        raise ProbeInputError("%s must be a non-empty string without surrounding spaces, got %r" % (name, value))
    return value


def validate_host(value, name="host"):
    """A host name or address to connect to (no scheme, path, spaces or brackets needed)."""
    if not isinstance(value, str) or not value.strip():
        raise ProbeInputError("%s must name the address to probe, got %r" % (name, value))
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if any(char.isspace() or char in "/?#@" or ord(char) < 32 for char in text):
        raise ProbeInputError("%s must be a host name or an IP address, got %r" % (name, value))
    return text


def normalize_service(service, name="service"):
    """'beatsync' -> 'beatsync.service' (systemd's own shorthand); ProbeInputError for a bad name."""
    if not isinstance(service, str) or not _UNIT_NAME.match(service.strip()) or service.strip().startswith("-") \
            or service != service.strip():
        raise ProbeInputError("%s must be a systemd unit name such as beatsync.service, got %r" % (name, service))
    if not service.endswith(UNIT_SUFFIXES):
        service += ".service"
    return service


def validate_number(value, name, minimum, maximum):
    """Return value as a float within [minimum, maximum] or raise ProbeInputError."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
    except (TypeError, ValueError):
        raise ProbeInputError("%s must be a number, got %r" % (name, value)) from None
    if not minimum <= number <= maximum:
        raise ProbeInputError("%s must be from %s to %s, got %s" % (name, minimum, maximum, value))
    return number


def validate_int_range(value, name, minimum, maximum):
    """Return value as an int within [minimum, maximum] (no fractional floats) or raise ProbeInputError."""
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        number = int(value)
    except (TypeError, ValueError):
        raise ProbeInputError("%s must be an integer, got %r" % (name, value)) from None
    if not minimum <= number <= maximum:
        raise ProbeInputError("%s must be from %d to %d, got %d" % (name, minimum, maximum, number))
    return number


def validate_nonempty_str(value, name):
    """A non-empty string, or ProbeInputError."""
    if not isinstance(value, str) or not value:
        raise ProbeInputError("%s must be a non-empty string, got %r" % (name, value))
    return value


def validate_text(value, name, maximum, what="text"):
    """None, or a string of at most maximum characters (e.g. a unit file's text)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProbeInputError("%s must be the %s (a string), got %s" % (name, what, type(value).__name__))
    if len(value) > maximum:
        raise ProbeInputError("%s must be at most %d characters, got %d" % (name, maximum, len(value)))
    return value


def validate_path_string(value, name, allow_empty=False):
    """None, a non-empty path string without NUL ("" too when allow_empty: skip that check)."""
    if value is None or (value == "" and allow_empty):
        return value
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise ProbeInputError("%s must be a non-empty path string, got %r" % (name, value))
    return value


# A dotted Python module name (fastapi, uvicorn.workers).
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MAX_MODULES = 50


def validate_module_names(value, name="modules", maximum=MAX_MODULES):
    """A list of Python module names ("a, b" is split on commas), at most maximum of them."""
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple)):
        raise ProbeInputError("%s must be a list of Python module names, got %r" % (name, value))
    if len(value) > maximum:
        raise ProbeInputError("%s must list at most %d modules, got %d" % (name, maximum, len(value)))
    for item in value:
        if not isinstance(item, str) or not _MODULE_NAME.match(item):
            raise ProbeInputError("%s must be Python module names such as fastapi, got %r" % (name, item))
    return list(value)
