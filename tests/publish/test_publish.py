"""Publishing: bundled YAML and JSON that agree, an HTML reference that works with the network blocked, and
a breaking-change check that stops an incompatible edit until the version and changelog announce it."""

from __future__ import annotations

import json
import struct

import pytest
import yaml
from playwright.sync_api import expect

from commands.codegen_document import codegen_document
from commands.compatibility import changelog_entry, compatibility_problems, narrowing, tool_breaking
from commands.offline_page import SCREEN_HEIGHT, SCREEN_WIDTH, first_paint_problems, offline_page
from commands.page_document import HTTP_METHODS, page_document
from commands.publish import _redocly, run_publish
from vpnconn.spec import SPEC_PATH, load_spec


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("spec-site")
    assert run_publish(out, record_baseline=False) == 0
    return out


def test_publish_writes_the_site(site):
    names = {p.name for p in site.iterdir()}
    assert {"openapi.yaml", "openapi.json", "openapi.codegen.json", "index.html", "CHANGELOG.md", "VERSION", "screenshot.png"} <= names
    bundle = json.loads((site / "openapi.json").read_text())
    assert json.loads((site / "openapi.codegen.json").read_text()) == codegen_document(bundle)
    assert (site / "VERSION").read_text().strip() == load_spec().version
    assert (site / "screenshot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_yaml_and_json_agree_and_carry_the_operation(site):
    as_yaml = yaml.safe_load((site / "openapi.yaml").read_text())
    as_json = json.loads((site / "openapi.json").read_text())
    assert json.loads(json.dumps(as_yaml)) == as_json
    assert as_json["paths"]["/v5/{project_id}/vpn-connection"]["post"]["operationId"] == "CreateVpnConnection"


def test_the_page_has_no_cdn_link(site):
    html = (site / "index.html").read_text()
    assert "cdn.redoc" not in html and "<script src=\"http" not in html


def test_the_page_sends_no_telemetry(site):
    """Redoc 3 sends its readers' page views to otel.cloud.redocly.com unless the page is built with telemetry
    off (a run of the offline-page checks once caught such a request); spec/redocly.yaml turns it off."""
    html = (site / "index.html").read_text()
    assert '"disableTelemetry":true' in html


def test_the_page_renders_offline_with_its_fields_and_the_three_examples(site):
    with offline_page(site / "index.html") as (page, blocked):
        assert page.get_by_text("Create a VPN connection").count() >= 1
        for field in ("vgw_id", "cgw_id", "peer_subnets", "psk", "ikepolicy", "ipsecpolicy", "tunnel_local_address"):
            assert page.get_by_text(field, exact=True).count() >= 1, field
        for summary, shows in (("Policy-based, one policy rule", '"policy_rules"'),
                               ("BGP routing with explicit IKE", '"tunnel_local_address"'),
                               ("Static routing, only the required fields", '"psk"')):
            page.get_by_role("button", name="Example").first.click()
            page.get_by_text(summary).first.click()
            sample = page.get_by_role("button", name="Example").first.locator("xpath=ancestor::div[3]")
            expect(sample).to_contain_text(summary)  # waits for the page to show the chosen example, then checks it
            expect(sample).to_contain_text(shows)
        assert blocked == [], f"the page fetched {blocked}"


def test_the_page_opens_on_the_operation_with_its_fields_and_request_example(site):
    with offline_page(site / "index.html") as (page, blocked):
        assert first_paint_problems(page) == []
        sample = page.get_by_text('"psk"', exact=True)  # the request example, in the right panel, at first paint
        assert sample.is_visible() and sample.bounding_box()["x"] > 700
        assert blocked == []


def test_the_first_paint_check_reports_a_page_drawn_from_the_raw_bundle(site, tmp_path):
    """The page as Redoc draws the bundle unchanged: the provenance JSON pushes the example 6,000 px down."""
    config = tmp_path / "redocly.yaml"
    config.write_text("openapi:\n  showExtensions: true\n")
    _redocly("build-docs", str(site / "openapi.yaml"), "-o", str(tmp_path / "raw.html"), "--inlineBundle",
             "--config", str(config))
    with offline_page(tmp_path / "raw.html") as (page, _):
        problems = first_paint_problems(page)
    assert any("request example" in problem for problem in problems), problems
    assert any("request field vgw_id" in problem for problem in problems), problems


def test_the_screenshot_is_the_page_as_it_opens(site):
    png = (site / "screenshot.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (SCREEN_WIDTH, SCREEN_HEIGHT)


def test_the_page_shows_the_provenance_of_the_constraints(site):
    with offline_page(site / "index.html") as (page, blocked):
        assert "No source forbids a subnet listed twice" not in page.locator("body").inner_text()  # folded at first
        page.get_by_text("Where each constraint comes from").first.click()
        text = page.locator("body").inner_text()
        assert "vpnconn-provenance" in text  # Redoc shows x- extensions without the "x-"
        assert "No source forbids a subnet listed twice" in text  # an inferred constraint and why
        assert "api-page-en" in text  # the documented default names its source
        assert "tunnel-addresses-together" in text and "auto-tunnel-pair" in text  # a named rule, a server default
        assert blocked == []


@pytest.fixture
def edited(tmp_path):
    """Write an edited copy of the spec; returns (path, loaded spec)."""
    def write(edit, version=None):
        text = SPEC_PATH.read_text()
        changed = edit(text)
        assert changed != text
        if version:
            changed = changed.replace(f"  version: {load_spec().version}\n", f"  version: {version}\n", 1)
        path = tmp_path / f"openapi-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(changed)
        return load_spec(path)
    return write


def lower_ike_max(text: str) -> str:
    return text.replace("          minimum: 60\n          maximum: 604800\n          default: 86400",
                        "          minimum: 60\n          maximum: 86400\n          default: 86400")


def _next_major() -> str:
    return f"{int(load_spec().version.split('.')[0]) + 1}.0.0"


def test_an_unannounced_breaking_change_fails_and_names_the_version_due(edited):
    spec = edited(lower_ike_max)
    problems = compatibility_problems(spec, published=SPEC_PATH)
    assert problems and "breaking change not announced" in problems[0]
    assert f"version {_next_major()} is due" in problems[0] and f"'## [{_next_major()}]'" in problems[0]
    assert any("ikepolicy.lifetime_seconds.maximum tightened from 604800 to 86400" in p for p in problems)


def test_a_breaking_change_passes_once_announced(edited):
    due = _next_major()
    spec = edited(lower_ike_max, version=due)
    assert compatibility_problems(spec, published=SPEC_PATH, changelog=f"## [{due}]\n### Added\nx\n")  # no Breaking section
    assert compatibility_problems(spec, published=SPEC_PATH, changelog=f"## [{due}] - 2027-01-01\n### Breaking\n- x\n") == []


def test_a_compatible_change_passes(edited):
    spec = edited(lambda t: t.replace("summary: Create a VPN connection", "summary: Create a VPN connection (site-to-site)"))
    assert compatibility_problems(spec, published=SPEC_PATH) == []


def test_the_differ_tool_sees_structural_breaks(edited):
    spec = edited(lambda t: t.replace("        name:\n          type: string\n          description: The request's name",
                                      "        name:\n          type: integer\n          description: The request's name"))
    assert any("type_change" in b for b in tool_breaking(SPEC_PATH, spec.path))


def test_the_inventory_sees_what_the_tool_does_not(edited):
    narrowed = edited(lambda t: t.replace("enum: [policy, static, bgp]", "enum: [static, bgp]"))
    assert tool_breaking(SPEC_PATH, narrowed.path) == []  # measured: api-schema-diff misses a removed enum value
    assert any("style.enum: values removed ['policy']" in n for n in narrowing(load_spec(), narrowed))


def test_the_changelog_has_an_entry_for_the_spec_version():
    assert changelog_entry(load_spec().version) is not None
    assert changelog_entry("99.0.0") is None


def test_the_page_document_folds_every_operation_extension_and_leaves_the_bundle_alone(site):
    bundle = yaml.safe_load((site / "openapi.yaml").read_text())
    before = json.dumps(bundle, sort_keys=True)
    page = page_document(bundle)
    assert json.dumps(bundle, sort_keys=True) == before
    for path, item in bundle["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            folded = page["paths"][path][method]
            assert not [key for key in folded if key.startswith("x-vpnconn-")], (method, path)
            for group in ("constraints", "checks", "narrower_readings", "query_readings"):
                for name in operation["x-vpnconn-provenance"].get(group, {}):
                    assert f"`{name}`" in folded["description"], name
            for rule in operation.get("x-vpnconn-rules", []):
                assert f"`{rule['id']}`" in folded["description"]
    listing = page["paths"]["/v5/{project_id}/vpn-connection"]["get"]["description"]
    assert "| `limit` | maximum 200, default 200 | documented: `list-page-zh-2024`" in listing
