"""Open the sinkload dashboard in headless Chromium and report what each chart received and showed.

Run with the Superset test venv's Python (it has playwright; the browser is Debian's chromium):
    python superset_browser.py URL USER PASSWORD_FILE SCREENSHOT [CHROMIUM]
Prints one JSON object: {"charts": {slice_id: {"status", "rowcount", "error"}}, "error_panels": [...],
"chart_holders": N}. The test compares it with counts computed in SQL.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps calling hosts this machine cannot reach.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
# An error panel, or the "No results" empty state a chart shows instead of drawing.
ERROR_SELECTORS = (".ant-alert-error, [data-test='error-tooltip'], .alert-danger, "
                   "[data-test-chart-id] .ant-empty, [data-test-chart-id] [data-test='empty-state']")
HOLDERS = "[data-test-chart-id]"


def _slice_id(request) -> int | None:
    try:
        body = json.loads(request.post_data or "{}")
    except ValueError:
        return None
    form = body.get("form_data") or {}
    return form.get("slice_id")


def _login(page, url: str, user: str, password: str, attempts: int = 3) -> None:
    """Sign in through the login form; a session is proven by /api/v1/me/ answering 200 (the form can be
    submitted before the page's scripts have taken it over, and then nothing happens)."""
    for _ in range(attempts):
        page.goto(f"{url}/login/")
        page.wait_for_load_state("networkidle")
        page.fill("input#username, input[name='username']", user)
        page.fill("input#password, input[name='password']", password)
        page.press("input#password, input[name='password']", "Enter")
        try:
            page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
        except Exception:
            continue
        if page.request.get(f"{url}/api/v1/me/").status == 200:
            return
    raise RuntimeError(f"could not sign in to {url} as {user}")


def run(url: str, user: str, password: str, screenshot: Path, chromium: str = CHROMIUM,
        timeout_s: float = 180) -> dict:
    charts: dict[int, dict] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 2400})

        def on_response(response) -> None:
            if "/api/v1/chart/data" not in response.url or response.request.method != "POST":
                return
            slice_id = _slice_id(response.request)
            try:
                payload = response.json()
            except Exception as exc:  # a non-JSON answer is itself the finding
                charts[slice_id] = {"status": response.status, "rowcount": None, "error": str(exc)[:200]}
                return
            results = payload.get("result") or [{}]
            charts[slice_id] = {"status": response.status,
                                "rowcount": sum(r.get("rowcount") or 0 for r in results),
                                "error": payload.get("message") or next((r.get("error") for r in results
                                                                         if r.get("error")), None)}

        page.on("response", on_response)
        _login(page, url, user, password)
        page.goto(f"{url}/superset/dashboard/sinkload/?standalone=1")
        try:
            page.wait_for_selector(HOLDERS, timeout=120_000)
        except Exception:
            page.screenshot(path=str(screenshot), full_page=True)  # what the page showed instead
            raise
        holders = page.locator(HOLDERS).count()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (len(charts) < holders or page.locator(".loading").count()):
            page.wait_for_timeout(500)
        page.wait_for_timeout(3000)  # let the last charts draw before the screenshot
        errors = [page.locator(ERROR_SELECTORS).nth(i).inner_text()[:200]
                  for i in range(page.locator(ERROR_SELECTORS).count())]
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return {"charts": {str(k): v for k, v in charts.items()}, "error_panels": errors, "chart_holders": holders}


if __name__ == "__main__":
    base_url, login, password_file, shot = sys.argv[1:5]
    secret = Path(password_file).read_text(encoding="utf-8").strip()
    print(json.dumps(run(base_url, login, secret, Path(shot), *sys.argv[5:6])))
