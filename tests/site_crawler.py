"""A small HTTP client for a running server: logs in through the login form like a browser, keeps
its cookies, and walks every page a role can reach from its home, with the static files each page
references. Used against a production-mode server (gunicorn, DEBUG=0) behind a simulated TLS
proxy: it sends X-Forwarded-Proto: https, as the proxy would."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pages: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.pages.append(attrs["href"])
        elif tag in ("script", "img", "iframe") and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and attrs.get("rel") in ("stylesheet", "icon"):
            self.assets.append(attrs["href"])


@dataclass
class Client:
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"https://{self.host}:{self.port}"

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
    ) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        sent = {
            "Host": f"{self.host}:{self.port}",
            "X-Forwarded-Proto": "https",
            "Accept-Language": "en",
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                if val in ('""', "") or "Max-Age=0" in value:
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val
        conn.close()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def log_in(self, username: str, password: str, path: str = "/accounts/login/") -> Answer:
        form = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert form.status == 200 and token, f"no login form at {path}: {form.status}"
        return self.request(
            "POST",
            path,
            body=urlencode(
                {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
            ).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.origin,
                "Referer": self.origin + path,
            },
        )


@dataclass
class Walk:
    pages: dict[str, Answer] = field(default_factory=dict)
    assets: dict[str, Answer] = field(default_factory=dict)
    referrers: dict[str, str] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)  # assets from elsewhere: a CDN, data: URLs


SKIP = re.compile(r"^/(accounts/logout|i18n/|admin/.+|anymail/|s/|u/)")


def walk(client: Client, start: str = "/", *, limit: int = 120, variants: int = 2) -> Walk:
    """Every same-site page reachable by links from `start` (redirects followed), at most `limit`
    pages and `variants` query strings per path, and every asset the pages reference."""
    result = Walk()
    queue = [start]
    seen: set[str] = set()  # every address asked for, redirected ones included
    per_path: dict[str, int] = {}
    while queue and len(result.pages) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        path = urlsplit(url).path
        if urlsplit(url).query:
            if per_path.get(path, 0) >= variants:
                continue
            per_path[path] = per_path.get(path, 0) + 1
        answer = client.get(url)
        hops = 0
        while answer.status in (301, 302, 303) and hops < 5:
            target = urlsplit(urljoin(client.origin + url, answer.headers["location"]))
            url = target.path + (f"?{target.query}" if target.query else "")
            seen.add(url)
            answer = client.get(url)
            hops += 1
        result.pages[url] = answer
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        parser = _Links()
        parser.feed(answer.text)
        for href in parser.pages:
            href = urldefrag(urljoin(url, href)).url
            split = urlsplit(href)
            if split.scheme not in ("", "http", "https") or (
                split.netloc and split.netloc != f"{client.host}:{client.port}"
            ):
                continue  # mailto:, tel:, other sites
            local = split.path + (f"?{split.query}" if split.query else "")
            if not SKIP.match(split.path) and local not in seen:
                result.referrers.setdefault(local, url)
                queue.append(local)
        for src in parser.assets:
            split = urlsplit(urljoin(url, src))
            if split.scheme in ("data", "about") or (
                split.netloc and split.netloc != f"{client.host}:{client.port}"
            ):
                result.foreign.append(src)
                continue
            local = split.path + (f"?{split.query}" if split.query else "")
            if local not in result.assets:
                result.referrers.setdefault(local, url)
                result.assets[local] = client.get(local)
    return result
