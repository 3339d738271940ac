"""Make the collection tarballs ee/requirements.yml names, in build/ee/collections/, and print
a digest of their CONTENT (what goes into the execution environment's cache tag).

- beatsync.ops: `ansible-galaxy collection build` of this checkout (galaxy.yml's version and
  build_ignore); its file name must be the one ee/requirements.yml lists.
- any other collection listed (community.general): the copy installed in the toolchain venv
  (the `ansible` package), packed as a collection artifact: MANIFEST.json kept, FILES.json
  reduced to the files the package ships (it strips tests/ and more), so that
  `ansible-galaxy collection install` verifies every file it extracts.

The digest covers MANIFEST.json and FILES.json of every tarball (FILES.json lists each file's
sha256), not the tarballs' bytes, which change with every build (mtimes).

    .venv/bin/python scripts/ee-collections.py [--venv .venv] [--out build/ee/collections]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

TOP = Path(__file__).resolve().parents[1]
FILE_RE = re.compile(r"^collections/([a-z0-9_]+)-([a-z0-9_]+)-(\d+\.\d+\.\d+[^/]*)\.tar\.gz$")


def fail(message):
    sys.stderr.write("ee-collections: %s\n" % message)
    sys.exit(1)


def wanted():
    """[(namespace, name, version, file name)] from ee/requirements.yml."""
    entries = []
    for item in yaml.safe_load((TOP / "ee" / "requirements.yml").read_text())["collections"]:
        match = FILE_RE.match(item["name"])
        if item.get("type") != "file" or not match:
            fail("ee/requirements.yml: %r is not collections/<namespace>-<name>-<version>.tar.gz of type file"
                 % item["name"])
        entries.append((match.group(1), match.group(2), match.group(3), Path(item["name"]).name))
    return entries


def build_own(version, dest, venv):
    galaxy = yaml.safe_load((TOP / "galaxy.yml").read_text())
    if galaxy["version"] != version:
        fail("ee/requirements.yml pins beatsync.ops %s but galaxy.yml says %s: update ee/requirements.yml"
             % (version, galaxy["version"]))
    proc = subprocess.run([str(venv / "bin" / "ansible-galaxy"), "collection", "build", "--force",
                           "--output-path", str(dest.parent), str(TOP)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not dest.is_file():
        fail("ansible-galaxy collection build failed:\n%s%s" % (proc.stdout, proc.stderr))


def pack_installed(namespace, name, version, dest, venv):
    found = sorted(venv.glob("lib/python3*/site-packages/ansible_collections/%s/%s/MANIFEST.json" % (namespace, name)))
    if not found:
        fail("%s.%s is not installed in %s (the `ansible` package of requirements/toolchain.txt)"
             % (namespace, name, venv))
    root = found[0].parent
    manifest = json.loads(found[0].read_text())
    have = manifest["collection_info"]["version"]
    if have != version:
        fail("ee/requirements.yml pins %s.%s %s but the toolchain has %s: update ee/requirements.yml"
             % (namespace, name, version, have))
    files = json.loads((root / "FILES.json").read_text())
    kept = []
    for entry in files["files"]:
        path = root / entry["name"]
        if entry["name"] == ".":
            continue
        if entry["ftype"] == "dir" and path.is_dir() or entry["ftype"] == "file" and path.is_file():
            kept.append(entry)
    files_json = json.dumps(dict(files, files=[{"name": ".", "ftype": "dir", "chksum_type": None,
                                                "chksum_sha256": None, "format": 1}] + kept),
                            indent=4).encode()
    tmp = dest.with_suffix(".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for member_name, data in (("MANIFEST.json", found[0].read_bytes()), ("FILES.json", files_json)):
            info = tarfile.TarInfo(member_name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
        for entry in kept:
            tar.add(root / entry["name"], arcname=entry["name"], recursive=False)
    tmp.replace(dest)


def content_digest(path):
    digest = hashlib.sha256()
    with tarfile.open(path) as tar:
        for member_name in ("MANIFEST.json", "FILES.json"):
            handle = tar.extractfile(member_name)
            if handle is None:
                fail("%s has no %s" % (path, member_name))
            digest.update(member_name.encode() + b"\0" + handle.read() + b"\0")
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--venv", default=str(TOP / ".venv"))
    parser.add_argument("--out", default=str(TOP / "build" / "ee" / "collections"))
    args = parser.parse_args()
    venv, out = Path(args.venv), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = set()
    total = hashlib.sha256()
    for namespace, name, version, file_name in wanted():
        dest = out / file_name
        names.add(file_name)
        if (namespace, name) == ("beatsync", "ops"):
            build_own(version, dest, venv)
        else:
            pack_installed(namespace, name, version, dest, venv)
        total.update(file_name.encode() + b"\0" + content_digest(dest).encode() + b"\n")
    for stale in out.glob("*.tar.gz"):
        if stale.name not in names:
            stale.unlink()
    print(total.hexdigest())


if __name__ == "__main__":
    main()
