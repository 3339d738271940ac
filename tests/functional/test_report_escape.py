# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped reports (the smoke JUnit template, beatsync.ops.fleet_summary) through ansible-playbook with host answers that hold control
characters, '|', backticks and line breaks: the JUnit XML parses (xml.etree) and every fleet
summary row has one cell per column. Also ansible-doc finds the filters' documentation."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from testlib import REPO, ansible_env

from ansible_collections.beatsync.ops.plugins.module_utils._escape import md_row_cells

BIN = Path(sys.executable).parent
TEMPLATES = REPO / "playbooks" / "templates"
ANSWER = "HTTP 503 Service\x07Unavailable\x1b[0m <b>&amp;</b> | `rm -rf` \\ \x00end\ufffe"

PLAYBOOK = """
- name: Render the reports from host answers
  hosts: all
  gather_facts: false
  tasks:
    - name: What the hosts answered
      ansible.builtin.set_fact:
        beatsync_smoke_health: "{{ answers[inventory_hostname].health }}"
        beatsync_smoke_docs: "{{ answers[inventory_hostname].docs }}"
        beatsync_outcome: "{{ answers[inventory_hostname].outcome }}"
        beatsync_report: "{{ answers[inventory_hostname].report }}"

    - name: JUnit XML
      ansible.builtin.template:
        src: %(templates)s/smoke_junit.xml.j2
        dest: %(out)s/smoke-junit.xml
        mode: "0600"
      run_once: true

    - name: Fleet summary
      beatsync.ops.fleet_summary:
        reports: "{{ ansible_play_hosts_all | map('extract', hostvars) | map(attribute='beatsync_report') | list }}"
        dir: %(out)s
      run_once: true
"""


def host_answers():
    bad = {
        "health": {"healthy": False, "status": 503, "error": ANSWER, "elapsed": 0.01},
        "docs": {"docs_ok": False, "problem": "docs_unavailable\x1b", "docs": {"status": 503, "elapsed": 0.02}},
        "outcome": {"findings": [{"summary": "reason phrase: " + ANSWER}, {"summary": "line one\nline | two"}]},
        "report": {"host": "web-1", "before": "degraded", "before_root_cause": "docs\x07_503", "verdict": "degraded",
                   "root_cause": "port|conflict", "remedy": None, "actions": ["restart `x`", "a\nb"],
                   "summary": "answered " + ANSWER + "\nsecond line"},
    }
    good = {
        "health": {"healthy": True, "status": 200, "elapsed": 0.01},
        "docs": {"docs_ok": True, "docs": {"status": 200, "elapsed": 0.01}},
        "outcome": {"findings": []},
        "report": {"host": "web-2", "before": "healthy", "before_root_cause": None, "verdict": "healthy",
                   "root_cause": None, "remedy": None, "actions": [], "summary": ""},
    }
    return {"web-1": bad, "web-2": good}


def test_reports_with_control_characters(tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {name: {"ansible_connection": "local",
                                                              "ansible_python_interpreter": sys.executable}
                                                       for name in ("web-1", "web-2")}}}))
    (tmp_path / "vars.json").write_text(json.dumps({"answers": host_answers()}))
    (tmp_path / "play.yml").write_text(PLAYBOOK % {"templates": TEMPLATES, "out": tmp_path})
    env = ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-e", "@" + str(tmp_path / "vars.json"),
                           str(tmp_path / "play.yml")], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

    raw = (tmp_path / "smoke-junit.xml").read_bytes()
    root = ET.fromstring(raw)                        # raises on invalid XML
    failures = root.findall(".//failure")
    assert len(failures) == 2
    message = failures[0].get("message")
    assert "Service\ufffdUnavailable" in message and "<b>&amp;</b> | `rm -rf`" in message
    assert "\x07" not in raw.decode("utf-8") and "\x1b" not in raw.decode("utf-8")
    assert failures[0].text.splitlines()[1] == "line one"
    assert root.find("testsuite").get("failures") == "2"

    summary = (tmp_path / "fleet-summary.md").read_text(encoding="utf-8")
    rows = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(rows) == 4                             # header, rule, one row per host
    assert all(len(md_row_cells(row)) == 6 for row in rows), rows
    web1 = md_row_cells(rows[2])
    assert web1[0] == "web-1" and web1[3] == "port\\|conflict" and web1[5] == "restart \\`x\\`, a<br>b"
    assert "\x07" not in summary and "\x1b" not in summary and "\x00" not in summary
    bullets = [line for line in summary.splitlines() if line.startswith("- ")]
    assert len(bullets) == 1 and bullets[0].startswith("- **web-1**: answered HTTP 503")
    assert bullets[0].endswith("<br>second line")


def test_ansible_doc_reads_the_filter_docs():
    for name in ("xml_text", "md_cell"):
        proc = subprocess.run([str(BIN / "ansible-doc"), "-t", "filter", "--json", "beatsync.ops." + name],
                              env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)["beatsync.ops." + name]["doc"]
        assert doc["name"] == name and doc["short_description"]
