"""Every page, as every role that can open it, in real Chromium at 360 px and in Chinese.

The pages are the site's URL patterns: those without parameters directly, those with parameters
through the isolation registry (tests/web/pages*.py), which already knows how to make an object
of gupei (or of the district) for each. Each role signs in once through the login form and
keeps its browser context. A page the role cannot open (4xx), a POST-only action, a file or a
JSON answer is not a page of that role and is passed over. On every page walked:
- it does not scroll sideways (scrollWidth <= innerWidth);
- the header and the tab bar together take at most 15 % of the viewport's height;
- every tap target in <main> (links, buttons, inputs, selects, summaries) is at least 40 x 40 px;
- its visible text has no English word outside ALLOWED_WORDS.
"""
from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from tenancy.models import User
from tenancy.scoping import system_scope
from tests.support.browser import CHROMIUM_ARGS
from tests.support.routes import walk
from tests.support.servers import chromium_path
from tests.web.pages import DISTRICT_PAGES, PAGES

pytestmark = pytest.mark.needs_chromium

VIEWPORT = {"width": 360, "height": 760}
MAX_NAV_SHARE = 0.15
MIN_TAP = 40
ROLES = ("gupei_teacher", "gupei_clerk", "gupei_admin", "gupei_township", "bureau_inspector", "bureau_admin")
# Words Chinese software writes in Latin letters: file formats, text encodings and a size unit that
# the upload and import pages name, so people can pick the right file.
ALLOWED_WORDS = {"API", "XLSX", "DOCX", "ID", "PDF", "CSV", "YAML", "Excel", "Word", "UTF", "GBK", "MB"}
# Names the isolation registry (tests/web/pages*.py) gives the objects it makes: user data.
TEST_DATA_WORDS = {"isolation"}
# Not pages: the API, static files, the admin, and actions that sign out or only accept POST.
SKIP_PREFIXES = ("api/", "i18n/", "static/", "media/", "admin/")
SKIP_NAMES = {"logout", "healthz"}
# The tree's users are named like logins (gupei_admin); real staff have Chinese names, and a page
# that shows a login name where it should show the person's name then fails on the English word.
DISPLAY_NAMES = {
    "gupei_teacher": "李老师", "gupei_clerk": "王材料", "gupei_admin": "张校长", "gupei_township": "赵乡镇",
    "bureau_inspector": "孙督导", "bureau_admin": "周局长", "menzhuang_admin": "钱校长",
    "menzhuang_teacher": "吴老师", "village_a_admin": "郑校长",
}

CHECKS = """() => {
  const out = {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth,
               innerHeight: window.innerHeight, small: [], english: []};
  const height = sel => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().height : 0; };
  out.nav = height('.site-header') + height('.tabbar');
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const name = e => (e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' +
                     (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 30) + '"');
  for (const e of document.querySelectorAll(
      'main a[href], main button, main input:not([type=hidden]), main select, main textarea, main summary')) {
    if (!shown(e)) continue;
    let box = e;
    // A checkbox or radio is tapped through its label, which is the target people aim at.
    if (e.type === 'checkbox' || e.type === 'radio') box = e.closest('label') || (e.id && document.querySelector(`label[for="${e.id}"]`)) || e;
    // A link inside a sentence is sized by the sentence's line height (WCAG 2.5.8's inline exception);
    // moving it out of the sentence would only make the text harder to read.
    if (e.tagName === 'A' && getComputedStyle(e).display === 'inline') {
      const parentText = (e.parentElement.innerText || '').trim();
      if (parentText.length > (e.innerText || '').trim().length) continue;
    }
    const r = box.getBoundingClientRect();
    if (r.width < __MIN__ - 0.5 || r.height < __MIN__ - 0.5) out.small.push(`${name(e)} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('script, style, noscript')) continue;
    // Text marked as another language on purpose (the 'English' language switch) is not UI text,
    // nor is text marked translate="no": a login name, a secret key, an app's product name.
    const lang = el.closest('[lang]');
    if (lang && !lang.lang.toLowerCase().startsWith('zh')) continue;
    if (el.closest('[translate=no]')) continue;
    if (el.tagName === 'OPTION' ? !shown(el.closest('select')) : !shown(el)) continue;
    texts.push(n.nodeValue);
  }
  for (const e of document.querySelectorAll('[placeholder]')) if (shown(e)) texts.push(e.placeholder);
  for (const e of document.querySelectorAll('input[type=submit], input[type=button]')) if (shown(e)) texts.push(e.value);
  out.english = [...new Set(texts.join(' ').match(/[A-Za-z]{2,}/g) || [])];
  return out;
}""".replace("__MIN__", str(MIN_TAP))



def _is_file(name: str, route: str) -> bool:
    return "download" in name or route.endswith((".xlsx", ".docx"))


def page_urls(tree) -> dict[str, str]:
    """url name -> a URL of every page of the site, objects made in gupei (or its district)."""
    urls = {}
    for route, p in walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or p.name in SKIP_NAMES or p.name is None:
            continue
        if not (getattr(p.pattern, "converters", None) or p.pattern.regex.groups) and not _is_file(p.name, route):
            urls[p.name] = reverse(p.name)
    for page in PAGES:
        # A GET that writes to the access log is a file download (Page.logs), not a page.
        if page.method == "get" and page.logs is None and page.url_name not in urls:
            urls[page.url_name] = reverse(page.url_name, kwargs=page.kwargs(tree, tree.gupei))
    for page in DISTRICT_PAGES:
        if page.method == "get" and page.url_name not in urls:
            if page.logs is not None or _is_file(page.url_name, ""):
                continue
            with system_scope("test: the objects of a district page"):
                urls[page.url_name] = reverse(page.url_name, kwargs=page.kwargs(tree, tree.district))
    return urls


def _english(words) -> list[str]:
    allowed = {w.lower() for w in ALLOWED_WORDS | TEST_DATA_WORDS}
    return sorted(w for w in words if w.lower() not in allowed)


def _check(name: str, who: str, result: dict) -> list[str]:
    where = f"{who} {name}"
    problems = []
    if result["scrollWidth"] > result["innerWidth"]:
        problems.append(f"{where}: scrolls sideways ({result['scrollWidth']} > {result['innerWidth']} px)")
    if result["nav"] > MAX_NAV_SHARE * result["innerHeight"]:
        problems.append(f"{where}: navigation {result['nav']:.0f} px of {result['innerHeight']} px")
    if result["small"]:
        problems.append(f"{where}: tap targets under {MIN_TAP} px: {result['small'][:6]}")
    if _english(result["english"]):
        problems.append(f"{where}: English words {_english(result['english'])[:12]}")
    return problems


def _visit(page, base: str, url: str):
    """The page's check results, or None where the URL is not a page this role opens."""
    from playwright.sync_api import Error

    try:
        response = page.goto(base + url, wait_until="load")
    except Error as exc:  # a file download aborts the navigation; an empty 4xx is no page
        if any(s in str(exc) for s in ("Download", "ERR_ABORTED", "ERR_HTTP_RESPONSE_CODE_FAILURE")):
            return None
        raise
    if response is None or response.status >= 400:
        return None
    if not response.headers.get("content-type", "").startswith("text/html"):
        return None
    if page.url.startswith(base + reverse("login")) and url != reverse("login"):
        return None
    return page.evaluate(CHECKS)


def test_every_page_fits_a_phone_in_chinese(live_server, tree):
    from playwright.sync_api import Error, sync_playwright

    for username, display_name in DISPLAY_NAMES.items():
        User.objects.filter(username=username).update(display_name=display_name)
    urls = page_urls(tree)
    walked = dict(urls)
    base = live_server.url
    problems: list[str] = []
    seen: dict[str, set[str]] = {}
    executable = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            for who in ("anonymous", *ROLES):
                context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                              is_mobile=True, has_touch=True)
                context.set_default_timeout(15_000)
                page = context.new_page()
                if who == "anonymous":
                    names = {"login": reverse("login")}
                else:
                    page.goto(base + reverse("login"))
                    page.fill("#id_username", who)
                    page.fill("#id_password", "Demo2026!")
                    page.click("button[type=submit].btn-primary")
                    page.wait_for_load_state("load")
                    names = walked
                seen[who] = set()
                for name, url in names.items():
                    try:
                        result = _visit(page, base, url)
                    except Error as exc:
                        # A page that reloads itself (a running job's progress) cut into this
                        # navigation: try again in a fresh tab.
                        if "interrupted by another navigation" not in str(exc):
                            raise
                        page.close()
                        page = context.new_page()
                        result = _visit(page, base, url)
                    if result is None:
                        continue
                    seen[who].add(name)
                    problems.extend(_check(name, who, result))
                context.close()
        finally:
            browser.close()
    # The walk must have walked: each role's daily pages, and many pages in all.
    assert "login" in seen["anonymous"]
    assert {"contact_tracker", "activities_week", "notifications", "nav_more"} <= seen["gupei_teacher"]
    assert {"school_submissions", "children_list", "school_staff", "school_access_log"} <= seen["gupei_admin"]
    assert {"similarity_list", "district_exports", "compliance_index"} <= seen["bureau_admin"]
    assert sum(len(s) for s in seen.values()) > 150, {who: len(s) for who, s in seen.items()}
    assert not problems, "\n".join(problems)
