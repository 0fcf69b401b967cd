"""The web app in a real browser: headless Chromium (Debian's chromium) driven by Selenium through
Debian's chromedriver — no browser is downloaded. Upload examples/register.csv, filter by a town, open
an awarded enterprise, see its explanation and the assumed-amount mark, open its review sheet, run the
award dry run. Screenshots go to test-artifacts/. Skipped, with a warning in the summary, only where
chromium or chromedriver is not installed (.ci/run installs both)."""
from __future__ import annotations

import shutil
import socket
import threading
import time
import warnings

import pytest

from tests.web_support import AS_OF, EXAMPLES, ROOT

ARTIFACTS = ROOT / "test-artifacts"
AWARDED = "915001017P5X326G0R"


def browser_paths() -> tuple[str, str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if exe is None or driver is None:
        # A skip reason only shows with -rs; a warning shows in every run's summary.
        warnings.warn("chromium/chromedriver not installed: the web app was NOT tested in a browser")
        pytest.skip("chromium/chromedriver not installed: the web app was not tested in a browser")
    return exe, driver


@pytest.fixture()
def server(tmp_path):
    """The app served by uvicorn on a free loopback port, in a thread, for the test's duration."""
    import uvicorn
    from web.app import create_app
    from web.settings import Settings
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(data_dir=tmp_path, port=port))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the web app did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture()
def browser(tmp_path):
    exe, driver_path = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = exe
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-extensions", "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900", "--lang=zh-CN"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"web-{name}.png"
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def wait_for(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(condition)


def test_an_officer_goes_from_upload_to_the_award_dry_run(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select
    d = browser
    d.get(f"{server}/evaluate")
    d.find_element(By.ID, "file").send_keys(str(EXAMPLES / "register.csv"))
    d.execute_script("document.getElementById('as_of').value = arguments[0];", AS_OF)
    d.find_element(By.ID, "evaluate").click()
    wait_for(d, ec.presence_of_element_located((By.ID, "decisions")))
    assert "50 行" in d.find_element(By.ID, "counts").text
    shot(d, "1-evaluate")

    # Filter by the town of an awarded enterprise (the select submits itself: app.js).
    row = d.find_element(By.XPATH, f"//a[text()='{AWARDED}']/ancestor::tr")
    town = row.get_attribute("data-town")
    Select(d.find_element(By.ID, "filter-town")).select_by_visible_text(town)
    wait_for(d, lambda drv: "town=" in drv.current_url)
    towns = {tr.get_attribute("data-town") for tr in d.find_elements(By.CSS_SELECTOR, "#decisions tbody tr")}
    assert towns == {town}
    shot(d, "2-filtered")

    d.find_element(By.LINK_TEXT, AWARDED).click()
    award = wait_for(d, ec.visibility_of_element_located((By.ID, "decision-enterprise_award")))
    assert "给予奖励" in award.text
    assert "三(一)" in award.find_element(By.CSS_SELECTOR, "pre.explanation").text
    mark = award.find_element(By.CSS_SELECTOR, "abbr.assumed")
    assert mark.is_displayed() and mark.text == "假定值"
    shot(d, "3-enterprise")

    d.find_element(By.ID, "review-enterprise_award").click()
    wait_for(d, lambda drv: "审核表" in drv.find_element(By.TAG_NAME, "h1").text)
    assert AWARDED in d.page_source and "假定值" in d.page_source
    shot(d, "4-review-sheet")

    d.back()
    d.find_element(By.LINK_TEXT, "奖励").click()
    result = wait_for(d, ec.visibility_of_element_located((By.ID, "dry-run-result")))
    assert "假定值" in result.text and d.find_element(By.ID, "by-town").is_displayed()
    shot(d, "5-awards-dry-run")
