"""The designer canvas in Chromium with the 1,000-step workflow (bench/large_1000.json) beside a
10-step one: time to first render, frame times while panning, nodes kept in the DOM.

    .venv/bin/python bench/designer_canvas.py [--repeat 5] [--pan-seconds 4]

Starts the web server alone (daphne, no workers: the designer needs none) on a fresh data dir,
imports both workflows for a user, logs in with Playwright and opens /designer/<id> once per
repetition (after one warm-up load, so the browser has the scripts cached). Every figure is
measured in the page: ``performance.now()`` counts from the navigation's start, and a
requestAnimationFrame loop records frame deltas and how many step nodes are in the DOM.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import ROOT, Bench, arguments, percentile  # noqa: E402
from bench.make_large_workflow import DEFAULT_OUT, build  # noqa: E402

USERNAME, PASSWORD = "bench", "bench-pass-123"
VIEWPORT = {"width": 1440, "height": 900}

# Installed before the page's own scripts on every navigation.
PROBE = """
(() => {
  const b = (window.__bench = {
    labels: {}, firstNode: null, firstNodeDom: 0, loadMaxDom: 0, longTasks: [],
  });
  const nodes = document.getElementsByClassName("react-flow__node");
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
  // Until stopLoad(): when the first step node is drawn visible (React Flow hides a node until
  // it is measured) and when each text of the toolbar's "Graph size" first shows.
  b.loading = true;
  const watch = () => {
    if (!b.loading) return;
    const t = performance.now();
    b.loadMaxDom = Math.max(b.loadMaxDom, nodes.length);
    const shown = nodes.length && getComputedStyle(nodes[0]).visibility === "visible";
    if (b.firstNode === null && shown) {
      b.firstNode = t;
      b.firstNodeDom = nodes.length;
    }
    const label = document.querySelector('[aria-label="Graph size"]');
    if (label && !(label.textContent in b.labels)) b.labels[label.textContent] = t;
    requestAnimationFrame(watch);
  };
  requestAnimationFrame(watch);
  b.stopLoad = () => {
    b.loading = false;
    return { labels: b.labels, firstNode: b.firstNode, firstNodeDom: b.firstNodeDom,
             loadMaxDom: b.loadMaxDom, longTasks: b.longTasks.slice(), dom: nodes.length };
  };
  // Frame deltas and DOM node counts, one per frame, between startFrames() and stopFrames().
  b.startFrames = () => {
    b.frames = []; b.doms = []; b.recording = true;
    let last = null;
    const loop = (t) => {
      if (!b.recording) return;
      if (last !== null) b.frames.push(t - last);
      last = t;
      b.doms.push(nodes.length);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  };
  b.stopFrames = () => {
    b.recording = false;
    return { frames: b.frames, doms: b.doms };
  };
  // From the next pointerdown until the clicked node shows as selected and 30 frames more:
  // how long, and the most nodes in the DOM and hidden (being measured) meanwhile.
  b.armSelect = () => {
    b.select = null;
    document.addEventListener("pointerdown", () => {
      const start = performance.now();
      const s = { ms: null, maxDom: 0, maxHidden: 0 };
      let after = 0;
      const loop = () => {
        s.maxDom = Math.max(s.maxDom, nodes.length);
        let hidden = 0;
        for (const n of nodes) if (n.style.visibility === "hidden") hidden++;
        s.maxHidden = Math.max(s.maxHidden, hidden);
        if (s.ms === null && document.querySelector(".react-flow__node.selected")) {
          s.ms = performance.now() - start;
        }
        if (s.ms !== null && ++after > 30) { b.select = s; return; }
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
    }, { capture: true, once: true });
  };
})();
"""

# A point of the canvas where a press pans (no node, edge, handle or panel under it), scanning
# a band of the canvas from the side the drag starts on.
EMPTY_POINT = """
({ band: [left, top, right, bottom], fromRight }) => {
  for (let i = 0; i <= right - left; i += 7) {
    const x = fromRight ? right - i : left + i;
    for (let y = top; y <= bottom; y += 7) {
      const el = document.elementFromPoint(x, y);
      if (!el || !el.closest(".react-flow")) continue;
      const taken = ".react-flow__node, .react-flow__edge, .react-flow__handle, .react-flow__panel";
      if (el.closest(taken)) continue;
      return [x, y];
    }
  }
  return null;
}
"""

# The visible step node nearest the canvas's middle, away from the panels: a point on its
# label, and its id.
MIDDLE_NODE = """
() => {
  const pane = document.querySelector(".react-flow").getBoundingClientRect();
  const cx = pane.left + pane.width / 2, cy = pane.top + pane.height / 2;
  let best = null;
  for (const n of document.querySelectorAll(".react-flow__node")) {
    const r = n.getBoundingClientRect();
    if (r.left < pane.left + 60 || r.right > pane.right - 260 || r.top < pane.top + 20 ||
        r.bottom > pane.bottom - 180) continue;
    const d = Math.hypot(r.left + r.width / 2 - cx, r.top + r.height / 2 - cy);
    if (!best || d < best[0]) best = [d, r.left + r.width / 2, r.top + 8, n.dataset.id];
  }
  return best && best.slice(1);
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(bench: Bench, port: int) -> subprocess.Popen:
    web = subprocess.Popen(
        [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(port)]
        + ["flowdeck.asgi:application"],
        cwd=ROOT,
        env=bench.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return web
        except OSError:
            if web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start") from None
            time.sleep(0.2)


def create_workflows() -> dict[int, int]:
    """{steps: workflow id}: the committed 1,000-step file and a 10-step one of the same kind."""
    from django.contrib.auth.models import User

    from designer import services, transfer

    user = User.objects.create_user(USERNAME, password=PASSWORD)
    ids = {}
    for document in (transfer.load(DEFAULT_OUT.read_bytes(), "json"), build(10)):
        name, description, graph = transfer.parts_of(document)
        workflow = services.do_create_workflow(
            actor=user, name=name, description=description, graph=graph
        )
        ids[len(graph["nodes"])] = workflow.pk
    return ids


def log_in(page, base: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/workflows$"))


def open_designer(page, base: str, workflow_id: int, steps: int) -> dict[str, Any]:
    from playwright.sync_api import expect

    page.goto(f"{base}/designer/{workflow_id}")
    # A loaded machine may take longer than expect's 5 s default.
    expect(page.get_by_label("Graph size")).to_have_text(
        re.compile(rf"^{steps} steps"), timeout=60_000
    )
    expect(page.locator(".react-flow__node").first).to_be_visible(timeout=60_000)
    # Let the load finish its work (measuring, fitView) before reading the long tasks.
    page.wait_for_timeout(1500)
    load = page.evaluate("window.__bench.stopLoad()")
    loaded = next(t for text, t in load["labels"].items() if text.startswith(f"{steps} steps"))
    tasks = load["longTasks"]
    return {
        "first_node": load["firstNode"],
        "loaded": loaded,
        "busy_until": max((start + length for start, length in tasks), default=0.0),
        "long_tasks": sum(length for _, length in tasks),
        "dom_first": load["firstNodeDom"],
        "dom_load_max": load["loadMaxDom"],
        "dom_idle": load["dom"],
    }


def pan(page, seconds: float, speed: float = 600.0) -> dict[str, Any]:
    """Drag the canvas at ``speed`` px/s, right to left and back again (and a little up and
    down), grabbing an empty spot at each drag's start, for ``seconds``; frames are recorded
    meanwhile. Back and forth keeps the view over a 10-step graph too; over the large one each
    drag brings about five columns of steps into view and takes as many out."""
    box = page.locator(".react-flow").bounding_box()
    left, right = box["x"] + box["width"] * 0.15, box["x"] + box["width"] * 0.8
    top, bottom = box["y"] + box["height"] * 0.25, box["y"] + box["height"] * 0.6
    page.evaluate("window.__bench.startFrames()")
    end = time.monotonic() + seconds
    drags = moves = 0
    while time.monotonic() < end:
        # Even drags go leftwards from the right side of the canvas, odd ones come back.
        direction = -1 if drags % 2 == 0 else 1
        band = (
            [right - 150, top, right, bottom] if direction < 0 else [left, top, left + 150, bottom]
        )
        point = page.evaluate(EMPTY_POINT, {"band": band, "fromRight": direction < 0})
        if point is None:
            raise RuntimeError("no empty spot on the canvas to grab")
        x0, y0 = point
        page.mouse.move(x0, y0)
        page.mouse.down()
        started = time.monotonic()
        while True:
            elapsed = time.monotonic() - started
            x = x0 + direction * speed * elapsed
            if not left <= x <= right or time.monotonic() >= end:
                break
            page.mouse.move(x, y0 + direction * 0.2 * speed * elapsed)
            moves += 1
        page.mouse.up()
        drags += 1
    recorded = page.evaluate("window.__bench.stopFrames()")
    frames, doms = recorded["frames"], recorded["doms"]
    return {
        "p50": statistics.median(frames),
        "p95": percentile(frames, 0.95),
        "slow": 100 * sum(f > 25 for f in frames) / len(frames),
        "dom_p50": statistics.median(doms),
        "dom_max": max(doms),
        "fps": len(frames) / (sum(frames) / 1000),
        "moves_per_s": moves / seconds,
        "drags": drags,
    }


def select_and_type(page, text: str = "abcdefghij") -> dict[str, Any]:
    """Click the step nearest the middle, then type ``text`` at the end of its label in the
    config panel, one key at a time, until the node on the canvas shows it."""
    from playwright.sync_api import expect

    found = page.evaluate(MIDDLE_NODE)
    if found is None:
        raise RuntimeError("no step node in the middle of the canvas")
    x, y, node_id = found
    # A click straight after a pan's release is sometimes swallowed (as the end of the drag).
    page.wait_for_timeout(500)
    page.evaluate("window.__bench.armSelect()")
    page.mouse.click(x, y)
    page.wait_for_function("window.__bench.select !== null", timeout=30_000)
    s = page.evaluate("window.__bench.select")
    field = page.get_by_role("complementary", name=f"Configure {node_id}").get_by_label("Label")
    field.press("End")
    page.evaluate("window.__bench.startFrames()")
    started = time.perf_counter()
    page.keyboard.type(text)
    expect(
        page.locator(f'.react-flow__node[data-id="{node_id}"] [data-step-label]')
    ).to_contain_text(text, timeout=60_000)
    typed = (time.perf_counter() - started) * 1000 / len(text)
    recorded = page.evaluate("window.__bench.stopFrames()")
    return {
        "select_ms": s["ms"],
        "select_dom": s["maxDom"],
        "select_hidden": s["maxHidden"],
        "key_ms": typed,
        "key_frame_max": max(recorded["frames"]),
        "key_dom": max(recorded["doms"]),
    }


def one_line(s: dict[str, Any]) -> str:
    return (
        f"first node {s['first_node']:.0f} ms ({s['dom_first']} in the DOM, {s['dom_load_max']}"
        f" before), steps shown {s['loaded']:.0f} ms, busy until {s['busy_until']:.0f} ms;"
        f" panning ({s['drags']} drags, {s['moves_per_s']:.0f} moves/s) {s['fps']:.0f} fps,"
        f" frame p50 {s['p50']:.1f} / p95 {s['p95']:.1f} ms, {s['dom_p50']:.0f}-{s['dom_max']}"
        f" nodes in the DOM; select {s['select_ms']:.0f} ms ({s['select_dom']} in the DOM);"
        f" a key typed {s['key_ms']:.0f} ms (longest frame {s['key_frame_max']:.0f} ms,"
        f" {s['key_dom']} in the DOM)"
    )


def median_of(samples: list[dict[str, Any]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="page loads per workflow")
    parser.add_argument("--pan-seconds", type=float, default=4.0)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    web = None
    try:
        ids = create_workflows()
        port = free_port()
        web = start_web(bench, port)
        base = f"http://127.0.0.1:{port}"
        results = measure(base, ids, args)
    finally:
        if web is not None:
            web.terminate()
            web.wait(30)
        bench.close()
    report(results, args)


def measure(base: str, ids: dict[int, int], args) -> dict[int, list[dict[str, Any]]]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    results: dict[int, list[dict[str, Any]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(PROBE)
            page = context.new_page()
            page.set_default_timeout(60_000)
            print(
                f"Chromium {browser.version}, viewport {VIEWPORT['width']}x{VIEWPORT['height']},"
                f" load average {os.getloadavg()[0]:.1f}"
            )
            log_in(page, base)
            for steps, workflow_id in sorted(ids.items(), reverse=True):
                open_designer(page, base, workflow_id, steps)  # warm-up: caches, JIT
                samples = results[steps] = []
                for i in range(args.repeat):
                    sample = open_designer(page, base, workflow_id, steps)
                    sample |= pan(page, args.pan_seconds)
                    sample |= select_and_type(page)
                    samples.append(sample)
                    print(f"  {steps:>5} steps, load {i + 1}: " + one_line(sample))
        finally:
            browser.close()
    return results


def report(results: dict[int, list[dict[str, Any]]], args) -> None:
    rows = [
        ("first step node visible (ms from navigation start)", "first_node", "{:.0f}"),
        ('"N steps" in the toolbar (ms)', "loaded", "{:.0f}"),
        ("main thread busy until (end of the last long task, ms)", "busy_until", "{:.0f}"),
        ("long tasks during the load, total (ms)", "long_tasks", "{:.0f}"),
        ("nodes in the DOM during the load, most", "dom_load_max", "{:.0f}"),
        ("nodes in the DOM at the first visible frame", "dom_first", "{:.0f}"),
        ("nodes in the DOM once idle", "dom_idle", "{:.0f}"),
        ("panning: frame time p50 (ms)", "p50", "{:.1f}"),
        ("panning: frame time p95 (ms)", "p95", "{:.1f}"),
        ("panning: frames over 25 ms (%)", "slow", "{:.0f}"),
        ("panning: frames per second", "fps", "{:.0f}"),
        ("panning: nodes in the DOM, median", "dom_p50", "{:.0f}"),
        ("panning: nodes in the DOM, most", "dom_max", "{:.0f}"),
        ("select a step: click to drawn selected (ms)", "select_ms", "{:.0f}"),
        ("select a step: most nodes in the DOM after the click", "select_dom", "{:.0f}"),
        ("select a step: nodes unmeasured again (hidden) after it", "select_hidden", "{:.0f}"),
        ("type its label: ms a key, until the canvas shows it", "key_ms", "{:.0f}"),
        ("type its label: longest frame (ms)", "key_frame_max", "{:.0f}"),
        ("type its label: most nodes in the DOM", "key_dom", "{:.0f}"),
    ]
    big, small = max(results), min(results)
    print(
        f"\nMedians of {args.repeat} loads each, {args.pan_seconds:g} s of panning a load; "
        f"ratio = {big} steps / {small} steps; load average now {os.getloadavg()[0]:.1f}"
    )
    print(f"| measure | {small} steps | {big} steps | ratio |")
    print("|---|---|---|---|")
    for title, key, fmt in rows:
        a, b = median_of(results[small], key), median_of(results[big], key)
        ratio = f"{b / a:.2f}" if a else "-"
        print(f"| {title} | {fmt.format(a)} | {fmt.format(b)} | {ratio} |")


if __name__ == "__main__":
    main()
