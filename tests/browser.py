"""A small headless-Chromium driver for the report tests, over the DevTools protocol.

:class:`Browser` starts the system's ``chromium`` with a throwaway profile,
no sandbox (tests run as root in CI) and no background networking, and
:meth:`Browser.open` loads a page in a fresh tab and returns what a person
would see: the console errors, the requests it made, facts about the DOM
and a screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from websockets.sync.client import connect

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]

#: JavaScript run in the loaded page: what a reader would see
PAGE_FACTS = """(() => {
  const images = [...document.querySelectorAll('figure img')];
  return {
    title: document.title,
    headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
    tables: [...document.querySelectorAll('table')].map(t => ({
        kind: t.className, rows: t.querySelectorAll('tbody tr').length})),
    figures: images.length,
    figures_drawn: images.filter(i => i.complete && i.naturalWidth > 0).length,
    scripts: document.querySelectorAll('script').length,
    text: document.body.innerText,
  };
})()"""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageResult:
    facts: dict[str, Any]
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""


class Browser:
    """One Chromium process; use as a context manager, :meth:`open` pages in it."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="escalate-chromium-")
        # Chromium logs to stderr for as long as it runs: a file, unlike a pipe, never fills up.
        self.log = Path(self.profile) / "chromium.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={self.profile}/profile", "about:blank"],
                stdout=subprocess.DEVNULL, stderr=log)
        self.endpoint = self._endpoint()
        self.stack = contextlib.ExitStack()
        self.socket = self.stack.enter_context(connect(self.endpoint, max_size=2**27,
                                                       open_timeout=30))
        self.next_id = 0

    def _endpoint(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"DevTools listening on (ws://\S+)", self.log.read_text())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.close()
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if hasattr(self, "stack"):
                self.stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def _send(self, method: str, params: dict[str, Any] | None = None,
              session: str | None = None) -> int:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        return self.next_id

    def _call(self, method: str, params: dict[str, Any] | None = None,
              session: str | None = None, events: list[dict[str, Any]] | None = None,
              timeout: float = 60) -> dict[str, Any]:
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})  # type: ignore[no-any-return]
            if events is not None and "method" in message:
                events.append(message)
        raise TimeoutError(method)

    def open(self, url: str, width: int = 1200, height: int = 900,
             screenshot: Path | None = None) -> PageResult:
        """Load ``url`` in a new tab; collect console errors, requests, page facts, a screenshot."""
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        events: list[dict[str, Any]] = []
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                self._call(f"{domain}.enable", session=session, events=events)
            self._call("Emulation.setDeviceMetricsOverride",
                       {"width": width, "height": height, "deviceScaleFactor": 1,
                        "mobile": False}, session=session, events=events)
            self._call("Page.navigate", {"url": url}, session=session, events=events)
            deadline = time.monotonic() + 60
            while not any(e.get("method") == "Page.loadEventFired" for e in events):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not load")
                message = json.loads(self.socket.recv(timeout=60))
                if "method" in message:
                    events.append(message)
            facts = self._call("Runtime.evaluate", {"expression": PAGE_FACTS,
                                                    "returnByValue": True},
                               session=session, events=events)["result"]["value"]
            shot = self._call("Page.captureScreenshot", {"format": "png",
                                                         "captureBeyondViewport": True},
                              session=session, events=events)
            image = base64.b64decode(shot["data"])
            if screenshot is not None:
                screenshot.write_bytes(image)
        finally:
            self._call("Target.closeTarget", {"targetId": target})
        errors = []
        requests = []
        for event in events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                       for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                requests.append(params.get("request", {}).get("url", ""))
        return PageResult(facts, errors, requests, image)
