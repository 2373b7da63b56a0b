"""Client generators on the published ``openapi.codegen.json``: openapi-python-client and
datamodel-code-generator generate typed models from it, and every fixture loads into them.

Valid requests and every answer (2xx and error bodies) are accepted and written back byte-equal as JSON.
An invalid request is refused wherever the generated models can express why it is invalid: the
artefact's own schema is the judge of which fixtures those are, so the test holds the models to exactly
what their generator was given.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest
import referencing
from openapi_spec_validator import validate
from referencing.jsonschema import DRAFT202012

from commands.codegen_document import codegen_document
from generators.fixture_files import FIXTURES
from vpnconn.json_schema import SpecValidator
from vpnconn.spec import load_spec

BIN = Path(sys.executable).parent
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
# Options a consumer should use too: strict scalar types (no "30" for 30, no "true" for true), the code
# formatted without the network, no timestamp in the header (so the output is reproducible).
DATAMODEL_OPTIONS = ("--output-model-type", "pydantic_v2.BaseModel", "--target-python-version", "3.11",
                     "--strict-types", "str", "int", "float", "bool", "--formatters", "builtin", "--disable-timestamp")
# What each generator's models check when they load, by JSON Schema keyword. datamodel-code-generator
# keeps lists ordered, so uniqueItems is not checked (a set would reorder what it writes back).
# openapi-python-client's from_dict checks required fields and enum values only.
EXPRESSIBLE = {
    "datamodel-code-generator": {"type", "required", "enum", "const", "pattern", "minLength", "maxLength", "minimum",
                                 "maximum", "minItems", "maxItems", "additionalProperties", "oneOf", "anyOf", "format"},
    "openapi-python-client": {"required", "enum"},
}


@pytest.fixture(scope="module")
def document():
    return codegen_document(load_spec().document)


@pytest.fixture(scope="module")
def artefact(document, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("codegen") / "openapi.codegen.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def _run(*command: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(Path.home())})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def pydantic_models(artefact, tmp_path_factory):
    out = tmp_path_factory.mktemp("datamodel") / "vpnconn_models.py"
    _run(str(BIN / "datamodel-codegen"), "--input", str(artefact), "--input-file-type", "openapi",
         "--output", str(out), *DATAMODEL_OPTIONS)
    spec = importlib.util.spec_from_file_location("vpnconn_models", out)
    module = importlib.util.module_from_spec(spec)
    sys.modules["vpnconn_models"] = module  # pydantic resolves the models' forward references through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def attrs_models(artefact, tmp_path_factory):
    root = tmp_path_factory.mktemp("opc")
    result = _run(str(BIN / "openapi-python-client"), "generate", "--path", str(artefact),
                  "--output-path", str(root / "vpnconn_client"), "--meta", "none")
    assert "Warning" not in result.stdout and "Error" not in result.stdout, result.stdout  # clean: nothing skipped
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("vpnconn_client.models")
    finally:
        sys.path.remove(str(root))


def _bodies(document):
    """(scenario, role, schema name, body) for every JSON body of every fixture, its schema read from the
    artefact's operation (request body, or the answer for the scenario's expected status)."""
    responses = document["components"].get("responses", {})

    def schema_name(content_holder) -> str:
        if "$ref" in content_holder:
            content_holder = responses[content_holder["$ref"].rsplit("/", 1)[1]]
        return content_holder["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    operations = {operation["operationId"]: operation for item in document["paths"].values()
                  for operation in item.values() if isinstance(operation, dict) and "operationId" in operation}
    for scenario in MANIFEST["scenarios"]:
        operation, files = operations[scenario["operation"]], scenario["files"]
        if "request" in files:
            yield scenario, "request", schema_name(operation["requestBody"]), json.loads((FIXTURES / files["request"]).read_text())
        for role in ("response", "error"):
            if role in files:
                answer = operation["responses"][str(scenario["expected_status"])]
                yield scenario, role, schema_name(answer), json.loads((FIXTURES / files[role]).read_text())


def _judge(document):
    registry = referencing.Registry().with_resource("urn:codegen", DRAFT202012.create_resource(document))
    return lambda name, body: {error.validator for error in SpecValidator(
        {"$ref": f"urn:codegen#/components/schemas/{name}"}, registry=registry).iter_errors(body)}


def _false_properties(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                yield from (f"{where}/{name}" for name, schema in value.items() if schema is False)
            yield from _false_properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _false_properties(value, f"{where}/{index}")


def test_the_bundle_itself_has_what_the_artefact_removes():
    """The proof that the artefact's test can fail: the bundle has false schemas and deep references."""
    bundle = load_spec().document
    assert list(_false_properties(bundle)) and "/properties/" in json.dumps(bundle)


def test_the_artefact_is_valid_openapi_without_overlays_false_schemas_or_deep_references(document):
    validate(document)
    text = json.dumps(document)
    assert not list(_false_properties(document))
    assert "/properties/" not in text and "/oneOf/" not in text  # every $ref names a component
    request = document["components"]["schemas"]["CreateVpnConnectionRequestBodyContent"]
    assert "oneOf" not in request and {"vgw_id", "psk", "policy_rules", "enable_hub"} <= set(request["properties"])


def _load_every_fixture(document, generator: str, round_trip, refused: tuple[type[Exception], ...]) -> dict[str, int]:
    """Each fixture body into its model: a valid request or an answer loads and writes back equal
    (``round_trip(name, body)``); an invalid request the models can express is refused."""
    judge, counts = _judge(document), {"accepted": 0, "refused": 0, "not expressible": 0}
    for scenario, role, name, body in _bodies(document):
        invalid = judge(name, body)
        if role != "request" or scenario["kind"] != "error":  # a valid request, or any answer
            assert not invalid, (scenario["name"], role, invalid)
            assert round_trip(name, body) == body, (scenario["name"], role)
            counts["accepted"] += 1
        elif invalid & EXPRESSIBLE[generator]:
            with pytest.raises(refused):
                round_trip(name, body)
            counts["refused"] += 1
        else:
            counts["not expressible"] += 1
    print(f"{generator}:", counts)
    return counts


def test_datamodel_code_generator_models_load_every_fixture_as_the_spec_says(document, pydantic_models):
    counts = _load_every_fixture(document, "datamodel-code-generator", lambda name, body: getattr(pydantic_models, name)
                                 .model_validate(body).model_dump(mode="json", by_alias=True, exclude_unset=True),
                                 (pydantic.ValidationError,))
    assert counts["accepted"] >= 250 and counts["refused"] >= 130, counts


def test_openapi_python_client_models_load_every_fixture_as_the_spec_says(document, attrs_models):
    counts = _load_every_fixture(document, "openapi-python-client",
                                 lambda name, body: getattr(attrs_models, name).from_dict(body).to_dict(),
                                 (KeyError, ValueError, TypeError))
    assert counts["accepted"] >= 250 and counts["refused"] >= 40, counts


def test_every_field_of_the_request_is_typed_in_both(pydantic_models, attrs_models):
    fields = pydantic_models.CreateVpnConnectionRequestBodyContent.model_fields
    assert "ResourceId" in str(fields["vgw_id"].annotation) and "Ipv4Cidr" in str(fields["peer_subnets"].annotation)
    annotations = attrs_models.CreateVpnConnectionRequestBodyContent.__annotations__
    assert annotations["vgw_id"] == "str" and "list[str]" in annotations["peer_subnets"]
