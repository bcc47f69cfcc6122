"""One client process of the room load test (:mod:`benchmarks.room`): a few participants' sessions.

``python -m benchmarks.room_client PLAN_JSON`` runs the sessions of the plan, all at once, each
of one of two kinds:

- ``browser``: a headless Chromium context (Debian's Chromium through Playwright; no browser is
  downloaded), which loads the page as a participant's browser does and shows it;
- ``socket``: a lightweight client that speaks the page's own protocol to the server (the
  Jupyter widget messages Solara exchanges over its WebSocket, as the page's JavaScript does)
  and keeps a mirror of the page's widgets, but draws nothing. The server cannot tell it from a
  browser, and thirty of them cost the client CPU less than one Chromium page: in a real room
  every participant's own computer draws its page, so on a two-core load-test machine the
  drawing of thirty pages would measure the clients, not the server.

Each session does what a participant does at the start of a workshop: load the page and wait
for its first render, switch to 中文, pick a scenario, move a lever one step; and then, when the
orchestrator says so, press ▶, wait until the week counter reaches the plan's week, and pause.

It talks to the orchestrator in JSON lines: on stdout ``{"event": "ready", ...}`` once every
session is set up (or failed), ``{"event": "played", ...}`` once every session has played, and
``{"event": "closed"}``; on stdin it waits for ``go`` (press play) and ``close`` (close every
session: a browser context closed, a socket dropped, as a laptop lid closing). Every wait has a
timeout; a session that fails reports its error and the others go on. Of the project it imports
only the browser's settings (:mod:`sim.present.headless`), so that it costs the client CPU little.

Why one module of this length: it is a whole program run as its own process, the two kinds of
session and the protocol to the orchestrator, and may import nothing else of the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import struct
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.present.headless import CHROMIUM_PATH, HEADLESS_CHROMIUM_ARGS

CHROMIUM_ARGS = [
    *HEADLESS_CHROMIUM_ARGS,
    # every page of the room is a background page of one browser: keep its timers running
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]

# In place of plotly.js when the clients do not draw: every figure still arrives from the server
# and is handed to Plotly.react, which only counts it.
PLOTLY_STUB = """window.simDraws = 0;
window.Plotly = {
  react: function () { window.simDraws += 1; return Promise.resolve(); },
  purge: function () {},
  downloadImage: function () { return Promise.resolve(); },
};"""

WEEK_AT_LEAST = """([week]) => {
    const el = document.querySelector('.week-counter');
    if (!el) return false;
    const m = el.innerText.match(/\\d+/);
    return m !== null && Number(m[0]) >= week;
}"""


def emit(event: dict[str, Any]) -> None:
    print(json.dumps(event, ensure_ascii=False), flush=True)


async def read_line() -> str:
    return (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()


class Participant:
    """What every participant's session records, whatever drives it."""

    kind = ""

    def __init__(self, index: int, plan: dict[str, Any]) -> None:
        self.index = index
        self.plan = plan
        self.result: dict[str, Any] = {
            "session": index,
            "kind": self.kind,
            "scenario": plan["scenario"],
            "error": None,
        }

    def fail(self, stage: str, exc: BaseException) -> None:
        if self.result["error"] is None:
            self.result["error"] = f"{stage}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"

    async def play(self) -> None:
        """Press play and wait for the plan's week (not after a failed setup); an error is kept
        in the result, not raised, so that the other sessions go on."""
        if self.result["error"] is not None:
            return
        try:
            await self._play()
        except Exception as exc:
            self.fail("play", exc)

    async def _play(self) -> None:
        raise NotImplementedError


class Session(Participant):
    """One participant in a browser: one browser context (its own cookies, so its own session)."""

    kind = "browser"

    def __init__(self, index: int, plan: dict[str, Any]) -> None:
        super().__init__(index, plan)
        self.context = None
        self.page = None

    async def setup(self, browser, url: str, start_delay: float) -> None:
        p = self.plan
        timeout_ms = p["timeout_s"] * 1000
        try:
            await asyncio.sleep(start_delay)
            self.context = await browser.new_context(viewport={"width": 1500, "height": 1100})
            if not p["draw_charts"]:
                await self.context.route(
                    "**/plotly.min.js",
                    lambda route: route.fulfill(
                        status=200, content_type="application/javascript", body=PLOTLY_STUB
                    ),
                )
            page = self.page = await self.context.new_page()
            page.set_default_timeout(timeout_ms)
            errors: list[str] = []
            self.result["page_errors"] = errors
            page.on("pageerror", lambda exc: errors.append(str(exc)[:300]))
            started = time.perf_counter()
            self.result["opened_at"] = time.time()
            await page.goto(url, timeout=timeout_ms)
            await page.wait_for_selector(".week-counter", timeout=timeout_ms)
            self.result["first_render_s"] = time.perf_counter() - started

            t = time.perf_counter()
            await page.get_by_role("button", name=p["language_button"], exact=True).click()
            await page.locator(".week-counter", has_text=p["week0"]).wait_for()
            self.result["language_s"] = time.perf_counter() - t

            t = time.perf_counter()
            await page.locator(".scenario-select-A .v-select__slot").click()
            item = page.locator(".menuable__content__active .v-list-item", has_text=p["scenario_title"])
            await item.first.click()
            await page.locator(".scenario-A .scenario-title", has_text=p["scenario_title"]).wait_for()
            self.result["scenario_s"] = time.perf_counter() - t

            t = time.perf_counter()
            slider = page.locator(".arm-A .v-input", has_text=p["lever_label"])
            moved = slider.filter(has_text=p["lever_after"])
            deadline = time.monotonic() + p["timeout_s"]
            unmoved = slider.filter(has_text=p["lever_before"])
            while True:  # a key pressed while the page re-renders the slider is lost: press again
                await slider.get_by_role("slider").focus()
                await page.keyboard.press(p["lever_key"])
                try:
                    await moved.wait_for(timeout=20_000)
                    break
                except Exception:
                    if time.monotonic() > deadline or await unmoved.count() == 0:
                        raise
            self.result["slider_s"] = time.perf_counter() - t
        except Exception as exc:
            self.fail("setup", exc)

    async def _play(self) -> None:
        p = self.plan
        page = self.page
        started = time.perf_counter()
        self.result["play_pressed_at"] = time.time()
        await page.get_by_role("button", name=p["play_label"], exact=True).click()
        await page.wait_for_function(
            WEEK_AT_LEAST, arg=[p["weeks"]], timeout=p["timeout_s"] * 1000, polling=100
        )
        self.result["weeks_s"] = time.perf_counter() - started
        await page.get_by_role("button", name=p["pause_label"], exact=True).click()
        await page.get_by_role("button", name=p["play_label"], exact=True).wait_for()
        counter = await page.locator(".week-counter").inner_text()
        digits = "".join(ch for ch in counter if ch.isdigit())
        self.result["paused_at_week"] = int(digits) if digits else None
        self.result["played_s"] = time.perf_counter() - started
        if not p["draw_charts"]:
            self.result["figure_updates"] = await page.evaluate("window.simDraws || 0")

    async def close(self) -> None:
        if self.context is not None:
            try:
                await asyncio.wait_for(self.context.close(), timeout=30)
            except Exception as exc:
                self.fail("close", exc)


# ------------------------------------------------------------------------------ the socket client
def _message(msg_type: str, content: dict[str, Any], session: str) -> str:
    """A Jupyter message as the page's JavaScript sends it (JSON over the kernel's WebSocket)."""
    return json.dumps(
        {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "username": "",
                "session": session,
                "msg_type": msg_type,
                "version": "5.3",
                "date": datetime.now(UTC).isoformat(),
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
    )


def _decode(raw: str | bytes) -> dict[str, Any]:
    """A message from the server: JSON text, or Jupyter's binary frame (offsets, JSON, buffers)."""
    if isinstance(raw, str):
        return json.loads(raw)
    n = struct.unpack("!i", raw[:4])[0]
    offsets = struct.unpack("!" + "I" * n, raw[4 : 4 * (n + 1)])
    end = offsets[1] if n > 1 else len(raw)
    return json.loads(raw[offsets[0] : end].decode("utf-8"))


def _digits(text: str) -> int | None:
    m = re.search(r"\d+", text)
    return int(m.group(0)) if m else None


class SocketSession(Participant):
    """One participant as a widget mirror over the page's WebSocket: the server's side of a page
    (every widget created, updated and sent) without a browser's drawing."""

    kind = "socket"

    def __init__(self, index: int, plan: dict[str, Any]) -> None:
        super().__init__(index, plan)
        self.models: dict[str, dict[str, Any]] = {}
        self.changed = asyncio.Event()
        self.conn = None
        self.reader: asyncio.Task | None = None
        self.page_id = uuid.uuid4().hex
        self.control = uuid.uuid4().hex
        self.finished = False
        self.closed = False
        self.bytes_in = 0
        self.figure_updates = 0

    # -- the mirror
    def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("header", {}).get("msg_type")
        content = msg.get("content", {})
        comm = content.get("comm_id")
        data = content.get("data") or {}
        if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
            self.models[comm] = dict(data.get("state") or {})
        elif kind == "comm_msg":
            method = data.get("method")
            if method in ("update", "echo_update"):
                state = data.get("state") or {}
                self.models.setdefault(comm, {}).update(state)
                if "figure_json" in state:
                    self.figure_updates += 1
            elif comm == self.control and method == "finished":
                self.finished = True
        elif kind == "comm_close":
            self.models.pop(comm, None)
        self.changed.set()

    async def _read(self) -> None:
        while True:
            raw = await self.conn.read_message()
            if raw is None:
                self.closed = True
                self.changed.set()
                return
            self.bytes_in += len(raw)
            self._handle(_decode(raw))

    async def _until(self, found, timeout: float, what: str):
        """Wait until ``found()`` gives something (checked after every message from the server)."""
        deadline = time.monotonic() + timeout
        while True:
            value = found()
            if value:
                return value
            if self.closed:
                raise RuntimeError(f"connection closed while waiting for {what}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} within {timeout:.0f} s")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=min(left, 1.0))

    def _find(self, model: str, **match: Any) -> str | None:
        """The id of the first widget of ``model`` whose state has every ``match``
        (a callable is a test of the value)."""
        for wid, state in self.models.items():
            if state.get("_model_name") != model:
                continue
            if all(
                test(state.get(k)) if callable(test) else state.get(k) == test for k, test in match.items()
            ):
                return wid
        return None

    def _has_class(self, name: str):
        return lambda value: isinstance(value, str) and name in value.split()

    def week(self) -> int | None:
        wid = self._find("HtmlModel", tag="h2", class_=self._has_class("week-counter"))
        if wid is None:
            return None
        children = self.models[wid].get("children") or []
        return _digits(children[0]) if children and isinstance(children[0], str) else None

    def _week_text(self, text: str):
        def check() -> bool:
            wid = self._find("HtmlModel", tag="h2", class_=self._has_class("week-counter"))
            return wid is not None and self.models[wid].get("children") == [text]

        return check

    async def _send(self, msg_type: str, content: dict[str, Any]) -> None:
        await self.conn.write_message(_message(msg_type, content, self.page_id))

    async def _update(self, wid: str, state: dict[str, Any]) -> None:
        self.models[wid].update(state)
        await self._send(
            "comm_msg", {"comm_id": wid, "data": {"method": "update", "state": state, "buffer_paths": []}}
        )

    async def _click(self, wid: str) -> None:
        events = self.models[wid].get("_events") or ["click"]
        event = next((e for e in events if e.startswith("click")), "click")
        await self._send(
            "comm_msg",
            {"comm_id": wid, "data": {"method": "custom", "content": {"event": event, "data": {}}}},
        )

    def _button(self, label: str):
        return lambda: self._find("BtnModel", children=[label])

    # -- what a participant does
    async def setup(self, url: str, start_delay: float) -> None:
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.websocket import websocket_connect

        p = self.plan
        timeout = p["timeout_s"]
        try:
            await asyncio.sleep(start_delay)
            started = time.perf_counter()
            self.result["opened_at"] = time.time()
            page = await AsyncHTTPClient().fetch(url, request_timeout=timeout)
            cookies = [c.split(";", 1)[0] for c in page.headers.get_list("Set-Cookie")]
            origin = url.rstrip("/")
            kernel = uuid.uuid4()
            ws_url = (
                origin.replace("http://", "ws://")
                + f"/jupyter/api/kernels/{kernel}/channels?session_id={self.page_id}"
            )
            request = HTTPRequest(
                ws_url, headers={"Cookie": "; ".join(cookies), "Origin": origin}, request_timeout=timeout
            )
            self.conn = await websocket_connect(request, max_message_size=256 * 2**20)
            self.reader = asyncio.create_task(self._read())
            await self._send(
                "comm_open", {"comm_id": self.control, "target_name": "solara.control", "data": {}}
            )
            await self._send(
                "comm_msg",
                {"comm_id": self.control, "data": {"method": "run", "args": {"path": "/", "dark": False}}},
            )
            await self._until(lambda: self.finished and self.week() is not None, timeout, "first render")
            self.result["first_render_s"] = time.perf_counter() - started

            t = time.perf_counter()
            toggle = self._find("BtnToggleModel", class_=self._has_class("language-switch"))
            if toggle is None:
                raise RuntimeError("no language switch on the page")
            await self._update(toggle, {"v_model": 1})  # English, 中文
            await self._until(self._week_text(p["week0"]), timeout, "the page in Chinese")
            self.result["language_s"] = time.perf_counter() - t

            t = time.perf_counter()
            select = self._find("SelectModel", class_=self._has_class("scenario-select-A"))
            if select is None:
                raise RuntimeError("no scenario picker on the page")
            await self._update(select, {"v_model": p["scenario"]})
            title = f"A: {p['scenario_title']}"
            await self._until(
                lambda: self._find("HtmlModel", tag="h3", children=[title]), timeout, "the scenario's title"
            )
            self.result["scenario_s"] = time.perf_counter() - t

            t = time.perf_counter()
            slider = await self._until(
                lambda: self._find(
                    "SliderModel", label=lambda v: isinstance(v, str) and v.startswith(p["lever_label"] + " ")
                ),
                timeout,
                "the lever's slider",
            )
            await self._update(slider, {"v_model": p["lever_value"]})
            await self._until(
                lambda: self._find("SliderModel", label=p["lever_after"]), timeout, "the lever's new value"
            )
            self.result["slider_s"] = time.perf_counter() - t
        except Exception as exc:
            self.fail("setup", exc)

    async def _play(self) -> None:
        p = self.plan
        play = await self._until(self._button(p["play_label"]), p["timeout_s"], "the play button")
        bytes_before, figures_before = self.bytes_in, self.figure_updates
        started = time.perf_counter()
        self.result["play_pressed_at"] = time.time()
        await self._click(play)
        await self._until(lambda: (self.week() or 0) >= p["weeks"], p["timeout_s"], f"week {p['weeks']}")
        self.result["weeks_s"] = time.perf_counter() - started
        if not p["pause"]:  # a participant who will close the page while it plays
            self.result["left_playing"] = True
            self.result["figure_updates"] = self.figure_updates - figures_before
            self.result["bytes_received_playing"] = self.bytes_in - bytes_before
            return
        pause = await self._until(self._button(p["pause_label"]), p["timeout_s"], "the pause button")
        await self._click(pause)
        await self._until(self._button(p["play_label"]), p["timeout_s"], "the run paused")
        self.result["paused_at_week"] = self.week()
        self.result["played_s"] = time.perf_counter() - started
        self.result["figure_updates"] = self.figure_updates - figures_before
        self.result["bytes_received_playing"] = self.bytes_in - bytes_before

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.reader is not None:
            try:
                await asyncio.wait_for(self.reader, timeout=30)
            except Exception:  # the socket's end is all that was asked for
                self.reader.cancel()
        self.result["widgets_mirrored"] = len(self.models)


async def run(plan_path: Path) -> int:
    doc = json.loads(plan_path.read_text(encoding="utf-8"))
    url = doc["url"]
    sessions: list[Session | SocketSession] = [
        (Session if s["kind"] == "browser" else SocketSession)(s["index"], s) for s in doc["sessions"]
    ]
    browsers = [s for s in sessions if isinstance(s, Session)]
    pw = browser = None
    try:
        if browsers:
            from playwright.async_api import async_playwright

            pw = await async_playwright().start()
            browser = await pw.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)

        def setup(s):
            if isinstance(s, Session):
                return s.setup(browser, url, s.plan["start_delay_s"])
            return s.setup(url, s.plan["start_delay_s"])

        await asyncio.gather(*(setup(s) for s in sessions))
        emit({"event": "ready", "sessions": [s.result for s in sessions]})
        command = await read_line()
        if command == "go":
            await asyncio.gather(*(s.play() for s in sessions))
            for s in sessions:
                if s.result.get("left_playing"):
                    s.result["paused_at_week"] = s.week()  # the week it had reached when the room was done
            emit({"event": "played", "sessions": [s.result for s in sessions]})
            command = await read_line()
        await asyncio.gather(*(s.close() for s in sessions))
        emit({"event": "closed", "sessions": [s.result for s in sessions]})
    finally:
        if browser is not None:
            await browser.close()
        if pw is not None:
            await pw.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.room_client PLAN_JSON", file=sys.stderr)
        return 2
    return asyncio.run(run(Path(args[0])))


if __name__ == "__main__":
    sys.exit(main())
