# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep secrets out of reports, diffs, logs and module arguments.

PRIVATE to the collection: no compatibility promise for anything outside beatsync.ops.

Standard library only. Every value that may be a secret becomes the stable placeholder
``PLACEHOLDER`` ("VALUE_REDACTED", in the spirit of Ansible's no_log
"VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"); names stay, so a report still says WHICH setting
differs. Redacting twice gives the same text as redacting once.

- ``redact_unit_text(text)``: every ``Environment=`` value (all of them: a unit's environment
  is where secrets live), ``SetCredential=`` data, and the value of any setting, environment
  name or command-line option named like a password, passwd, secret, token, key or credential.
- ``redact_diff(text)``: the same for the lines of a unified diff.
- ``redact_argv(argv)``: ``--token X`` / ``--password=X`` in a command line.
- ``redact_data(obj)``: dicts and lists, recursively (sensitive keys, ``environment`` dicts,
  unit text and diffs inside strings); ``redact_arguments(args, no_log=())`` for module
  arguments, with the names of no_log options.
- ``secret_values(text)`` / ``remove_values(obj, values)``: the literal values a unit holds,
  and every occurrence of them anywhere else (a journal line echoing a token).
"""

from __future__ import absolute_import, division, print_function

import re

PLACEHOLDER = "VALUE_REDACTED"

#: Parts of a name that make its value secret (matched inside the name).
SENSITIVE_WORDS = ("password", "passwd", "passphrase", "secret", "token", "credential", "authorization",
                   "cookie", "private_key", "privatekey")
#: Whole parts of a name (split at _ - . and camelCase) that make its value secret.
SENSITIVE_PARTS = frozenset(("key", "keys", "pass", "apikey", "secretkey", "accesskey", "authkey", "signingkey", "pwd_hash",
                             "dsn"))
#: Unit settings whose whole value is redacted.
REDACT_SETTINGS = frozenset(("Environment", "SetCredential", "SetCredentialEncrypted", "LoadCredentialEncrypted"))

_SPLIT_RE = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_ASSIGN_RE = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$")
_OPTION_EQ_RE = re.compile(r"^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(.*)$")


def is_sensitive_name(name):
    """True for names like DB_PASSWORD, api-key, apiKey, SECRET_KEY_BASE, X-Auth-Token."""
    if not isinstance(name, str) or not name:
        return False
    lowered = name.lower()
    if any(word in lowered for word in SENSITIVE_WORDS):
        return True
    parts = [part.lower() for part in _SPLIT_RE.split(name) if part]
    # A bare "key" (a dict field, a sort key) says nothing; "API_KEY", "ssh-key" do.
    if len(parts) < 2 and parts and parts[0] in ("key", "keys"):
        return False
    return any(part in SENSITIVE_PARTS for part in parts)


def _quote_like(original, value):
    if len(original) >= 2 and original[0] == original[-1] and original[0] in "\"'":
        return original[0] + value + original[0]
    return value


# --------------------------------------------------------------------------- Environment=

def _env_words(value):
    """Split an Environment= value into its words keeping quotes and positions:
    [(start, end, word_text)]."""
    words, start, quote, escaped = [], None, None, False
    for index, char in enumerate(value):
        if start is None:
            if char.isspace():
                continue
            start = index
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char.isspace():
            words.append((start, index, value[start:index]))
            start = None
    if start is not None:
        words.append((start, len(value), value[start:]))
    return words


def redact_environment_value(value):
    """An Environment= value with every assignment's value replaced: names stay.
    ``A=1 "B=two words"`` -> ``A=VALUE_REDACTED "B=VALUE_REDACTED"``."""
    out, last = [], 0
    for start, end, word in _env_words(value):
        out.append(value[last:start])
        quote = word[0] if word[:1] in ("\"", "'") and word[-1:] == word[:1] and len(word) >= 2 else ""
        inner = word[1:-1] if quote else word
        name, sep, _val = inner.partition("=")
        out.append(quote + (name + "=" + PLACEHOLDER if sep else PLACEHOLDER) + quote if inner else word)
        last = end
    out.append(value[last:])
    return "".join(out)


# --------------------------------------------------------------------------- command lines

def redact_argv(argv):
    """A copy of argv with the values of sensitive options replaced (``--token X``,
    ``--db-password=X``, ``PASSWORD=x`` words)."""
    result, hide_next = [], False
    for word in argv or []:
        if hide_next:
            result.append(PLACEHOLDER)
            hide_next = False
            continue
        text = str(word)
        match = _OPTION_EQ_RE.match(text)
        if match and is_sensitive_name(match.group(1).lstrip("-")):
            result.append(match.group(1) + "=" + PLACEHOLDER)
        elif text.startswith("-") and is_sensitive_name(text.lstrip("-")):
            result.append(text)
            hide_next = True
        elif "=" in text and not text.startswith("-") and is_sensitive_name(text.split("=", 1)[0]):
            result.append(text.split("=", 1)[0] + "=" + PLACEHOLDER)
        else:
            result.append(word)
    return result


def _redact_command(value):
    # Words keep their spacing: only sensitive option values change.
    pieces = re.split(r"(\s+)", value)
    words = [piece for piece in pieces if piece and not piece.isspace()]
    redacted = iter(redact_argv(words))
    return "".join(next(redacted) if piece and not piece.isspace() else piece for piece in pieces)


# --------------------------------------------------------------------------- unit text

def redact_unit_line(line, state=None):
    """One line of a unit file (state: a dict carried over continuation lines)."""
    state = state if state is not None else {}
    continuing = state.get("continuing")
    state["continuing"] = line.rstrip().endswith("\\")
    if continuing:
        mode = state.get("mode")
        if mode == "all":
            return redact_environment_value(line)
        if mode == "command":
            return _redact_command(line)
        return line
    state["mode"] = None
    match = _ASSIGN_RE.match(line)
    if not match or line.lstrip().startswith(("#", ";")):
        return line
    indent, key, sep, value = match.groups()
    if key in REDACT_SETTINGS:
        state["mode"] = "all"
        if key == "Environment":
            return indent + key + sep + redact_environment_value(value)
        ident, colon, _data = value.partition(":")
        return indent + key + sep + (ident + ":" + PLACEHOLDER if colon else PLACEHOLDER)
    if is_sensitive_name(key):
        state["mode"] = "all"
        return indent + key + sep + (PLACEHOLDER if value.strip() else value)
    if key.startswith("Exec"):
        state["mode"] = "command"
        return indent + key + sep + _redact_command(value)
    return line


def redact_unit_text(text):
    """Unit text (a unit file, a drop-in, `systemctl cat` output) with secrets replaced."""
    if not isinstance(text, str):
        return text
    state = {}
    return "".join(redact_unit_line(line, state) if not line.endswith("\n") else
                   redact_unit_line(line[:-1], state) + "\n" for line in text.splitlines(True))


def redact_diff(text):
    """A unified diff of unit text with secrets replaced on its -, + and context lines."""
    if not isinstance(text, str):
        return text
    out, state = [], {}
    for line in text.splitlines(True):
        newline = "\n" if line.endswith("\n") else ""
        body = line[:-1] if newline else line
        if body.startswith(("---", "+++", "@@")) or not body[:1] in ("+", "-", " "):
            out.append(line)
            continue
        out.append(body[0] + redact_unit_line(body[1:], state) + newline)
    return "".join(out)


# --------------------------------------------------------------------------- data

def _looks_like_unit_text(text):
    return "=" in text and ("\n" in text or text.lstrip().startswith(("Environment=", "Exec", "[")))


def redact_text(text):
    """Unit text, a diff, or a single line: whichever it looks like."""
    if not isinstance(text, str) or "=" not in text:
        return text
    if re.search(r"^(---|\+\+\+|@@) ", text, re.M):
        return redact_diff(text)
    if _looks_like_unit_text(text):
        return redact_unit_text(text)
    return text


def redact_setting(key, value):
    """The value of one unit setting (str, list of str or an Environment dict) redacted when
    the setting holds secrets (Environment=, SetCredential=, sensitive names)."""
    if not isinstance(key, str) or not (key in REDACT_SETTINGS or is_sensitive_name(key)):
        return value
    if isinstance(value, dict):
        return dict((name, PLACEHOLDER) for name in value)
    if isinstance(value, (list, tuple)):
        return type(value)(redact_setting(key, item) for item in value)
    if isinstance(value, str) and value:
        return redact_environment_value(value) if key == "Environment" else PLACEHOLDER
    return value


def redact_data(obj, names=(), _depth=0):
    """A redacted copy of obj (dicts, lists, tuples, strings, scalars), recursively.

    A value under a key named like a secret (or in names) becomes PLACEHOLDER; under a key
    ``environment``/``Environment`` a dict keeps its names, a string is an Environment= value;
    strings that look like unit text or diffs go through redact_text. Depth is bounded (64)."""
    if _depth > 64:
        return PLACEHOLDER
    extra = frozenset(names)
    if isinstance(obj, dict):
        result = {}
        # A setting described as {"key": "Environment", "expected": ..., "actual": ...}
        # (a drift) or {"key": ..., "value": ...}.
        setting = obj.get("key") if isinstance(obj.get("key"), str) else None
        if setting and (setting in REDACT_SETTINGS or is_sensitive_name(setting)):
            obj = dict((key, redact_setting(setting, value) if key in ("expected", "actual", "value", "values")
                        else value) for key, value in obj.items())
        for key, value in obj.items():
            if isinstance(key, str) and (key in extra or is_sensitive_name(key)) and value not in (None, "", [], {}):
                result[key] = PLACEHOLDER if not isinstance(value, (dict, list)) else _blank(value)
            elif isinstance(key, str) and key.lower() in ("environment", "env") and isinstance(value, dict):
                result[key] = dict((name, PLACEHOLDER if val not in (None, "") else val) for name, val in value.items())
            elif isinstance(key, str) and key.lower() == "environment" and isinstance(value, str):
                result[key] = redact_environment_value(value)
            elif isinstance(key, str) and key.lower() in ("argv", "cmdline", "command") and isinstance(value, list):
                result[key] = redact_argv(value)
            else:
                result[key] = redact_data(value, names, _depth + 1)
        return result
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_data(item, names, _depth + 1) for item in obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return obj


def _blank(value):
    if isinstance(value, dict):
        return dict((key, PLACEHOLDER) for key in value)
    return [PLACEHOLDER for _item in value]


def redact_arguments(args, no_log=()):
    """Module arguments for a log or report: no_log option names and secret-looking names
    hidden, unit text and Environment= values redacted (redact_data with names=no_log)."""
    return redact_data(args or {}, names=no_log)


# --------------------------------------------------------------------------- known values

def secret_values(unit_text, min_length=4):
    """The literal secret values a unit text holds (Environment= values, values of sensitive
    settings), for remove_values(). Values shorter than min_length are left out (replacing
    "1" everywhere would wreck a report)."""
    found = set()
    for line in (unit_text or "").splitlines():
        match = _ASSIGN_RE.match(line)
        if not match or line.lstrip().startswith(("#", ";")):
            continue
        _indent, key, _sep, value = match.groups()
        if key == "Environment":
            for _start, _end, word in _env_words(value):
                if word[:1] in ("\"", "'") and word[-1:] == word[:1]:
                    word = word[1:-1]
                _name, sep, val = word.partition("=")
                if sep:
                    found.add(val)
        elif is_sensitive_name(key) or key in REDACT_SETTINGS:
            found.add(value.strip())
    return set(value for value in found if len(value) >= min_length and value != PLACEHOLDER)


def remove_values(obj, values):
    """Every occurrence of the given literal values in the strings of obj (recursively, keys
    included) replaced by PLACEHOLDER, longest first."""
    ordered = sorted((value for value in values or () if value), key=len, reverse=True)
    return _remove_ordered(obj, ordered, 0) if ordered else obj


def _remove_ordered(obj, ordered, depth):
    if depth > 64:
        return obj
    if isinstance(obj, str):
        for value in ordered:
            obj = obj.replace(value, PLACEHOLDER)
        return obj
    if isinstance(obj, dict):
        return dict((_remove_ordered(key, ordered, depth + 1), _remove_ordered(value, ordered, depth + 1))
                    for key, value in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_remove_ordered(item, ordered, depth + 1) for item in obj)
    return obj
