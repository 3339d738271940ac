# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEP 440 versions, PEP 508 requirements and markers, and requirements.txt files.

PRIVATE to the collection: no compatibility promise for anything outside beatsync.ops.

Standard library only, and self-contained (it imports nothing from the collection), so the
same file can run inside the app's own interpreter (``python -I _pyreq.py < request.json``,
see ``main()``), where the marker environment and the installed versions are the app's.

The subset here follows what ``packaging`` (the library pip vendors) answers:

- ``parse_version`` / ``Version``: PEP 440 versions with epochs, pre-, post-, dev-releases and
  local versions, ordered as PEP 440 orders them.
- ``Specifier`` / ``SpecifierSet``: ``== != <= >= < > ~= ===`` and ``==1.*`` wildcards,
  with the exclusive ordered comparisons of PEP 440 (``>1.0`` does not match ``1.0.post1``,
  ``<1.0`` does not match ``1.0rc1``).
- ``Marker``: PEP 508 environment markers (``and``/``or``/parentheses, ``in``/``not in``);
  version comparison for the version-valued names (python_version, python_full_version,
  implementation_version, platform_release), string comparison for the others.
- ``Requirement``: ``name[extras] specifiers ; marker``; URL requirements (``name @ url``) are
  parsed and reported as unsupported.
- ``parse_requirements_file``: comments, line continuations, option lines, ``-r`` includes
  (relative to the including file, bounded in depth and count, cycles detected), ``-c`` noted.
- ``check_requirement`` / ``check_requirements``: does an installed version satisfy a
  requirement line here (and does the line apply at all)? Uses pip's vendored
  ``pip._vendor.packaging`` when it can be imported (backend "auto") and this subset otherwise.

Installed versions are checked with pre-releases allowed, as ``pip check`` does.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import platform
import re
import sys

__all__ = [
    "InvalidVersion", "InvalidSpecifier", "InvalidMarker", "InvalidRequirement", "UndefinedEnvironmentName",
    "Version", "parse_version", "compare_versions", "canonicalize_name",
    "Specifier", "SpecifierSet", "Marker", "Requirement", "default_environment",
    "parse_requirements_text", "parse_requirements_file",
    "vendored_packaging", "check_requirement", "check_requirements", "installed_versions", "probe", "deps_check",
    "main",
]

MAX_FILE_BYTES = 1024 * 1024     # one requirements file
MAX_LINES = 10000                # logical lines per file
MAX_DEPTH = 5                    # -r nesting
MAX_FILES = 20                   # files read in one parse (the top one included)


class InvalidVersion(ValueError):
    pass


class InvalidSpecifier(ValueError):
    pass


class InvalidMarker(ValueError):
    pass


class InvalidRequirement(ValueError):
    pass


class UndefinedEnvironmentName(ValueError):
    pass


# --------------------------------------------------------------------------- names

def canonicalize_name(name):
    """PEP 503 normalized project name ("Foo.Bar_baz" -> "foo-bar-baz")."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------- PEP 440 versions

_VERSION_PATTERN = r"""
    v?
    (?:
        (?:(?P<epoch>[0-9]+)!)?
        (?P<release>[0-9]+(?:\.[0-9]+)*)
        (?P<pre>
            [-_.]?
            (?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)
            [-_.]?
            (?P<pre_n>[0-9]+)?
        )?
        (?P<post>
            (?:-(?P<post_n1>[0-9]+))
            |
            (?:
                [-_.]?
                (?P<post_l>post|rev|r)
                [-_.]?
                (?P<post_n2>[0-9]+)?
            )
        )?
        (?P<dev>
            [-_.]?
            (?P<dev_l>dev)
            [-_.]?
            (?P<dev_n>[0-9]+)?
        )?
    )
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
"""
_VERSION_RE = re.compile(r"^\s*" + _VERSION_PATTERN + r"\s*$", re.VERBOSE | re.IGNORECASE)
_PRE_LETTERS = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "c": "rc", "pre": "rc", "preview": "rc", "rc": "rc"}


class Version(object):
    """A PEP 440 version; compares, hashes and prints in normalized form."""

    __slots__ = ("epoch", "release", "pre", "post", "dev", "local", "_key")

    def __init__(self, text):
        match = _VERSION_RE.match(text if isinstance(text, str) else "")
        if not match:
            raise InvalidVersion("invalid version: %r" % (text,))
        self.epoch = int(match.group("epoch") or 0)
        self.release = tuple(int(part) for part in match.group("release").split("."))
        self.pre = None
        if match.group("pre_l"):
            self.pre = (_PRE_LETTERS[match.group("pre_l").lower()], int(match.group("pre_n") or 0))
        self.post = None
        if match.group("post"):
            self.post = int(match.group("post_n1") or match.group("post_n2") or 0)
        self.dev = int(match.group("dev_n") or 0) if match.group("dev") else None
        self.local = None
        if match.group("local"):
            self.local = tuple(int(part) if part.isdigit() else part.lower()
                               for part in re.split(r"[-_.]", match.group("local")))
        self._key = self._make_key()

    def _make_key(self):
        release = list(self.release)
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        # Tagged tuples keep Python 3 comparisons between ints and strings well defined.
        if self.pre is None and self.post is None and self.dev is not None:
            pre = (0,)                      # 1.0.dev0 sorts before 1.0a0
        elif self.pre is None:
            pre = (2,)                      # a final release after its pre-releases
        else:
            pre = (1, self.pre[0], self.pre[1])
        post = (0,) if self.post is None else (1, self.post)
        dev = (1,) if self.dev is None else (0, self.dev)
        if self.local is None:
            local = (0,)
        else:                               # numeric segments sort after alphanumeric ones
            local = (1, tuple((1, part, "") if isinstance(part, int) else (0, 0, part) for part in self.local))
        return (self.epoch, tuple(release), pre, post, dev, local)

    # ---- derived values
    @property
    def is_prerelease(self):
        return self.pre is not None or self.dev is not None

    @property
    def is_postrelease(self):
        return self.post is not None

    @property
    def is_devrelease(self):
        return self.dev is not None

    @property
    def base_version(self):
        """Epoch and release only ("1!2.0rc1.post3+x" -> "1!2.0")."""
        text = ".".join(str(part) for part in self.release)
        return ("%d!%s" % (self.epoch, text)) if self.epoch else text

    @property
    def public(self):
        """The version without its local part."""
        return str(self).split("+", 1)[0]

    def __str__(self):
        text = self.base_version
        if self.pre is not None:
            text += "%s%d" % self.pre
        if self.post is not None:
            text += ".post%d" % self.post
        if self.dev is not None:
            text += ".dev%d" % self.dev
        if self.local is not None:
            text += "+" + ".".join(str(part) for part in self.local)
        return text

    def __repr__(self):
        return "<Version(%r)>" % str(self)

    def __hash__(self):
        return hash(self._key)

    def _other(self, other):
        if isinstance(other, Version):
            return other._key
        return None

    def __eq__(self, other):
        key = self._other(other)
        return NotImplemented if key is None else self._key == key

    def __ne__(self, other):
        key = self._other(other)
        return NotImplemented if key is None else self._key != key

    def __lt__(self, other):
        key = self._other(other)
        return NotImplemented if key is None else self._key < key

    def __le__(self, other):
        key = self._other(other)
        return NotImplemented if key is None else self._key <= key

    def __gt__(self, other):
        key = self._other(other)
        return NotImplemented if key is None else self._key > key

    def __ge__(self, other):
        key = self._other(other)
        return NotImplemented if key is None else self._key >= key


def parse_version(text):
    """A Version for text; raises InvalidVersion (a ValueError) naming the text."""
    if isinstance(text, Version):
        return text
    return Version(text)


def compare_versions(left, right):
    """-1, 0 or 1 as PEP 440 orders two versions (strings or Version)."""
    left, right = parse_version(left), parse_version(right)
    return (left > right) - (left < right)


def _coerce(item):
    """A Version for item, or None when it is not a valid PEP 440 version."""
    if isinstance(item, Version):
        return item
    try:
        return Version(str(item))
    except InvalidVersion:
        return None


# --------------------------------------------------------------------------- specifiers

_SPEC_RE = re.compile(r"^\s*(===|~=|==|!=|<=|>=|<|>)\s*([^\s;,]+)\s*$")
_WILDCARD_RE = re.compile(r"^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*$", re.IGNORECASE)


class Specifier(object):
    """One PEP 440 version specifier, e.g. ``>=1.0``, ``==1.*``, ``~=2.2``, ``===foo``."""

    def __init__(self, text):
        match = _SPEC_RE.match(text or "")
        if not match:
            raise InvalidSpecifier("invalid specifier: %r" % (text,))
        self.operator, self.version = match.group(1), match.group(2)
        self.wildcard = False
        self._version = None
        if self.operator == "===":
            return
        spec = self.version
        if self.operator in ("==", "!=") and spec.endswith(".*"):
            if not _WILDCARD_RE.match(spec[:-2]):
                raise InvalidSpecifier("invalid specifier: %r (a wildcard follows the release only)" % (text,))
            self.wildcard = True
            spec = spec[:-2]
        try:
            self._version = Version(spec)
        except InvalidVersion:
            raise InvalidSpecifier("invalid specifier: %r" % (text,))
        if self._version.local is not None and self.operator not in ("==", "!="):
            raise InvalidSpecifier("invalid specifier: %r (%s takes no local version)" % (text, self.operator))
        if self.operator == "~=" and len(self._version.release) < 2:
            raise InvalidSpecifier("invalid specifier: %r (~= needs at least two release numbers)" % (text,))

    def __str__(self):
        return self.operator + self.version

    def __repr__(self):
        return "<Specifier(%r)>" % str(self)

    @property
    def prereleases(self):
        """True when the specifier names a pre-release itself (so it admits pre-releases)."""
        if self.operator in ("==", ">=", "<=", "~=", "===", ">", "<") and self._version is not None:
            return self._version.is_prerelease
        if self.operator == "===":
            version = _coerce(self.version)
            return bool(version and version.is_prerelease)
        return False

    def contains(self, item, prereleases=None):
        """Does the version item (str or Version) match? Pre-releases only when prereleases is
        True or the specifier names one; an invalid version never matches (=== compares text)."""
        if self.operator == "===":
            return str(item).lower() == self.version.lower()
        version = _coerce(item)
        if version is None:
            return False
        if prereleases is None:
            prereleases = self.prereleases
        if version.is_prerelease and not prereleases:
            return False
        return self._match(version)

    __contains__ = contains

    def _match(self, version):
        op, spec = self.operator, self._version
        if op == "==":
            return self._equal(version)
        if op == "!=":
            return not self._equal(version)
        public = Version(version.public)
        if op == "<=":
            return public <= spec
        if op == ">=":
            return public >= spec
        if op == "<":
            if not version < spec:
                return False
            # Exclusive: <1.0 does not admit pre-releases of 1.0 unless it names one.
            return spec.is_prerelease or not version.is_prerelease or \
                Version(version.base_version) != Version(spec.base_version)
        if op == ">":
            if not version > spec:
                return False
            same_base = Version(version.base_version) == Version(spec.base_version)
            # Exclusive: >1.0 does not admit post-releases (or local versions) of 1.0.
            if not spec.is_postrelease and version.is_postrelease and same_base:
                return False
            return not (version.local is not None and same_base)
        if op == "~=":
            prefix = spec.release[:-1]
            return public >= spec and _prefix_match(version, spec.epoch, prefix)
        raise InvalidSpecifier("unknown operator %r" % op)  # pragma: no cover

    def _equal(self, version):
        spec = self._version
        if self.wildcard:
            return _prefix_match(version, spec.epoch, spec.release)
        if spec.local is None:
            version = Version(version.public)
        return version == spec


def _prefix_match(version, epoch, release):
    """==E!R.* : same epoch and the release, zero-padded, starts with R."""
    if version.epoch != epoch:
        return False
    padded = tuple(version.release) + (0,) * max(0, len(release) - len(version.release))
    return padded[:len(release)] == tuple(release)


class SpecifierSet(object):
    """Comma-separated specifiers, all of which must match ("" matches every version)."""

    def __init__(self, text=""):
        self.specifiers = []
        for part in (text or "").split(","):
            if part.strip():
                self.specifiers.append(Specifier(part))
        if (text or "").strip() and not self.specifiers:
            raise InvalidSpecifier("invalid specifier: %r" % (text,))

    def __str__(self):
        return ",".join(sorted(str(spec) for spec in self.specifiers))

    def __repr__(self):
        return "<SpecifierSet(%r)>" % str(self)

    def __len__(self):
        return len(self.specifiers)

    @property
    def prereleases(self):
        return any(spec.prereleases for spec in self.specifiers)

    def contains(self, item, prereleases=None):
        version = _coerce(item)
        if version is None:
            return bool(self.specifiers) and all(spec.operator == "===" and spec.contains(item)
                                                 for spec in self.specifiers)
        if prereleases is None:
            prereleases = self.prereleases
        if version.is_prerelease and not prereleases:
            return False
        return all(spec.contains(version, prereleases=True) for spec in self.specifiers)

    __contains__ = contains


# --------------------------------------------------------------------------- PEP 508 markers

#: Names whose values compare as versions; the others compare as strings.
VERSION_MARKERS = frozenset(("implementation_version", "platform_release", "python_full_version", "python_version"))
MARKER_NAMES = frozenset((
    "implementation_name", "implementation_version", "os_name", "platform_machine", "platform_release",
    "platform_system", "platform_version", "python_full_version", "platform_python_implementation",
    "python_version", "sys_platform", "extra",
))
_MARKER_ALIASES = {"python_implementation": "platform_python_implementation", "os.name": "os_name",
                   "sys.platform": "sys_platform", "platform.version": "platform_version",
                   "platform.machine": "platform_machine",
                   "platform.python_implementation": "platform_python_implementation"}
_MARKER_TOKEN_RE = re.compile(r"""
    \s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<string>'[^']*'|"[^"]*") |
        (?P<op>===|==|~=|!=|<=|>=|<|>) |
        (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""", re.VERBOSE)


def default_environment():
    """The marker environment of the running interpreter (the names of PEP 508)."""
    info = sys.implementation.version
    iver = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        iver += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": iver,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def _tokenize_marker(text):
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _MARKER_TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise InvalidMarker("invalid marker %r: unexpected text at %r" % (text, text[pos:pos + 20]))
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "word" and value in ("and", "or", "in", "not"):
            kind = value
        tokens.append((kind, value))
    return tokens


class _MarkerParser(object):
    """marker_or := marker_and ('or' marker_and)*; marker_and := atom ('and' atom)*;
    atom := '(' marker_or ')' | var op var; op := version_cmp | 'in' | 'not' 'in'."""

    def __init__(self, text):
        self.text = text
        self.tokens = _tokenize_marker(text)
        self.pos = 0

    def fail(self, why):
        raise InvalidMarker("invalid marker %r: %s" % (self.text, why))

    def peek(self):
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            self.fail("empty")
        tree = self.parse_or()
        if self.pos != len(self.tokens):
            self.fail("unexpected %r" % self.tokens[self.pos][1])
        return tree

    def parse_or(self):
        items = [self.parse_and()]
        while self.peek() == "or":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else ("or", items)

    def parse_and(self):
        items = [self.parse_atom()]
        while self.peek() == "and":
            self.take()
            items.append(self.parse_atom())
        return items[0] if len(items) == 1 else ("and", items)

    def parse_atom(self):
        if self.peek() == "lparen":
            self.take()
            tree = self.parse_or()
            if self.peek() != "rparen":
                self.fail("missing ')'")
            self.take()
            return tree
        left = self.parse_value()
        kind = self.peek()
        if kind == "op":
            op = self.take()[1]
        elif kind == "in":
            self.take()
            op = "in"
        elif kind == "not":
            self.take()
            if self.peek() != "in":
                self.fail("expected 'in' after 'not'")
            self.take()
            op = "not in"
        else:
            self.fail("expected a comparison operator")
        right = self.parse_value()
        if left[0] == "value" and right[0] == "value":
            self.fail("a comparison needs a marker name on one side")
        return ("cmp", left, op, right)

    def parse_value(self):
        kind = self.peek()
        if kind == "string":
            return ("value", self.take()[1][1:-1])
        if kind == "word":
            name = self.take()[1]
            name = _MARKER_ALIASES.get(name, name)
            if name not in MARKER_NAMES:
                self.fail("unknown marker name %r" % name)
            return ("var", name)
        self.fail("expected a marker name or a quoted string")
        return None  # pragma: no cover


class Marker(object):
    """A PEP 508 environment marker, e.g. ``python_version < "3.12" and sys_platform == "linux"``."""

    def __init__(self, text):
        self.text = (text or "").strip()
        self._tree = _MarkerParser(self.text).parse()

    def __str__(self):
        return self.text

    def __repr__(self):
        return "<Marker(%r)>" % self.text

    def evaluate(self, environment=None):
        """True when the marker holds in default_environment() updated with environment
        (``extra`` defaults to ""); raises UndefinedEnvironmentName for a name with no value."""
        env = default_environment()
        env["extra"] = ""
        if environment:
            env.update(environment)
        if env.get("extra") is None:
            env["extra"] = ""
        return _evaluate(self._tree, env)


def _evaluate(tree, env):
    kind = tree[0]
    if kind == "or":
        return any(_evaluate(item, env) for item in tree[1])
    if kind == "and":
        return all(_evaluate(item, env) for item in tree[1])
    _cmp, left, op, right = tree
    key = left[1] if left[0] == "var" else right[1]
    values = []
    for side in (left, right):
        if side[0] == "var":
            if side[1] not in env:
                raise UndefinedEnvironmentName("marker name %r has no value in the environment" % side[1])
            values.append(str(env[side[1]]))
        else:
            values.append(side[1])
    lhs, rhs = values
    if key == "extra":
        lhs, rhs = canonicalize_name(lhs) if lhs else lhs, canonicalize_name(rhs) if rhs else rhs
    if key in VERSION_MARKERS and op not in ("in", "not in"):
        try:
            spec = Specifier(op + rhs)
        except InvalidSpecifier:
            pass
        else:
            return spec.contains(lhs, prereleases=True)
    # Strings: PEP 508 defines only equality and containment; ordered operators on strings
    # never hold (<=/>= reduce to equality), as packaging answers.
    if op == "in":
        return lhs in rhs
    if op == "not in":
        return lhs not in rhs
    if op in ("==", "<=", ">=", "==="):
        return lhs == rhs
    if op == "!=":
        return lhs != rhs
    return False


# --------------------------------------------------------------------------- PEP 508 requirements

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*")
_EXTRAS_RE = re.compile(r"^\[\s*([^\]]*)\]\s*")
_EXTRA_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


class Requirement(object):
    """One PEP 508 requirement: name, extras (sorted list), specifier (SpecifierSet), url
    (``name @ url``, else None) and marker (Marker or None)."""

    def __init__(self, text):
        self.text = (text or "").strip()
        match = _NAME_RE.match(self.text)
        if not match:
            raise InvalidRequirement("invalid requirement %r: expected a project name" % self.text)
        self.name = match.group(1)
        rest = self.text[match.end():]
        self.extras = []
        extras = _EXTRAS_RE.match(rest)
        if extras:
            for extra in extras.group(1).split(","):
                extra = extra.strip()
                if extra:
                    if not _EXTRA_NAME_RE.match(extra):
                        raise InvalidRequirement("invalid requirement %r: bad extra %r" % (self.text, extra))
                    self.extras.append(extra)
            self.extras.sort()
            rest = rest[extras.end():]
        elif rest.startswith("["):
            raise InvalidRequirement("invalid requirement %r: unclosed '['" % self.text)
        self.url = None
        marker_text = None
        if rest.startswith("@"):
            rest = rest[1:].strip()
            # A marker after a URL needs whitespace before ';' (the URL may contain ';').
            split = re.search(r"\s+;", rest)
            url, marker_text = (rest[:split.start()], rest[split.end():]) if split else (rest, None)
            if not url:
                raise InvalidRequirement("invalid requirement %r: empty URL" % self.text)
            self.url = url.strip()
            spec_text = ""
        else:
            spec_text, sep, marker_text = rest.partition(";")
            if not sep:
                marker_text = None
            spec_text = spec_text.strip()
            if spec_text.startswith("("):
                if not spec_text.endswith(")"):
                    raise InvalidRequirement("invalid requirement %r: unclosed '('" % self.text)
                spec_text = spec_text[1:-1]
        try:
            self.specifier = SpecifierSet(spec_text)
        except InvalidSpecifier as exc:
            raise InvalidRequirement("invalid requirement %r: %s" % (self.text, exc))
        self.marker = None
        if marker_text is not None:
            try:
                self.marker = Marker(marker_text)
            except InvalidMarker as exc:
                raise InvalidRequirement("invalid requirement %r: %s" % (self.text, exc))

    @property
    def key(self):
        return canonicalize_name(self.name)

    def __str__(self):
        text = self.name
        if self.extras:
            text += "[%s]" % ",".join(self.extras)
        if self.url:
            text += " @ " + self.url + (" " if self.marker else "")
        else:
            text += str(self.specifier)
        if self.marker:
            text += "; " + str(self.marker)
        return text

    def __repr__(self):
        return "<Requirement(%r)>" % str(self)


# --------------------------------------------------------------------------- requirements.txt

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_OPTION_ARG_RE = re.compile(r"^(-[A-Za-z]|--[A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*|\s+)?(.*)$")
_INCLUDE_OPTIONS = ("-r", "--requirement")
_CONSTRAINT_OPTIONS = ("-c", "--constraint")
_EDITABLE_OPTIONS = ("-e", "--editable")
#: Options that only steer pip's index and build choices; they do not change what is required.
_IGNORED_OPTIONS = frozenset((
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links", "--pre", "--trusted-host",
    "--prefer-binary", "--require-hashes", "--only-binary", "--no-binary", "--use-feature",
    "--config-settings", "--global-option", "--hash",
))
_URLISH_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|\.{1,2}/|/|~)")


def _logical_lines(text, max_lines=MAX_LINES):
    """(first physical line number, logical line) after joining backslash continuations and
    dropping comments, as pip reads a requirements file."""
    result, buffer, start = [], [], None
    for number, line in enumerate(text.splitlines(), 1):
        if start is None:
            start = number
        if line.endswith("\\") and not _COMMENT_RE.match(line.strip()):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        joined = _COMMENT_RE.sub("", "".join(buffer)).strip()
        if joined:
            result.append((start, joined))
            if len(result) >= max_lines:
                return result
        buffer, start = [], None
    if buffer:
        joined = _COMMENT_RE.sub("", "".join(buffer)).strip()
        if joined:
            result.append((start, joined))
    return result[:max_lines]


def _split_option(line):
    """("-r", "other.txt") for an option line, else None."""
    match = _OPTION_ARG_RE.match(line)
    if not match:
        return None
    return match.group(1), match.group(2).strip()


def _requirement_entry(line, source, lineno):
    entry = {"line": line, "file": source, "lineno": lineno, "name": None, "key": None, "extras": [],
             "specifier": "", "marker": None, "url": None, "status": "ok", "error": None}
    # pip's per-requirement options (--hash=..., --config-settings ...) follow the requirement.
    text = re.split(r"\s+--?[A-Za-z]", " " + line, maxsplit=1)[0].strip() if " -" in line else line
    if _URLISH_RE.match(text) or text.startswith(("git+", "hg+", "svn+", "bzr+")):
        entry.update(status="unsupported", error="a URL or path requirement cannot be checked by version")
        entry["url"] = text
        return entry
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        entry.update(status="invalid", error=str(exc))
        return entry
    entry.update(name=req.name, key=req.key, extras=list(req.extras), specifier=str(req.specifier),
                 marker=str(req.marker) if req.marker else None, url=req.url)
    if req.url:
        entry.update(status="unsupported", error="a URL requirement (name @ url) cannot be checked by version")
    return entry


def parse_requirements_text(text, source="<text>"):
    """Parse one requirements text without following includes.

    Returns {"requirements": [entry...], "includes": [(lineno, path, index)], "constraints": [...],
    "ignored_options": [...], "errors": [...]}; an entry is {line, file, lineno, name, key,
    extras, specifier, marker, url, status ("ok" | "unsupported" | "invalid"), error}; an
    include's index is the number of requirements before it (where pip reads it in).
    """
    result = {"requirements": [], "includes": [], "constraints": [], "ignored_options": [], "errors": []}
    for lineno, line in _logical_lines(text or ""):
        if line.startswith("-"):
            option = _split_option(line)
            name, value = option if option else (line, "")
            if name in _INCLUDE_OPTIONS:
                if not value:
                    result["errors"].append("%s:%d: %s needs a file name" % (source, lineno, name))
                else:
                    result["includes"].append((lineno, value, len(result["requirements"])))
            elif name in _CONSTRAINT_OPTIONS:
                result["constraints"].append({"file": source, "lineno": lineno, "path": value})
            elif name in _EDITABLE_OPTIONS:
                entry = _requirement_entry(value or line, source, lineno)
                entry.update(line=line, status="unsupported", error="an editable requirement (-e) cannot be checked by version")
                result["requirements"].append(entry)
            elif name in _IGNORED_OPTIONS:
                result["ignored_options"].append({"file": source, "lineno": lineno, "option": name})
            else:
                result["errors"].append("%s:%d: unknown option %s" % (source, lineno, name))
            continue
        result["requirements"].append(_requirement_entry(line, source, lineno))
    return result


def parse_requirements_file(path, max_depth=MAX_DEPTH, max_files=MAX_FILES, max_bytes=MAX_FILE_BYTES):
    """Parse a requirements file and the files it includes with ``-r`` (relative to the file
    that includes them), at most max_depth levels deep and max_files files in all.

    Returns {"requirements": [...], "constraints": [...], "ignored_options": [...],
    "files": [paths read, in order], "errors": [...], "truncated": bool}. An include cycle,
    a file included twice, an unreadable file and a bound hit are reported, never raised.
    """
    state = {"requirements": [], "constraints": [], "ignored_options": [], "files": [], "errors": [],
             "truncated": False}
    _parse_file(os.path.abspath(path), state, [], max_depth, max_files, max_bytes, None)
    return state


def _parse_file(path, state, stack, max_depth, max_files, max_bytes, origin):
    real = os.path.realpath(path)
    if real in stack:
        state["errors"].append("%s: include cycle: %s" % (origin, " -> ".join(stack + [real])))
        return
    if real in [os.path.realpath(seen) for seen in state["files"]]:
        return                              # included twice (not a cycle): read once
    if len(stack) > max_depth:
        state["errors"].append("%s: includes nested deeper than %d levels; %s not read" % (origin, max_depth, path))
        state["truncated"] = True
        return
    if len(state["files"]) >= max_files:
        state["errors"].append("%s: more than %d requirements files; %s not read" % (origin, max_files, path))
        state["truncated"] = True
        return
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except (OSError, ValueError) as exc:
        where = "%s: " % origin if origin else ""
        state["errors"].append("%scannot read %s: %s" % (where, path, getattr(exc, "strerror", None) or exc))
        return
    if len(data) > max_bytes:
        state["errors"].append("%s is larger than %d bytes; only the start was read" % (path, max_bytes))
        state["truncated"] = True
        data = data[:max_bytes]
    state["files"].append(path)
    parsed = parse_requirements_text(data.decode("utf-8", errors="replace"), source=path)
    for key in ("constraints", "ignored_options", "errors"):
        state[key].extend(parsed[key])
    done = 0
    for lineno, include, index in parsed["includes"]:
        state["requirements"].extend(parsed["requirements"][done:index])
        done = index
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", include):
            state["errors"].append("%s:%d: remote include %s not followed" % (path, lineno, include))
            continue
        target = os.path.join(os.path.dirname(path), os.path.expanduser(include))
        _parse_file(os.path.normpath(target), state, stack + [real], max_depth, max_files, max_bytes,
                    "%s:%d" % (path, lineno))
    state["requirements"].extend(parsed["requirements"][done:])


# --------------------------------------------------------------------------- checking

def vendored_packaging():
    """pip's vendored packaging as (name, Requirement class, Version class), or None."""
    try:
        from pip._vendor.packaging.requirements import Requirement as VRequirement
        from pip._vendor.packaging.version import Version as VVersion
    except Exception:  # pylint: disable=broad-except  # any import failure means "not usable"
        return None
    return ("pip._vendor.packaging", VRequirement, VVersion)


def _check_with(line, installed, environment, backend):
    """(applies, satisfied) for one requirement line with the given backend tuple/None."""
    if backend is None:
        req = Requirement(line)
        applies = True if req.marker is None else req.marker.evaluate(environment)
        if installed is None or req.url:
            return applies, None
        return applies, req.specifier.contains(installed, prereleases=True)
    _name, req_class, _version_class = backend
    req = req_class(line)
    # Older packaging (before 22) has no default for "extra" and raises on `extra == "x"`.
    environment = dict(environment or {})
    environment.setdefault("extra", "")
    applies = True if req.marker is None else req.marker.evaluate(environment)
    if installed is None or req.url:
        return applies, None
    return applies, req.specifier.contains(installed, prereleases=True)


def check_requirement(line, installed, environment=None, backend="auto"):
    """Check one PEP 508 requirement line against the installed version (str or None).

    backend: "auto" (pip's vendored packaging when importable, else this module), "vendored"
    (that or an error) or "stdlib". environment updates the marker environment (defaults:
    the running interpreter's). Returns {requirement, name, key, installed, applies,
    satisfied, status, backend, error}; status is "ok", "missing", "mismatch",
    "not_applicable" (marker false), "unsupported" (URL) or "invalid". Never raises.
    """
    result = {"requirement": line, "name": None, "key": None, "installed": installed, "applies": None,
              "satisfied": None, "status": "invalid", "backend": "stdlib", "error": None}
    chosen = None
    if backend in ("auto", "vendored"):
        chosen = vendored_packaging()
        if chosen is None and backend == "vendored":
            result["error"] = "pip._vendor.packaging cannot be imported here"
            return result
    elif backend != "stdlib":
        result["error"] = "backend must be auto, vendored or stdlib, not %r" % (backend,)
        return result
    if chosen is not None:
        result["backend"] = chosen[0]
    try:
        parsed = Requirement(line)
        result["name"], result["key"] = parsed.name, parsed.key
        applies, satisfied = _check_with(line, installed, environment, chosen)
    except Exception as exc:  # pylint: disable=broad-except  # both backends' parse/evaluate errors
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
        return result
    result["applies"], result["satisfied"] = bool(applies), satisfied
    if not applies:
        result["status"] = "not_applicable"
    elif parsed.url:
        result["status"] = "unsupported"
        result["error"] = "a URL requirement (name @ url) cannot be checked by version"
    elif installed is None:
        result["status"] = "missing"
    else:
        result["status"] = "ok" if satisfied else "mismatch"
    return result


def check_requirements(entries, installed, environment=None, backend="auto"):
    """check_requirement for every parsed entry (from parse_requirements_*) with installed a
    dict {canonical name: version}; entries that are not "ok" to parse keep their status."""
    results = []
    versions = dict((canonicalize_name(name), version) for name, version in (installed or {}).items())
    for entry in entries:
        if entry.get("status") != "ok":
            results.append(dict(entry, applies=None, satisfied=None, installed=None, backend=None))
            continue
        checked = check_requirement(entry["line"] if " -" not in entry["line"] else _strip_options(entry["line"]),
                                    versions.get(entry["key"]), environment, backend)
        checked.update(file=entry.get("file"), lineno=entry.get("lineno"))
        results.append(checked)
    return results


def _strip_options(line):
    return re.split(r"\s+--?[A-Za-z]", " " + line, maxsplit=1)[0].strip()


def installed_versions():
    """{canonical name: version} of the distributions the running interpreter sees."""
    versions = _scan_metadata()
    return _importlib_versions() if versions is None else versions


def _importlib_versions():
    """installed_versions() as importlib.metadata answers it."""
    versions = {}
    try:
        from importlib import metadata  # Python 3.8+
    except ImportError:  # pragma: no cover - Python 3.6/3.7: read the .dist-info names
        return _scan_dist_info()
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:  # pylint: disable=broad-except  # a broken METADATA file
            name = None
        if name and canonicalize_name(name) not in versions:
            versions[canonicalize_name(name)] = dist.version
    return versions


# importlib.metadata costs ~35 ms of CPU to import (email, zipfile, pathlib, csv) in every
# diagnosis, for a loop that reads the Name and Version headers of a few METADATA files.
# _scan_metadata() walks sys.path the way importlib.metadata's MetadataPathFinder does on
# Python 3.10+ (FastPath.children / Lookup / PathDistribution.metadata, the same in 3.10-3.13)
# and reads the headers as email.feedparser with the compat32 policy does, so it gives
# the same answer; anything it does not copy (another finder with find_distributions on
# sys.meta_path, a zip on sys.path, an unreadable file) makes it answer None, and then
# importlib.metadata itself is asked.
_HEADER_RE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")


def _scan_metadata(paths=None):
    """installed_versions() without importlib.metadata, or None when it cannot say the same.

    paths: the search path to scan instead of sys.path, for the distributions another run of
    this interpreter would see (module_utils/_probe_python.py: what ``python -I`` has on
    sys.path); the caller then answers for that run's finders (sys.meta_path is not checked)."""
    if sys.version_info < (3, 10):
        return None
    if paths is None:
        for finder in sys.meta_path:
            if getattr(finder, "find_distributions", None) is not None and \
                    getattr(finder, "__name__", None) != "PathFinder":
                return None
        paths = sys.path
    versions = {}
    for entry in paths:
        try:
            children = os.listdir(entry or ".")
        except OSError:
            if os.path.isfile(entry):
                return None                 # a zip on sys.path: importlib.metadata reads it
            continue
        base = os.path.basename(entry).lower()
        infos, eggs = {}, []
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                key = re.sub(r"[-_.]+", "-", low.rpartition(".")[0].partition("-")[0]).lower().replace("-", "_")
                infos.setdefault(key, []).append(child)
            elif base.endswith(".egg") and low == "egg-info":
                eggs.append(child)
        for child in [item for group in infos.values() for item in group] + eggs:
            headers = _metadata_headers(os.path.join(entry or ".", child))
            if headers is None or "\n" in (headers.get("name") or "") + (headers.get("version") or ""):
                return None                 # folded headers: importlib.metadata re-indents them (3.10 unlike 3.11)
            name = headers.get("name")
            if name and canonicalize_name(name) not in versions:
                versions[canonicalize_name(name)] = headers.get("version")
    return versions


def _metadata_headers(path):
    """{lowercased header: first value} of METADATA, else PKG-INFO, else the egg-info file
    itself, parsed as email.message_from_string does; {} when unreadable as importlib.metadata
    skips it; None for an error importlib.metadata would not swallow."""
    text = None
    for name in ("METADATA", "PKG-INFO", ""):
        try:
            with open(os.path.join(path, name) if name else path, "r", encoding="utf-8") as handle:
                text = handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            continue
        except UnicodeDecodeError:
            return {}                       # dist.metadata raises: installed_versions skips it
        except OSError:
            return None
        if text:
            break
    if not text:
        return {}
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    block = []
    for line in lines:
        if not line or not _HEADER_RE.match(line):
            break                           # the blank separator line, or the body begins
        block.append(line)
    headers, last = {}, None
    for lineno, line in enumerate(block):
        if line[0] in " \t":
            if last is not None:
                last.append(line)
            continue
        if last is not None:
            _set_header(headers, last)
            last = None
        if line.startswith("From "):
            if lineno == len(block) - 1 and lineno:
                break
            continue
        if line.find(":") > 0:
            last = [line]
    if last is not None:
        _set_header(headers, last)
    return headers


def _set_header(headers, source_lines):
    name, value = source_lines[0].split(":", 1)
    headers.setdefault(name.lower(), (value.lstrip(" \t") + "".join(source_lines[1:])).rstrip("\r\n"))


def _scan_dist_info():  # pragma: no cover - only on Python < 3.8
    versions = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")) and "-" in name:
                project, version = name.rsplit(".", 1)[0].split("-", 1)
                versions.setdefault(canonicalize_name(project), version.split("-")[0])
    return versions


def probe(request):
    """What main() answers: request {"requirements_file": path} or {"lines": [...]},
    optional "environment" (overrides), "installed" ({name: version}, default: this
    interpreter's distributions), "backend", "max_depth", "max_files"."""
    if request.get("requirements_file"):
        parsed = parse_requirements_file(request["requirements_file"],
                                         max_depth=int(request.get("max_depth", MAX_DEPTH)),
                                         max_files=int(request.get("max_files", MAX_FILES)))
    else:
        parsed = parse_requirements_text("\n".join(request.get("lines") or []), source="<lines>")
        parsed.setdefault("files", [])
        parsed.setdefault("truncated", False)
    installed = request.get("installed")
    if installed is None:
        installed = installed_versions()
    env = default_environment()
    env.update(request.get("environment") or {})
    backend = request.get("backend", "auto")
    chosen = vendored_packaging() if backend != "stdlib" else None
    return {
        "python": sys.executable, "environment": env,
        "backend": chosen[0] if chosen else "stdlib",
        "results": check_requirements(parsed["requirements"], installed, env, backend),
        "constraints": parsed["constraints"], "ignored_options": parsed["ignored_options"],
        "files": parsed["files"], "errors": parsed["errors"], "truncated": parsed["truncated"],
    }


# --------------------------------------------------------------------------- the deps probe's one run

def deps_check(request):
    """Everything the diagnose ``deps`` probe asks the app's interpreter, in one run of it
    (module_utils/_probe_python.py sends this file's source as ``python -I -c``).

    request: probe()'s request when "requirements_file" is set, plus "deps": {"modules": [names
    to import], "dists": [names whose version to read], "app_module": path to compile or None,
    "max_source": bytes}. Returns {"deps": {python_version, executable, uid, imports, dists,
    syntax}, "requirements": probe()'s answer with "specifier"/"marker" text per result, or
    {"crashed": "Type: message"}, or None}. The requirements are checked first, before any
    import of the app's modules can change this interpreter.
    """
    answer = {"deps": None, "requirements": None}
    if request.get("requirements_file"):
        try:
            answer["requirements"] = probe(request)
            for result in answer["requirements"]["results"]:
                result["specifier_text"], result["marker_text"] = _requirement_texts(
                    result.get("requirement") or result.get("line") or "")
        except Exception as exc:  # pylint: disable=broad-except  # reported, the imports still run
            answer["requirements"] = {"crashed": ("%s: %s" % (type(exc).__name__, exc))[:500]}
    answer["deps"] = _deps_report(request.get("deps") or {})
    return answer


def _requirement_texts(line):
    """(specifier, marker) of a requirement line as text (None when empty/absent or unparsable)."""
    try:
        parsed = Requirement(line)
    except ValueError:
        return None, None
    return str(parsed.specifier) or None, str(parsed.marker) if parsed.marker is not None else None


def _dist_version(name):
    """(version, error) of the distribution providing module name (a few spellings tried)."""
    try:
        from importlib import metadata  # imported only here: most runs read no versions this way
    except ImportError:
        return None, "importlib.metadata is not available (Python < 3.8)"
    low = name.lower()
    seen = []
    for cand in (name, low, low.replace("_", "-"), low.replace("-", "_"), low.replace(".", "-")):
        if cand in seen:
            continue
        seen.append(cand)
        try:
            return metadata.version(cand), None
        except Exception:  # pylint: disable=broad-except  # PackageNotFoundError or a broken METADATA
            pass
    return None, "not installed"


def _deps_report(req):
    """Import each module, read versions, compile the app module from source (no .pyc)."""
    import importlib
    out = {"python_version": sys.version.split()[0], "executable": sys.executable, "uid": os.getuid(),
           "imports": {}, "dists": {}, "syntax": None}
    for mod in req.get("modules") or []:
        entry = {"ok": False, "version": None, "error": None, "missing_name": None}
        try:
            module = importlib.import_module(mod)
        except BaseException as exc:  # pylint: disable=broad-except  # SystemExit/KeyboardInterrupt of an import too
            entry["error"] = ("%s: %s" % (type(exc).__name__, exc))[:500]
            if isinstance(exc, ImportError):
                entry["missing_name"] = getattr(exc, "name", None)
        else:
            entry["ok"] = True
            version, _err = _dist_version(mod.split(".")[0])
            if version is None:
                version = getattr(module, "__version__", None)
            entry["version"] = None if version is None else str(version)[:100]
        out["imports"][mod] = entry
    for name in req.get("dists") or []:
        version, err = _dist_version(name)
        out["dists"][name] = {"version": version, "error": err}
    path = req.get("app_module")
    if path:
        out["syntax"] = _syntax(path, int(req.get("max_source") or MAX_FILE_BYTES))
    return out


def _syntax(path, max_source):
    syn = {"checked": False, "ok": None, "file": path, "line": None, "offset": None, "message": None, "text": None}
    try:
        with open(path, "rb") as handle:
            source = handle.read(max_source + 1)
    except (IOError, OSError) as exc:
        syn["message"] = "cannot read %s: %s" % (path, getattr(exc, "strerror", None) or exc)
        return syn
    if len(source) > max_source:
        syn["message"] = "%s is larger than %d bytes: not compiled" % (path, max_source)
        return syn
    syn["checked"] = True
    try:
        compile(source, path, "exec", dont_inherit=True)
        syn["ok"] = True
    except SyntaxError as exc:
        syn.update(ok=False, file=exc.filename or path, line=exc.lineno, offset=exc.offset,
                   message="%s: %s" % (type(exc).__name__, exc.msg), text=(exc.text or "").rstrip()[:300] or None)
    except (ValueError, TypeError) as exc:
        syn.update(ok=False, message="%s: %s" % (type(exc).__name__, exc))
    return syn


def main(stdin=None, stdout=None):
    """Read a JSON request from stdin, write probe()'s JSON answer to stdout; returns 0
    (answered) or 2 (the request is not JSON)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    try:
        request = json.loads(stdin.read() or "{}")
        if not isinstance(request, dict):
            raise ValueError("the request must be a JSON object")
    except ValueError as exc:
        stdout.write(json.dumps({"error": "bad request: %s" % exc}) + "\n")
        return 2
    if "deps" in request:
        # The imports may print: the answer is the last line, after the request's marker.
        answer = deps_check(request)
        stdout.write("\n" + str(request.get("marker") or "") + json.dumps(answer, sort_keys=True) + "\n")
        stdout.flush()
        return 0
    stdout.write(json.dumps(probe(request), sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
