"""The EDA event source beatsync.ops.beatsync_probe, driven for real: main() with an
asyncio.Queue against fixture uvicorn servers on loopback, switched between healthy and
faulty on the same port. Asserts edge detection: one event per transition, none while steady."""

from __future__ import annotations

import asyncio
import importlib.util
import time

import pytest

from conftest import REPO
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
            assert event["problem"] == "health_refused"
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
    ({"hosts": ["a", "a"]}, "duplicate names a"),
    ({"hosts": ["a:x"]}, "bad port"),
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
