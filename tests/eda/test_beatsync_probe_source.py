"""The EDA event source beatsync.ops.beatsync_probe, driven for real: main() with an
asyncio.Queue against fixture uvicorn servers on loopback, switched between healthy and
faulty on the same port. Asserts edge detection: one event per transition, none while steady."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import time

import pytest

from testlib import REPO, free_port
from eda_fixtures import swappable_app  # noqa: F401  pylint: disable=unused-import

SOURCE_FILE = REPO / "extensions" / "eda" / "plugins" / "event_source" / "beatsync_probe.py"


def _load_source():
    spec = importlib.util.spec_from_file_location("beatsync_probe_source", SOURCE_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SRC = _load_source()


class Watch:
    """main() running as a task; collects events with their arrival time."""

    def __init__(self, args):
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(SRC.main(self.queue, args))

    async def next_event(self, timeout):
        started = time.monotonic()
        event = await asyncio.wait_for(self.queue.get(), timeout)
        return event, time.monotonic() - started

    async def quiet_for(self, seconds):
        """Assert no event arrives for `seconds` (the task keeps polling meanwhile)."""
        await asyncio.sleep(seconds)
        assert not self.task.done(), self.task.exception() if self.task.done() else None
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        assert events == [], "events while the host was steady: %r" % events

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


def test_one_event_per_transition(swappable_app, start_server):
    app = swappable_app()
    port = app.port

    async def scenario():
        watch = Watch({"hosts": [{"name": "web1", "address": "127.0.0.1", "port": port}],
                       "interval": 0.3, "timeout": 10})
        try:
            await watch.quiet_for(1.5)  # healthy at start: nothing

            # the runbook's incident: the port stays open, health fine, /docs 503
            await asyncio.to_thread(app.swap, "docs_503")
            event, waited = await watch.next_event(30)
            assert event["host"] == "web1"
            assert event["state"] == "failing" and event["previous_state"] == "healthy"
            assert event["check"] == "docs"
            assert event["status"] == 503
            assert event["problem"] == "docs_unavailable"
            assert event["error"].startswith("HTTP 503")
            assert event["consecutive_failures"] == 1
            assert event["flaps"] == 1
            assert event["url"] == "http://127.0.0.1:%d/docs" % port
            assert event["source"] == "beatsync.ops.beatsync_probe"
            await watch.quiet_for(1.5)  # still failing: no more events

            # another failure while failing (the health check now): still no event
            await asyncio.to_thread(app.swap, "health_unhealthy")
            await asyncio.to_thread(app.wait_ready)
            await watch.quiet_for(1.2)

            await asyncio.to_thread(app.swap, "")
            event, waited = await watch.next_event(30)
            assert event["state"] == "healthy" and event["previous_state"] == "failing"
            assert event["check"] is None and event["problem"] is None
            assert event["consecutive_failures"] == 0
            assert event["down_seconds"] > 0
            await watch.quiet_for(1.5)

            # the service is gone and the port closed: the health check fails, refused
            await asyncio.to_thread(app.close)
            event, waited = await watch.next_event(30)
            assert event["state"] == "failing" and event["check"] == "health"
            assert event["status"] is None
            # refused once the socket is closed; a poll already accepted in the backlog while the
            # server went away sees the reset first (both are "nothing serves", seen honestly)
            assert event["problem"] in ("health_refused", "health_reset")
            assert event["flaps"] == 2  # second healthy -> failing within the flap window
            await watch.quiet_for(1.2)

            # back on the same port (a plain bind this time)
            await asyncio.to_thread(start_server, port=port)
            event, waited = await watch.next_event(30)
            assert event["state"] == "healthy" and event["previous_state"] == "failing"
            await watch.quiet_for(1.0)
        finally:
            await watch.stop()

    asyncio.run(scenario())


def test_failing_at_start_threshold_and_several_hosts(start_server):
    good = start_server()
    bad = start_server(faults="health_500")
    hung = start_server(faults="docs_hang")

    async def scenario():
        watch = Watch({"hosts": [{"name": "good", "base_url": good.base_url},
                                 {"name": "bad", "address": "127.0.0.1", "port": bad.port},
                                 {"name": "hung", "base_url": hung.base_url}],
                       "interval": 0.3, "timeout": 0.5, "threshold": 2})
        try:
            started = time.monotonic()
            events = {}
            for dummy in range(2):
                event, _waited = await watch.next_event(10)
                events[event["host"]] = event
            elapsed = time.monotonic() - started
            assert set(events) == {"bad", "hung"}
            assert events["bad"]["previous_state"] == "unknown"
            assert events["bad"]["check"] == "health" and events["bad"]["status"] == 500
            assert events["bad"]["consecutive_failures"] == 2  # threshold 2: debounced
            # a hanging /docs is bounded by the timeout: reported, not waited for
            assert events["hung"]["check"] == "docs" and events["hung"]["problem"] == "docs_timeout"
            assert elapsed < 6, elapsed
            await watch.quiet_for(1.5)
        finally:
            await watch.stop()

    asyncio.run(scenario())


def test_max_polls_and_initial_healthy(start_server):
    server = start_server()
    queue = asyncio.Queue()
    started = time.monotonic()
    asyncio.run(SRC.main(queue, {"hosts": [server.base_url], "interval": 0.2, "max_polls": 3,
                                 "emit_initial_healthy": True}))
    assert time.monotonic() - started < 5
    assert queue.qsize() == 1
    event = queue.get_nowait()
    assert event["host"] == "127.0.0.1" and event["state"] == "healthy" and event["previous_state"] == "unknown"


def test_check_docs_off_ignores_docs(start_server):
    server = start_server(faults="docs_503")
    queue = asyncio.Queue()
    asyncio.run(SRC.main(queue, {"hosts": [server.base_url], "interval": 0.1, "max_polls": 2, "check_docs": False}))
    assert queue.empty()


@pytest.mark.parametrize("args, message", [
    ({}, "hosts or inventory must name at least one host"),
    ({"hosts": []}, "hosts or inventory must name at least one host"),
    ({"hosts": 5}, "hosts must be a list"),
    ({"inventory": "/nonexistent/hosts.yml"}, "/nonexistent/hosts.yml does not exist"),
    ({"hosts": ["a:x"]}, "no valid host to watch: hosts: bad port"),
    ({"hosts": ["http://a:x/"]}, "bad URL in 'http://a:x/' .Port could not be cast"),
    ({"hosts": ["web 1", "http://bad host:80"]}, "malformed address of web 1: 'web 1'.*malformed address 'bad host'"),
    ({"hosts": [{"address": "1.2.3.4"}]}, "with a name"),
    ({"hosts": ["ftp://x"]}, "not an http(s) URL"),
    ({"hosts": ["a"], "interval": 0}, "interval must be from"),
    ({"hosts": ["a"], "timeout": "soon"}, "timeout must be a number"),
    ({"hosts": ["a"], "threshold": 1.5}, "threshold must be an integer"),
    ({"hosts": ["a"], "check_docs": "maybe"}, "check_docs must be a boolean"),
    ({"hosts": ["a"], "docs_path": "docs"}, "docs_path must be a path"),
])
def test_bad_arguments_are_named(args, message):
    with pytest.raises(SRC.ArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        asyncio.run(SRC.main(asyncio.Queue(), args))


def test_host_forms():
    settings = SRC.parse_args({"hosts": ["web1", "web2:8080", "http://[::1]:9000/",
                                         {"name": "web3", "address": "::1", "port": 81},
                                         {"name": "web4", "base_url": "https://x.example:8443"}],
                               "port": 8001})
    assert [(h["name"], h["base_url"]) for h in settings["hosts"]] == [
        ("web1", "http://web1:8001"), ("web2", "http://web2:8080"), ("::1", "http://[::1]:9000"),
        ("web3", "http://[::1]:81"), ("web4", "https://x.example:8443")]


def test_flaps_are_counted_within_the_window():
    state = SRC.HostState("h", threshold=1, flap_window=10)
    bad = {"ok": False, "check": "docs", "status": 503, "url": "u", "problem": "docs_unavailable",
           "error": "HTTP 503", "error_class": "other"}
    good = {"ok": True, "check": None, "status": 200, "url": "u", "problem": None, "error": None, "error_class": None}
    assert state.update(good, now=0) is None
    flaps = []
    for step in range(4):
        flaps.append(state.update(bad, now=1 + step * 4)["flaps"])
        assert state.update(bad, now=2 + step * 4) is None
        assert state.update(good, now=3 + step * 4)["state"] == "healthy"
    # transitions at t=1, 5, 9, 13: the one at 1 drops out of the 10 s window at t=13
    assert flaps == [1, 2, 3, 3]


def _inventory(tmp_path, text):
    path = tmp_path / "hosts.yml"
    path.write_text(text)
    return str(path)


def test_hosts_from_an_inventory_group_and_its_children(tmp_path):
    inventory = _inventory(tmp_path, """
beatsync:
  vars:
    beatsync_port: 8001
  hosts:
    web1:
      ansible_host: 192.0.2.10
    web2:
      ansible_host: 192.0.2.11
      beatsync_external_address: 198.51.100.11
  children:
    beatsync_canary:
      hosts:
        canary1:
          beatsync_port: 9000
          beatsync_external_address: "{{ ansible_host }}"
other:
  hosts:
    db1:
""")
    settings = SRC.parse_args({"inventory": inventory})
    assert [(h["name"], h["base_url"]) for h in settings["hosts"]] == [
        ("web1", "http://192.0.2.10:8001"), ("web2", "http://198.51.100.11:8001"),
        # a templated address is not rendered: the inventory name is the fallback
        ("canary1", "http://canary1:9000")]
    only_canary = SRC.parse_args({"inventory": inventory, "group": "beatsync_canary", "hosts": ["extra:81"]})
    assert [h["name"] for h in only_canary["hosts"]] == ["extra", "canary1"]


@pytest.mark.parametrize("text, message", [
    ("other:\n  hosts:\n    db1:\n", "group 'beatsync' of .* has no hosts"),
    # the only host is bad: nothing left to watch (a bad host among good ones is skipped)
    ("beatsync:\n  hosts:\n    web1:\n      beatsync_port: 70000\n", "port of web1 must be 1-65535"),
    ("beatsync:\n  hosts:\n    web1:\n      beatsync_port: http\n", "bad port for web1"),
])
def test_bad_inventories_are_named(tmp_path, text, message):
    with pytest.raises(SRC.ArgumentError, match=message):
        SRC.parse_args({"inventory": _inventory(tmp_path, text)})


def test_events_name_the_inventory_host(tmp_path, start_server):
    server = start_server(faults="docs_503")
    inventory = _inventory(tmp_path, "beatsync:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n"
                                     "      beatsync_port: %d\n" % server.port)
    queue = asyncio.Queue()
    asyncio.run(SRC.main(queue, {"inventory": inventory, "interval": 0.1, "max_polls": 1, "timeout": 2}))
    event = queue.get_nowait()
    assert event["host"] == "web1" and event["state"] == "failing" and event["status"] == 503


# --- never silent: bad host entries, still_failing, repair reports, the circuit breaker ---

def test_bad_host_entries_are_reported_and_skipped(tmp_path, start_server):
    server = start_server(faults="docs_503")
    inventory = _inventory(tmp_path, "beatsync:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n"
                                     "      beatsync_port: %d\n    web2:\n      ansible_host: 'not an/address'\n"
                                     "    web3:\n      beatsync_port: 99999\n" % server.port)
    queue = asyncio.Queue()
    asyncio.run(SRC.main(queue, {"inventory": inventory, "interval": 0.1, "max_polls": 1, "timeout": 2,
                                 "hosts": [{"name": "web1", "address": "127.0.0.1", "port": free_port()},
                                           "http://[::1:xyz]/"]}))
    events = [queue.get_nowait() for dummy in range(queue.qsize())]
    bad = [event for event in events if event["state"] == "bad_host"]
    assert [(event["host"], event["error"]) for event in bad] == [
        (None, "hosts: bad URL in 'http://[::1:xyz]/' ('::1:xyz' does not appear to be an IPv4 or IPv6 address)"),
        # the web1 of hosts came first, so the inventory's web1 is the duplicate
        ("web1", "hosts: duplicate name web1 (the first entry of that name is watched)"),
        ("web2", "hosts: malformed address of web2: 'not an/address' (a host name or an IP address)"),
        ("web3", "hosts: port of web3 must be 1-65535, got 99999")]
    assert len(bad) == 4
    # the one good entry (web1 on a port nothing listens on) is still watched
    assert [event["state"] for event in events[4:]] == ["failing"]
    assert events[4]["host"] == "web1" and events[4]["problem"] == "health_refused"


def test_still_failing_is_re_emitted_while_the_host_stays_broken(start_server):
    server = start_server(faults="docs_503")

    async def scenario():
        watch = Watch({"hosts": [server.base_url], "interval": 0.2, "timeout": 5, "still_failing_interval": 1})
        try:
            event, dummy = await watch.next_event(10)
            assert event["state"] == "failing" and event["repeats"] == 0
            seen = []
            for dummy in range(2):
                event, dummy = await watch.next_event(10)
                seen.append((event["state"], event["previous_state"], event["repeats"], event["problem"]))
                assert event["down_seconds"] >= seen.__len__() * 1.0
            assert seen == [("still_failing", "failing", 1, "docs_unavailable"),
                            ("still_failing", "failing", 2, "docs_unavailable")]
        finally:
            await watch.stop()

    asyncio.run(scenario())


BAD = {"ok": False, "check": "docs", "status": 503, "url": "u", "problem": "docs_unavailable",
       "error": "HTTP 503", "error_class": "other"}
GOOD = {"ok": True, "check": None, "status": 200, "url": "u", "problem": None, "error": None, "error_class": None}
TIMEOUT = {"ok": False, "check": "health", "status": None, "url": "u", "problem": "health_timeout",
           "error": "timed out", "error_class": "timeout"}
UNREACHABLE = dict(TIMEOUT, problem="health_other", error="network error: Network is unreachable", error_class="other")
REFUSED = dict(TIMEOUT, problem="health_refused", error="connection refused", error_class="refused")


def _watcher(names, **args):
    return SRC.Watcher(SRC.parse_args(dict({"hosts": list(names)}, **args)))


def test_circuit_breaker_one_event_and_no_host_events():
    watcher = _watcher(["a", "b", "c", "d"])
    assert watcher.poll({"a": GOOD, "b": GOOD, "c": GOOD, "d": GOOD}, now=1) == []
    # three of four cannot be reached from the watcher (> 0.5): one event, nothing per host
    events = watcher.poll({"a": TIMEOUT, "b": UNREACHABLE, "c": TIMEOUT, "d": GOOD}, now=2)
    assert [(e["state"], e["hosts"], e["hosts_unreachable"], e["hosts_total"]) for e in events] == [
        ("watcher_network", ["a", "b", "c"], 3, 4)]
    assert watcher.poll({"a": TIMEOUT, "b": TIMEOUT, "c": TIMEOUT, "d": TIMEOUT}, now=3) == []
    # while it is open, a host that answers with a real failure is still reported
    events = watcher.poll({"a": TIMEOUT, "b": TIMEOUT, "c": TIMEOUT, "d": BAD}, now=4)
    assert [(e["state"], e["host"]) for e in events] == [("failing", "d")]
    events = watcher.poll({"a": GOOD, "b": GOOD, "c": GOOD, "d": BAD}, now=5)
    assert [e["state"] for e in events] == ["watcher_network_recovered"]
    # refused connections are answers from the hosts: no breaker, per-host events
    events = watcher.poll({"a": REFUSED, "b": REFUSED, "c": REFUSED, "d": BAD}, now=6)
    assert [(e["state"], e["host"]) for e in events] == [("failing", "a"), ("failing", "b"), ("failing", "c")]


def test_circuit_breaker_share_and_minimum():
    # one host only: a timeout is that host's failure (min_hosts 2)
    single = _watcher(["a"])
    assert [e["state"] for e in single.poll({"a": TIMEOUT}, now=1)] == ["failing"]
    # exactly the share is not more than it
    half = _watcher(["a", "b", "c", "d"], watcher_network_share=0.5)
    assert [e["state"] for e in half.poll({"a": TIMEOUT, "b": TIMEOUT, "c": GOOD, "d": GOOD}, now=1)] == [
        "failing", "failing"]
    off = _watcher(["a", "b"], watcher_network_share=1)
    assert [e["state"] for e in off.poll({"a": TIMEOUT, "b": TIMEOUT}, now=1)] == ["failing", "failing"]


def _write_report(directory, name, mtime, **report):
    path = directory / (name + ".json")
    path.write_text(json.dumps(dict({"host": name}, **report)))
    os.utime(path, (mtime, mtime))


def test_repair_reports_turn_into_repair_failed_and_one_budget_escalation(tmp_path):
    watcher = _watcher(["web1"], report_dir=str(tmp_path), still_failing_interval=0)
    _write_report(tmp_path, "web1", 50, verdict="degraded")  # an old report: not this episode
    assert watcher.poll({"web1": GOOD}, now=90) == []
    assert [e["state"] for e in watcher.poll({"web1": BAD}, now=100)] == ["failing"]
    _write_report(tmp_path, "web1", 110, verdict="degraded", root_cause="docs_unavailable",
                  repair_error="restart did not help")
    events = watcher.poll({"web1": BAD}, now=111)
    assert [(e["state"], e["root_cause"], e["repair_error"]) for e in events] == [
        ("repair_failed", "docs_unavailable", "restart did not help")]
    assert watcher.poll({"web1": BAD}, now=112) == []  # the same report once
    _write_report(tmp_path, "web1", 120, verdict="degraded", repair_code="restart_budget_exhausted",
                  restarts_used=3, restarts_left=0)
    events = watcher.poll({"web1": BAD}, now=121)
    assert [(e["state"], e["repair_code"], e["restarts_left"]) for e in events] == [
        ("restart_budget_exhausted", "restart_budget_exhausted", 0)]
    # more refusals in the same episode: no second escalation
    _write_report(tmp_path, "web1", 130, verdict="degraded", repair_error="refused: restart_budget_exhausted")
    assert watcher.poll({"web1": BAD}, now=131) == []
    # garbage is ignored, a healthy report is no failure
    (tmp_path / "web1.json").write_text("{not json")
    os.utime(tmp_path / "web1.json", (140, 140))
    assert watcher.poll({"web1": BAD}, now=141) == []
    # recovery ends the episode; the next one may escalate the budget again (restarts_left 0)
    assert [e["state"] for e in watcher.poll({"web1": GOOD}, now=150)] == ["healthy"]
    assert [e["state"] for e in watcher.poll({"web1": BAD}, now=160)] == ["failing"]
    _write_report(tmp_path, "web1", 170, verdict="failed", restarts_left=0)
    assert [e["state"] for e in watcher.poll({"web1": BAD}, now=171)] == ["restart_budget_exhausted"]
    _write_report(tmp_path, "web1", 180, verdict="healthy")
    assert watcher.poll({"web1": BAD}, now=181) == []


def test_report_dir_must_be_absolute():
    with pytest.raises(SRC.ArgumentError, match="report_dir must be an absolute path"):
        SRC.parse_args({"hosts": ["a"], "report_dir": "reports"})
