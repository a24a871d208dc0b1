"""Issue 10: the Airflow UI of the real scheduler in headless Chromium
(Debian's chromium + chromedriver): both DAGs listed, their graphs drawn,
a task log shown. Screenshots under reports/scheduler/."""

import re
import shutil
import tempfile
import time
import urllib.parse

import pytest
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as seen  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from stack import REPO

SCREENSHOTS = REPO / "reports" / "scheduler"
DAGS = ("superstore_initial_load", "superstore_incremental_load")
# This machine's closed network refuses many connections: nothing that phones home.
CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
    " --disable-component-update --disable-sync --window-size=1400,1000"
).split()
WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def browser(scheduler):
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and chromedriver, "chromium/chromedriver missing: scripts/setup.sh installs them"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # the Simple auth manager's login page, as a person meets it
        driver.get(f"{scheduler.url}/dags")
        wait(driver).until(seen.presence_of_element_located((By.NAME, "username"))).send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(scheduler.password())
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(driver).until(lambda d: "/auth/login" not in d.current_url)
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def wait(driver, seconds: float = WAIT_SECONDS) -> WebDriverWait:
    return WebDriverWait(driver, seconds, poll_frequency=0.5)


def page_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def shoot(driver, name: str) -> None:
    time.sleep(0.5)  # let the last render settle
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def test_both_dags_are_listed(browser, scheduler):
    browser.get(f"{scheduler.url}/dags")
    wait(browser).until(lambda d: all(dag in page_text(d) for dag in DAGS))
    shoot(browser, "dags")


@pytest.mark.parametrize("dag_id", DAGS)
def test_the_graph_shows_every_task(browser, scheduler, dag_id):
    tasks = {t["task_id"] for t in scheduler.get(f"/api/v2/dags/{dag_id}/tasks")["tasks"]}
    browser.get(f"{scheduler.url}/dags/{dag_id}")
    wait(browser).until(seen.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label^='Show Graph']"))).click()

    def drawn(driver) -> set[str]:
        nodes = driver.find_elements(By.CSS_SELECTOR, ".react-flow__node")
        return {line for node in nodes for line in node.text.splitlines()} & tasks

    wait(browser).until(lambda d: drawn(d) == tasks)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".react-flow__edge")) >= len(tasks) - 1
    shoot(browser, f"graph-{dag_id}")


def test_a_task_log_renders(browser, scheduler, initial_run):
    dag_id, run_id = initial_run["dag_id"], initial_run["dag_run_id"]
    task_id = next(t for t, ti in initial_run["tasks"].items() if ti["state"] == "success")
    quoted = urllib.parse.quote(run_id, safe="")
    log = scheduler.get(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/logs/1")
    # a line the task wrote, as the REST API returns it, outside the folded
    # ::group:: sections (the UI shows their titles only): the page must show it too
    shown, depth = [], 0
    for entry in log["content"]:
        event = entry.get("event") if isinstance(entry, dict) else None
        if not event:
            continue
        if event.startswith("::group::"):
            depth += 1
        elif event.startswith("::endgroup::"):
            depth = max(depth - 1, 0)
        elif depth == 0 and re.fullmatch(r"[\w .:/,=()'-]{12,120}", event):
            shown.append(event)
    assert shown, log["content"][:5]
    expected = shown[0]
    browser.get(f"{scheduler.url}/dags/{dag_id}/runs/{quoted}/tasks/{task_id}")
    try:
        wait(browser).until(lambda d: expected in page_text(d))
    except TimeoutException:
        pass  # the assertion below says what the page shows instead
    shoot(browser, f"log-{dag_id}-{task_id}")
    assert expected in page_text(browser), (expected, page_text(browser)[-2000:])
