"""The README's command blocks, read from README.md, and the few rewrites that let a test run
them on a fresh clone next to other work (free ports, a database of its own, small benchmarks).

A block is a fenced ```sh block. Anything else (```text, ```json, a bare fence) is an example of
output or a synopsis, never run. Every rewrite is listed here with its reason; the commands
themselves are the README's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\S*)\s*$")

# Lines that start a process which runs until stopped: the test starts them in the background.
LONG_RUNNING = re.compile(r"^(make demo\b|\.venv/bin/gunicorn\b|\.venv/bin/celery\b)")

# Benchmarks run as smoke tests: the README's command with a small size, so that CI proves each
# still runs on a fresh clone without spending its figures' hour. Flags not listed stay as written.
BENCH_SMOKE_ARGS = {
    "bench/answer_page.py": {"--seconds": "2", "--invitations": "2000"},
    "bench/ingest.py": {"--events": "400"},
    "bench/sending.py": {"--emails": "100"},
    "bench/reports.py": {"--responses": "3000", "--checkpoints": "1000", "--requests": "3"},
    "bench/import_responses.py": {"--rows": "400", "--days": "20"},
    "bench/export.py": {"--responses": "300"},
    "bench/connectors.py": {"--deliveries": "100", "--rounds": "1"},
}


@dataclass(frozen=True)
class Block:
    line: int  # where its fence opens in README.md, for messages
    heading: str  # the section it stands in
    text: str

    @property
    def commands(self) -> list[str]:
        """Its lines with continuations joined and heredocs kept whole."""
        out: list[str] = []
        lines = self.text.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            while (line.endswith("\\") or _open_quote(line)) and i + 1 < len(lines):
                i += 1
                line += "\n" + lines[i]
            heredoc = re.search(r"<<'?(\w+)'?", line)
            if heredoc:
                end = heredoc.group(1)
                while i + 1 < len(lines):
                    i += 1
                    line += "\n" + lines[i]
                    if lines[i] == end:
                        break
            out.append(line)
            i += 1
        return [c for c in out if c.strip() and not c.lstrip().startswith("#")]


def _open_quote(text: str) -> bool:
    """Whether a quote is still open at the end of `text` (shell quoting, simply)."""
    quote = None
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None
        elif quote is None and char == "#":
            break
    return quote is not None


def blocks(readme: Path) -> list[Block]:
    found: list[Block] = []
    heading = ""
    lang: str | None = None
    start = 0
    body: list[str] = []
    for number, line in enumerate(readme.read_text().splitlines(), start=1):
        match = FENCE.match(line)
        if lang is None:
            if line.startswith("#") and not line.startswith("#!"):
                heading = line.lstrip("#").strip()
            if match:
                lang, start, body = match.group(1), number, []
        elif match and not match.group(1):
            if lang == "sh":
                found.append(Block(start, heading, "\n".join(body)))
            lang = None
        else:
            body.append(line)
    return found


def strip_comment(command: str) -> str:
    """A one-line command without its trailing `# comment` (only the README's simple lines)."""
    return re.sub(r"\s+#[^'\"]*$", "", command)


def smoke(command: str) -> str:
    """A benchmark command with the small sizes of BENCH_SMOKE_ARGS."""
    command = strip_comment(command)
    for script, sizes in BENCH_SMOKE_ARGS.items():
        if script in command:
            for flag, value in sizes.items():
                if re.search(rf"{flag}\s+\S+", command):
                    command = re.sub(rf"{flag}\s+\S+", f"{flag} {value}", command)
                else:
                    command += f" {flag} {value}"
    return command
