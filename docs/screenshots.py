"""Take the README's screenshots from a running demo (`make demo`), with Debian's Chromium.

python docs/screenshots.py [http://127.0.0.1:8000]
"""

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = Path(__file__).resolve().parent / "screenshots"


def log_in(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def main(base: str) -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        desk = browser.new_page(viewport={"width": 1440, "height": 1000})
        log_in(desk, base, "admin", "demo-admin")
        desk.screenshot(path=OUT / "surveys.png")
        desk.goto(f"{base}/design/support/")
        desk.wait_for_timeout(1200)
        desk.screenshot(path=OUT / "designer.png")
        delivery = browser.new_page(viewport={"width": 1440, "height": 1000})
        log_in(delivery, base, "admin", "demo-admin")
        delivery.goto(f"{base}/design/purchase/invitations/")
        delivery.screenshot(path=OUT / "delivery.png")
        delivery.close()
        desk.click("[data-device=desktop]")
        desk.wait_for_timeout(600)
        desk.locator(".editor-preview").screenshot(path=OUT / "preview-desktop.png")
        # The email of the language being edited, next to the page preview.
        desk.click("[data-view=email]")
        desk.wait_for_timeout(1200)
        desk.screenshot(path=OUT / "designer-email.png")
        desk.click("[data-view=page]")
        desk.click("#btn-test")
        desk.locator("#test-link").wait_for()
        link = desk.locator("#test-link").get_attribute("href")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        # The support survey as German and Polish customers see it (seed 003's school grades).
        for language in ("de", "pl"):
            phone.goto(f"{link}?lang={language}")
            phone.screenshot(path=OUT / f"answer-{language}.png", full_page=True)
        phone.goto(link + "?score=2")
        phone.screenshot(path=OUT / "answer-phone.png", full_page=True)
        phone.screenshot(path=OUT / "answer-brand-phone.png")
        phone.locator("button[type=submit]").click()
        phone.wait_for_load_state()
        phone.screenshot(path=OUT / "thanks-phone.png")
        desk.goto(f"{base}/mailbox/")
        desk.locator("table a").first.click()
        desk.frame_locator("iframe.mail-html").locator("img").first.wait_for()
        desk.wait_for_timeout(800)
        desk.screenshot(path=OUT / "email.png")
        desk.locator("iframe.mail-html").screenshot(path=OUT / "email-brand.png")
        manager = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(manager, base, "manager", "demo-manager")
        manager.goto(f"{base}/dashboard/")
        manager.screenshot(path=OUT / "overview.png", full_page=True)
        manager.goto(f"{base}/dashboard/purchase/?group_by=channel")
        manager.wait_for_timeout(800)
        manager.screenshot(path=OUT / "dashboard.png", full_page=True)
        # The support dashboard down to its loop times: CSAT, and how fast unhappy customers
        # were called back and their follow-ups resolved.
        manager.goto(f"{base}/dashboard/support/")
        manager.wait_for_timeout(800)
        bottom = manager.locator("[data-panel=loop]").bounding_box()
        manager.screenshot(
            path=OUT / "dashboard-loop.png",
            clip={"x": 0, "y": 0, "width": 1280, "height": bottom["y"] + bottom["height"] + 16},
        )
        # Every question of the support survey, and its responses.
        manager.goto(f"{base}/dashboard/support/?question=speed")
        manager.wait_for_timeout(800)
        manager.locator("[data-panel=questions]").screenshot(path=OUT / "dashboard-questions.png")
        manager.goto(f"{base}/dashboard/support/responses/")
        manager.screenshot(path=OUT / "responses.png")
        small = browser.new_page(viewport={"width": 390, "height": 844})
        log_in(small, base, "manager", "demo-manager")
        small.goto(f"{base}/dashboard/purchase/comments/")
        small.screenshot(path=OUT / "comments-phone.png")
        small.goto(f"{base}/dashboard/support/responses/")
        small.locator("[data-responses] a").first.click()
        small.wait_for_load_state()
        small.screenshot(path=OUT / "response-phone.png")
        # A new connector on a phone: its address and its secret, shown this once.
        small = browser.new_page(viewport={"width": 390, "height": 844})
        log_in(small, base, "admin", "demo-admin")
        small.goto(f"{base}/connectors/")
        small.select_option("select[name=provider]", "zammad")
        small.select_option("select[name=survey]", "support")
        small.fill("input[name=name]", "Helpdesk")
        small.click("form.cn-new button[type=submit]")
        small.wait_for_load_state()
        small.screenshot(path=OUT / "connector-phone.png", full_page=True)
        # The same connector with the helpdesk's own reply carrying the survey link.
        wide = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(wide, base, "admin", "demo-admin")
        wide.goto(small.url)
        wide.check("input[name=channel][value=helpdesk]")
        wide.click("form:has(input[name=channel]) button[type=submit]")
        wide.wait_for_load_state()
        wide.locator("[data-links]").screenshot(path=OUT / "connector-links.png")
        wide.close()
        settings_pages(browser, base)
        browser.close()


def settings_pages(browser, base: str) -> None:
    """The survey admin's pages run from the browser: API keys (a new key, its secret shown),
    sending (the send page, a file checked and imported), colleagues."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(page, base, "admin", "demo-admin")
    page.goto(f"{base}/settings/api-keys/")
    page.fill("input[name=name]", f"bi-tool-{int(time.time()) % 10000}")
    page.check("input[name=scope][value=reports]")
    page.click("button[type=submit]:text('Create key')")
    page.wait_for_load_state()
    page.screenshot(path=OUT / "api-keys.png")
    # Sending from the browser: a file of purchases, checked (first rows, rejected lines).
    stamp = int(time.time())
    now = datetime.now(UTC)
    rows = ["external_id,occurred_at,customer_email,customer_name,customer_locale,attr.channel"]
    for n in range(1, 41):
        at = (now - timedelta(minutes=n)).isoformat(timespec="seconds")
        email = f"buyer{n}@example.com" if n % 13 else "buyer-at-example.com"
        rows.append(f"shot-{stamp}-{n},{at},{email},Buyer {n},{'de' if n % 3 else 'en'},web")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "purchases.csv"
        path.write_text("\n".join(rows) + "\n")
        page.goto(f"{base}/design/purchase/send/")
        page.screenshot(path=OUT / "send.png")
        page.set_input_files("input[name=file]", str(path))
        page.click("button[type=submit]:text('Upload and check')")
        page.locator("#check-title").wait_for(timeout=60000)
        page.screenshot(path=OUT / "upload-check.png", full_page=True)
        page.click("button[type=submit]:text('Import')")
        page.locator("#result-title").wait_for(timeout=60000)
        page.screenshot(path=OUT / "upload-result.png")
    page.goto(f"{base}/design/support/email/?lang=de")
    page.screenshot(path=OUT / "email-preview.png")
    page.goto(f"{base}/settings/brand/")
    page.screenshot(path=OUT / "brand.png", full_page=True)
    page.goto(f"{base}/settings/colleagues/")
    page.screenshot(path=OUT / "colleagues.png")
    page.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
