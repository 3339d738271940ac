# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EFFECTIVE unit: a unit file plus its drop-ins, merged as systemd merges them.

PRIVATE to the collection: no compatibility promise for anything outside beatsync.ops.

Standard library only.

- ``parse_systemctl_cat(text)``: split `systemctl cat UNIT` output at its ``# /path`` header
  lines into the unit file and each drop-in, in the order systemd applies them.
- ``parse_unit_text(text, path)``: the assignments of one file (sections, comments,
  backslash continuations), each with its path and line number.
- ``merge(files)``: the effective settings per section. List settings (ExecStart=,
  Environment=, After=, ...) accumulate and an empty assignment resets them; any other setting:
  the last assignment wins. Every value keeps the (path, line) it came from.
- ``unit_drift(host_cat_text, canonical_text)``: the settings whose effective value differs from
  the canonical unit's, each named with the file(s) and line(s) that cause it.
- ``parse_show(text)`` / ``cross_check(effective, show)``: `systemctl show -p ...` properties
  and where they disagree with the merge (a cross-check, not a second truth).
"""

from __future__ import absolute_import, division, print_function

import re

MAX_TEXT_CHARS = 4 * 1024 * 1024        # one `systemctl cat` output
MAX_FILES = 256                        # unit file + drop-ins
MAX_LINES = 100000

#: Settings that accumulate over assignments (an empty assignment empties the list).
LIST_SETTINGS = frozenset((
    # [Service]
    "ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost",
    "Environment", "EnvironmentFile", "PassEnvironment", "UnsetEnvironment", "SupplementaryGroups",
    "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths", "BindPaths",
    "BindReadOnlyPaths", "TemporaryFileSystem", "DeviceAllow", "LoadCredential", "LoadCredentialEncrypted",
    "SetCredential", "SetCredentialEncrypted", "ImportCredential", "SystemCallFilter", "RestrictAddressFamilies",
    "IPAddressAllow", "IPAddressDeny", "SocketBindAllow", "SocketBindDeny", "RestartPreventExitStatus",
    "RestartForceExitStatus", "SuccessExitStatus", "Sockets", "ExecSearchPath", "LogExtraFields",
    "StateDirectory", "RuntimeDirectory", "CacheDirectory", "LogsDirectory", "ConfigurationDirectory",
    # [Unit]
    "Documentation", "Wants", "Requires", "Requisite", "BindsTo", "PartOf", "Upholds",
    "Conflicts", "Before", "After", "OnFailure", "OnSuccess", "PropagatesReloadTo", "ReloadPropagatedFrom",
    "JoinsNamespaceOf", "RequiresMountsFor", "WantsMountsFor",
    # [Install]
    "Alias", "WantedBy", "RequiredBy", "UpheldBy", "Also",
))

#: What unit_drift compares by default, per section.
DRIFT_SETTINGS = {
    "Service": ("ExecStart", "ExecStartPre", "ExecStartPost", "WorkingDirectory", "User", "Group", "DynamicUser",
                "SupplementaryGroups", "Environment", "EnvironmentFile", "Type", "RootDirectory", "UMask"),
}

_HEADER_RE = re.compile(r"^# (/\S+)$")
_UNIT_SUFFIXES = (".service", ".socket", ".target", ".timer", ".mount", ".automount", ".path", ".slice",
                  ".scope", ".swap", ".device", ".conf")
_SECTION_RE = re.compile(r"^\[([^\[\]]+)\]$")


class Assignment(object):
    """One ``Key=Value`` line: section, key, value, path, lineno (first physical line)."""

    __slots__ = ("section", "key", "value", "path", "lineno")

    def __init__(self, section, key, value, path, lineno):
        self.section, self.key, self.value, self.path, self.lineno = section, key, value, path, lineno

    def as_dict(self):
        return {"section": self.section, "key": self.key, "value": self.value, "path": self.path, "lineno": self.lineno}

    def __repr__(self):
        return "Assignment(%s:%d [%s] %s=%s)" % (self.path, self.lineno, self.section, self.key, self.value)


# --------------------------------------------------------------------------- parsing

def parse_systemctl_cat(text, max_files=MAX_FILES):
    """[(path, text)] for each file `systemctl cat` printed, the unit file first, then the
    drop-ins in the order systemd applies them. Lines before the first header (warnings such
    as "# Warning: ... changed on disk") are dropped."""
    files = []
    current_path, current_lines = None, []
    previous_blank = True
    for line in (text or "")[:MAX_TEXT_CHARS].splitlines():
        match = _HEADER_RE.match(line)
        if match and previous_blank and match.group(1).endswith(_UNIT_SUFFIXES):
            if current_path is not None:
                files.append((current_path, _strip_trailing_blank(current_lines)))
                if len(files) >= max_files:
                    current_path = None
                    break
            current_path, current_lines = match.group(1), []
        elif current_path is not None:
            current_lines.append(line)
        previous_blank = not line.strip()
    if current_path is not None:
        files.append((current_path, _strip_trailing_blank(current_lines)))
    return files


def _strip_trailing_blank(lines):
    # systemctl cat separates files with one empty line; it is not part of the file.
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "\n".join(lines) + ("\n" if lines else "")


def parse_unit_text(text, path="<unit>", max_lines=MAX_LINES):
    """The assignments of one unit file or drop-in, in order: [Assignment].

    Comments (# and ;) are skipped, a trailing backslash continues a line (joined with a
    space; comment lines inside a continuation are skipped, as systemd does), keys and values
    are stripped. Lines outside a section and lines without '=' are ignored.
    """
    assignments = []
    section = None
    pending, pending_start = None, None
    for number, raw in enumerate((text or "").splitlines()[:max_lines], 1):
        line = raw.strip()
        if pending is not None:
            if line.startswith(("#", ";")):
                continue
            if line.endswith("\\"):
                pending += " " + line[:-1].rstrip()
                continue
            line, start = pending + " " + line, pending_start
            pending = None
        else:
            start = number
            if not line or line.startswith(("#", ";")):
                continue
            if line.endswith("\\"):
                pending, pending_start = line[:-1].rstrip(), number
                continue
        match = _SECTION_RE.match(line)
        if match:
            section = match.group(1)
            continue
        key, sep, value = line.partition("=")
        if not sep or section is None or not key.strip():
            continue
        assignments.append(Assignment(section, key.strip(), value.strip(), path, start))
    if pending is not None and section is not None:
        key, sep, value = pending.partition("=")
        if sep and key.strip():
            assignments.append(Assignment(section, key.strip(), value.strip(), path, pending_start))
    return assignments


# --------------------------------------------------------------------------- merging

def merge(files):
    """Effective settings of [(path, text)] (unit file first, then drop-ins in order).

    Returns {"files": [paths], "unit_file": path or None, "dropins": [paths],
    "sections": {section: {key: entry}}} where a list setting's entry is
    {"list": True, "values": [Assignment...], "assignments": [every Assignment, resets
    included]} and any other setting's is {"list": False, "value": Assignment (the winner),
    "assignments": [...]}.
    """
    paths = [path for path, _text in files]
    sections = {}
    for path, text in files:
        for item in parse_unit_text(text, path):
            settings = sections.setdefault(item.section, {})
            is_list = item.key in LIST_SETTINGS
            entry = settings.setdefault(item.key, {"list": is_list, "values": [], "value": None, "assignments": []})
            entry["assignments"].append(item)
            if is_list:
                if item.value == "":
                    entry["values"] = []
                else:
                    entry["values"].append(item)
            else:
                entry["value"] = item
    return {"files": paths, "unit_file": paths[0] if paths else None, "dropins": paths[1:], "sections": sections}


def merge_cat(text):
    """merge(parse_systemctl_cat(text))."""
    return merge(parse_systemctl_cat(text))


def effective_value(effective, key, section="Service"):
    """A setting's effective value: a list of strings for list settings, a string (or None
    when unset) otherwise. Environment= comes back as a dict (see environment_dict)."""
    entry = effective["sections"].get(section, {}).get(key)
    if key == "Environment":
        return environment_dict([item.value for item in entry["values"]] if entry else [])
    if key in LIST_SETTINGS:
        return [item.value for item in entry["values"]] if entry else []
    if entry is None or entry["value"] is None:
        return None
    return entry["value"].value


def effective_settings(effective):
    """{section: {key: value}} with plain values (effective_value for every key)."""
    return dict((section, dict((key, effective_value(effective, key, section)) for key in settings))
                for section, settings in effective["sections"].items())


def split_words(value):
    """Split a unit-file value into words as systemd does: whitespace separates words, "..."
    and '...' quote, backslash escapes the next character."""
    words, word, quote, escaped, in_word = [], [], None, False, False
    for char in value:
        if escaped:
            word.append(char)
            escaped, in_word = False, True
        elif char == "\\":
            escaped, in_word = True, True
        elif quote:
            if char == quote:
                quote = None
            else:
                word.append(char)
        elif char in "\"'":
            quote, in_word = char, True
        elif char.isspace():
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
        else:
            word.append(char)
            in_word = True
    if in_word:
        words.append("".join(word))
    return words


def environment_dict(assignments):
    """{NAME: value} from Environment= values in order (later assignments of a name win;
    words without '=' are ignored, as systemd ignores invalid assignments)."""
    env = {}
    for value in assignments:
        for word in split_words(value):
            name, sep, val = word.partition("=")
            if sep and name:
                env[name] = val
    return env


def _normalize_command(value):
    """An Exec*= command for comparison: prefixes kept, words re-joined with one space."""
    match = re.match(r"^([-@:+!|]*)(.*)$", value.strip())
    return match.group(1) + " ".join(split_words(match.group(2)))


def _comparable(key, value):
    if key.startswith("Exec"):
        return [_normalize_command(item) for item in value]
    if isinstance(value, str):
        return " ".join(value.split())
    return value


# --------------------------------------------------------------------------- drift

def unit_drift(host_cat_text, canonical_text, settings=None):
    """Where the host's effective unit differs from the canonical unit text.

    host_cat_text: `systemctl cat` output of the host's unit. canonical_text: the canonical
    unit file. settings: {section: (keys...)} to compare (default DRIFT_SETTINGS).

    Returns a list of drifts, one per differing setting:
    {"section", "key", "expected", "actual", "in_dropin": bool, "sources": [{"path",
    "lines": [n...], "text": ["Key=value"...], "kind": "dropin" | "unit_file"}]}; sources
    name the assignments that make the effective value (every assignment of the key in the
    drop-ins when one touches it, else those of the unit file).
    """
    host = merge_cat(host_cat_text)
    canonical = merge([("<canonical>", canonical_text or "")])
    drifts = []
    for section, keys in sorted((settings or DRIFT_SETTINGS).items()):
        for key in keys:
            expected = effective_value(canonical, key, section)
            actual = effective_value(host, key, section)
            if _comparable(key, expected) == _comparable(key, actual):
                continue
            entry = host["sections"].get(section, {}).get(key)
            assignments = entry["assignments"] if entry else []
            from_dropins = [item for item in assignments if item.path != host["unit_file"]]
            drifts.append({
                "section": section, "key": key, "expected": expected, "actual": actual,
                "in_dropin": bool(from_dropins),
                "sources": _sources(from_dropins or assignments, host["unit_file"]),
            })
    return drifts


def _sources(assignments, unit_file):
    grouped = []
    for item in assignments:
        if not grouped or grouped[-1]["path"] != item.path:
            grouped.append({"path": item.path, "lines": [], "text": [],
                            "kind": "unit_file" if item.path == unit_file else "dropin"})
        grouped[-1]["lines"].append(item.lineno)
        grouped[-1]["text"].append("%s=%s" % (item.key, item.value))
    return grouped


def describe_drift(drift):
    """One line for a drift: "ExecStart= set by /etc/.../override.conf lines 2-3"."""
    parts = []
    for source in drift["sources"]:
        lines = source["lines"]
        span = ("line %d" % lines[0]) if len(lines) == 1 else ("lines %s" % ", ".join(str(n) for n in lines))
        parts.append("%s %s" % (source["path"], span))
    where = "; ".join(parts) if parts else "no file sets it"
    return "%s= differs from the canonical unit: %s" % (drift["key"], where)


# --------------------------------------------------------------------------- systemctl show

def parse_show(text, max_lines=MAX_LINES):
    """`systemctl show` KEY=VALUE lines -> dict (the first '=' splits). A property printed on
    several lines (one ExecStart= line per command) keeps them all, joined with newlines."""
    props = {}
    for line in (text or "").splitlines()[:max_lines]:
        key, sep, value = line.partition("=")
        if sep and key and " " not in key:
            props[key] = props[key] + "\n" + value if key in props else value
    return props


def parse_show_exec(value):
    """The commands of an Exec*= property of `systemctl show`:
    ``{ path=/usr/bin/x ; argv[]=/usr/bin/x -a ; ignore_errors=no ; ... }`` (one or more).
    Returns [{"path", "argv" (list), "command_line", "ignore_errors"}]."""
    commands = []
    for match in re.finditer(r"\{ path=(.*?) ; argv\[\]=(.*?) ; (?:ignore_errors=(yes|no)|flags=([^;]*?))(?: ;.*?)? \}",
                             value or ""):
        argv_text = match.group(2)
        commands.append({"path": match.group(1), "argv": split_words(argv_text), "command_line": argv_text,
                         "ignore_errors": match.group(3) == "yes" or "ignore-failure" in (match.group(4) or "")})
    return commands


def cross_check(effective, show):
    """Where systemd's own view (parse_show of `systemctl show -p DropInPaths,ExecStart,
    WorkingDirectory,User,Group,Environment`) disagrees with merge()'s result.

    Returns a list of {"key", "merged", "shown"}; an empty list means they agree. Properties
    missing from show are not compared.
    """
    mismatches = []
    if "DropInPaths" in show:
        shown = show["DropInPaths"].split()
        if sorted(shown) != sorted(effective["dropins"]):
            mismatches.append({"key": "DropInPaths", "merged": effective["dropins"], "shown": shown})
    if "ExecStart" in show:
        merged = [split_words(re.sub(r"^[-@:+!|]*", "", value)) for value in effective_value(effective, "ExecStart")]
        shown = [command["argv"] for command in parse_show_exec(show["ExecStart"])]
        if merged != shown:
            mismatches.append({"key": "ExecStart", "merged": merged, "shown": shown})
    for key in ("WorkingDirectory", "User", "Group"):
        if key in show:
            merged = effective_value(effective, key) or ""
            shown = show[key]
            if key == "WorkingDirectory":
                merged, shown = merged.lstrip("-"), shown.lstrip("!-")
                merged = "" if merged == "~" else merged
            if merged != shown:
                mismatches.append({"key": key, "merged": merged or None, "shown": shown or None})
    if "Environment" in show:
        merged = effective_value(effective, "Environment")
        shown = environment_dict([show["Environment"]])
        if merged != shown:
            mismatches.append({"key": "Environment", "merged": merged, "shown": shown})
    return mismatches
