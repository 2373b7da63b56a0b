"""`vpnconn publish`: the spec as a published, versioned site in dist/spec/.

* ``openapi.yaml`` and ``openapi.json``: the spec bundled by Redocly CLI (semantically equal, checked);
* ``openapi.codegen.json``: the bundle as client generators read it best (``commands.codegen_document``);
* ``index.html``: the Redoc reference page with Redoc inlined (works offline, no CDN);
* ``CHANGELOG.md`` and ``VERSION``; ``screenshot.png`` of the operation (headless Chromium, network blocked);
* the published baseline ``spec/published/openapi.yaml`` that `make check` compares against.

It refuses to publish without a CHANGELOG entry for ``info.version``, or a changed spec under a version
that was already published.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from commands.codegen_document import CODEGEN, codegen_document
from commands.compatibility import CHANGELOG, PUBLISHED, changelog_entry, compatibility_problems, semver
from commands.page_document import page_document
from vpnconn.errors import PublishError, SpecError
from vpnconn.spec import REPO_ROOT, load_spec

REDOCLY = REPO_ROOT / "node_modules" / ".bin" / "redocly"
REDOCLY_CONFIG = REPO_ROOT / "spec" / "redocly.yaml"
OUT = REPO_ROOT / "dist" / "spec"
# Redoc's "API docs by Redocly" badge is the only asset the page fetched from a CDN (measured): inline it.
# Its icon sets are never loaded for this spec; their CDN base becomes a local path, so none could be.
BADGE_URLS = ("https://cdn.redoc.ly/redoc/logo-mini-full.svg", "https://cdn.redoc.ly/redoc/logo-mini.svg")
ICON_CDN = ("https://cdn.redocly.com/icons/", "icons/")
BADGE = ("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='60' height='16'>"
         "<text x='0' y='12' font-size='11' font-family='sans-serif'>Redoc</text></svg>")


def _redocly(*args: str) -> None:
    if not REDOCLY.exists():
        raise PublishError(f"Redocly CLI is not installed at {REDOCLY}: run 'make publish' (it installs node_modules)")
    # REDOCLY_TELEMETRY=off: the CLI sends no usage data about its runs (every command, not only those that read
    # spec/redocly.yaml); tests and `make publish` contact no host
    result = subprocess.run([str(REDOCLY), *args], capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
                            env={**os.environ, "REDOCLY_TELEMETRY": "off"})
    if result.returncode != 0:
        raise PublishError(f"redocly {args[0]} failed: {(result.stderr or result.stdout).strip()[-500:]}")


def _offline_html(path: Path) -> None:
    html = path.read_text(encoding="utf-8")
    for url in BADGE_URLS:
        html = html.replace(url, BADGE)
    html = html.replace(*ICON_CDN)
    path.write_text(html, encoding="utf-8")


def _screenshot(html: Path, target: Path) -> None:
    """The page as it opens: the create operation with its fields and its request example (checked first)."""
    from commands.offline_page import SCREEN_HEIGHT, SCREEN_WIDTH, first_paint_problems, offline_page

    with offline_page(html) as (page, blocked):
        problems = first_paint_problems(page)
        page.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": SCREEN_WIDTH, "height": SCREEN_HEIGHT})
    if blocked:
        raise PublishError(f"the page is not offline: it fetched {', '.join(blocked)}")
    if problems:
        raise PublishError("the page does not open on the operation: " + "; ".join(problems))


def run_publish(out: Path = OUT, record_baseline: bool = True) -> int:
    try:
        spec = load_spec()
        semver(spec.version)
        if changelog_entry(spec.version) is None:
            raise PublishError(f"CHANGELOG.md has no entry for {spec.version}: add '## [{spec.version}] - <date>'")
        problems = compatibility_problems(spec)
        if problems:
            raise PublishError("\n".join(problems))
        if PUBLISHED.exists():
            published = load_spec(PUBLISHED, baseline=True)
            if published.version == spec.version and published.sha256 != spec.sha256:
                raise PublishError(f"the spec changed since {spec.version} was published: raise info.version "
                                   "(and add its CHANGELOG entry)")
        out.mkdir(parents=True, exist_ok=True)
        _redocly("bundle", str(spec.path), "-o", str(out / "openapi.yaml"))
        _redocly("bundle", str(spec.path), "--ext", "json", "-o", str(out / "openapi.json"))
        as_yaml = yaml.safe_load((out / "openapi.yaml").read_text(encoding="utf-8"))
        as_json = json.loads((out / "openapi.json").read_text(encoding="utf-8"))
        if json.loads(json.dumps(as_yaml)) != as_json:
            raise PublishError("the bundled YAML and JSON differ")
        # for client generators: one typed model per object (commands.codegen_document)
        (out / CODEGEN).write_text(json.dumps(codegen_document(as_json), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        # the page is drawn from a copy whose extensions are readable tables (commands.page_document)
        with tempfile.TemporaryDirectory() as scratch:
            page_source = Path(scratch) / "openapi.yaml"
            page_source.write_text(yaml.safe_dump(page_document(as_yaml), sort_keys=False, allow_unicode=True), encoding="utf-8")
            _redocly("build-docs", str(page_source), "-o", str(out / "index.html"), "--inlineBundle",
                     "--title", f"{spec.document['info']['title']} {spec.version}", "--config", str(REDOCLY_CONFIG))
        _offline_html(out / "index.html")
        shutil.copyfile(CHANGELOG, out / "CHANGELOG.md")
        (out / "VERSION").write_text(spec.version + "\n")
        _screenshot(out / "index.html", out / "screenshot.png")
        if record_baseline:
            PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(spec.path, PUBLISHED)
    except (PublishError, SpecError) as exc:
        print(f"vpnconn publish: {exc}")
        return 1
    print(f"{out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out}/: openapi.yaml, openapi.json, "
          f"{CODEGEN}, index.html (offline), CHANGELOG.md, VERSION, screenshot.png (spec {spec.version})")
    return 0
