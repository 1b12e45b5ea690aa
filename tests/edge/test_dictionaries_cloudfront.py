"""The CloudFront functions with the ``dictionaries`` option, run on node as the runtime would run
them (tests/edge/kvs_driver.js: CloudFront's event shape, a ``cloudfront`` module whose kvs()
reads the store file ``manage.py assetpipe edge`` writes), against three builds published to
moto; and the proof that every key they can rewrite to is in the bucket."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from assetpipe.build.dictionaries import dcz_decode
from assetpipe.conf.dictionaries import DictionarySettings
from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.options import DEFAULT_SKIP_EXTENSIONS
from assetpipe.edge.cloudfront import (
    FUNCTION_MAX_BYTES,
    KVS_FILE,
    KVS_KEY_MAX_BYTES,
    KVS_VALUE_MAX_BYTES,
    RESPONSE_FUNCTION_FILE,
    dictionary_store,
    edge_files,
)
from assetpipe.edge.negotiation import (
    Negotiation,
    negotiate_dictionary_js,
    negotiate_js,
    preferred_encoding,
    use_as_dictionary_js,
)
from assetpipe.headers import available_dictionary, use_as_dictionary
from assetpipe.naming import delta_name, dictionary_id
from tests.edge.conftest import HERE, RunFunction
from tests.edge.dictionaries_builds import (
    DICTIONARY_FILES,
    EXCLUDED,
    PREFIX,
    Published,
    publish_builds,
    settings_for,
)
from tests.edge.s3_cors import S3CorsFront

GOLDEN = HERE / "golden"
DRIVER = HERE / "kvs_driver.js"
CHROME = "gzip, deflate, br, zstd, dcb, dcz"
IMAGES = Negotiation(
    "static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS, image_formats=("avif", "webp")
)


@pytest.fixture(scope="module")
def published(s3_front: S3CorsFront, tmp_path_factory: pytest.TempPathFactory) -> Published:
    return publish_builds(
        s3_front, "cloudfront-dictionaries", tmp_path_factory.mktemp("builds"), "cloudfront"
    )


@pytest.fixture(scope="module")
def store(published: Published) -> str:
    text, skipped = dictionary_store(published.negotiation, published.live.manifest)
    assert skipped == []
    return text


def run(node: Path, tmp_path: Path, code: str, store: str, events: list[Any]) -> list[Any]:
    (tmp_path / "function.js").write_text(code)
    (tmp_path / "store.json").write_text(store)
    result = subprocess.run(
        [
            str(node),
            "--experimental-vm-modules",
            "--no-warnings",
            str(DRIVER),
            "run",
            str(tmp_path / "function.js"),
            str(tmp_path / "store.json"),
        ],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    results: list[Any] = json.loads(result.stdout)
    assert len(results) == len(events)
    return results


def request_event(uri: str, headers: dict[str, str | None]) -> dict[str, Any]:
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": {},
            "headers": {n: {"value": v} for n, v in headers.items() if v is not None},
            "cookies": {},
        },
    }


def response_event(uri: str, status: int) -> dict[str, Any]:
    event = request_event(uri, {"accept-encoding": CHROME})
    event["context"]["eventType"] = "viewer-response"
    event["response"] = {"statusCode": status, "statusDescription": "", "headers": {}}
    return event


def test_every_key_the_store_can_name_is_in_the_bucket(published: Published) -> None:
    """For each build's manifest: one entry per dictionary file, and each of its ids names a
    delta the bucket has; the live build's entries are its dictionary files exactly."""
    keys = published.bucket_keys()
    for build in published.builds:
        text, skipped = dictionary_store(published.negotiation, build.manifest)
        assert skipped == []
        data = json.loads(text)["data"]
        assert {item["key"] for item in data} == {PREFIX + n for n in build.dictionaries}
        for item in data:
            assert len(item["key"].encode()) <= KVS_KEY_MAX_BYTES
            assert len(item["value"].encode()) <= KVS_VALUE_MAX_BYTES
            value = json.loads(item["value"])
            entry = build.dictionaries[item["key"][len(PREFIX) :]]
            assert (value["match"], value["dest"]) == (entry["match"], entry["dest"])
            assert len(value["ids"]) == len(entry["deltas"])
            for id in value["ids"]:
                assert f"{item['key']}.{id}.dcz" in keys, (item["key"], id)
    live = json.loads(dictionary_store(published.negotiation, published.live.manifest)[0])
    assert {item["key"] for item in live["data"]} == {
        PREFIX + published.live.hashed(name) for name in DICTIONARY_FILES
    }


def dictionaries_held(published: Published) -> dict[str, str]:
    """Every version of every file of every build, as a browser would name it."""
    return {
        f"build {build.version} {name}": build.available(name)
        for build in published.builds
        for name in (*DICTIONARY_FILES, *EXCLUDED)
    }


def test_the_request_function_rewrites_only_to_a_delta_the_store_lists(
    published: Published, store: str, node: Path, tmp_path: Path
) -> None:
    """Every file of the live build, asked with every dictionary any build had: the URI is the
    delta's only for the one the store lists (the previous build's version of the same file),
    and that key is in the bucket and decodes to the file."""
    code = edge_files(published.negotiation, None, DictionarySettings())["cloudfront-function.js"]
    live, previous = published.live, published.builds[-2]
    held = dictionaries_held(published)
    cases = [
        (name, label, value)
        for name in (*DICTIONARY_FILES, *EXCLUDED)
        for label, value in held.items()
    ]
    events = [
        request_event(
            "/" + PREFIX + live.hashed(name),
            {"accept-encoding": CHROME, "available-dictionary": value},
        )
        for name, _, value in cases
    ]
    keys = published.bucket_keys()
    rewritten = 0
    for (name, label, _), result in zip(
        cases, run(node, tmp_path, code, store, events), strict=True
    ):
        uri = result["result"]["uri"]
        key = PREFIX + live.hashed(name)
        if name in DICTIONARY_FILES and label == f"build {previous.version} {name}":
            old = previous.files[previous.hashed(name)]
            delta = PREFIX + delta_name(
                live.hashed(name), dictionary_id(hashlib.sha256(old).digest())
            )
            assert uri == "/" + delta, (name, label)
            assert uri[1:] in keys
            got = published.get(delta)
            assert got["ContentEncoding"] == "dcz"
            new = live.files[live.hashed(name)]
            assert dcz_decode(got["Body"], old, len(new)) == new
            rewritten += 1
        else:
            assert uri == "/" + key + ".br", (name, label)
    assert rewritten == len(DICTIONARY_FILES)


# (id, Accept-Encoding, Available-Dictionary: "previous" for the one with a delta) -> URI suffix
FALLBACKS = [
    ("known", CHROME, "previous", "delta"),
    ("no dictionary", CHROME, None, ".br"),
    ("unknown dictionary", CHROME, ":" + base64.b64encode(bytes(32)).decode() + ":", ".br"),
    ("malformed: no colons", CHROME, "previous-bare", ".br"),
    ("malformed: short", CHROME, ":AAAA:", ".br"),
    ("malformed: not base64", CHROME, ":" + "!" * 43 + "=:", ".br"),
    ("dcz refused", "br, dcz;q=0", "previous", ".br"),
    ("dcz not offered", "gzip, br", "previous", ".br"),
    ("star refused", "gzip, *;q=0", "previous", ".gz"),
    ("no Accept-Encoding", None, "previous", ""),
]


def test_any_other_request_gets_todays_uri(
    published: Published, store: str, node: Path, tmp_path: Path
) -> None:
    code = edge_files(published.negotiation, None, DictionarySettings())["cloudfront-function.js"]
    previous, live = published.builds[-2], published.live
    events, expected = [], []
    for name in DICTIONARY_FILES:
        key = PREFIX + live.hashed(name)
        for _, accept_encoding, which, suffix in FALLBACKS:
            value = which
            if which is not None and which.startswith("previous"):
                value = previous.available(name)
                value = value.strip(":") if which == "previous-bare" else value
            events.append(
                request_event(
                    "/" + key, {"accept-encoding": accept_encoding, "available-dictionary": value}
                )
            )
            if suffix == "delta":
                digest = hashlib.sha256(previous.files[previous.hashed(name)]).digest()
                expected.append("/" + PREFIX + delta_name(live.hashed(name), dictionary_id(digest)))
            else:
                expected.append("/" + key + suffix)
    # A store that lacks the key (not updated yet) or is empty: today's URI.
    results = run(node, tmp_path, code, store, events)
    assert [r["result"]["uri"] for r in results] == expected
    empty = run(node, tmp_path, code, json.dumps({"data": []}), events[:1])
    assert empty[0]["result"]["uri"] == events[0]["request"]["uri"] + ".br"


def test_the_response_function_declares_only_the_live_dictionary_files(
    published: Published, store: str, node: Path, tmp_path: Path
) -> None:
    files = edge_files(published.negotiation, None, DictionarySettings())
    live, previous = published.live, published.builds[-2]
    cases: list[tuple[str, int, str | None]] = []
    for name in DICTIONARY_FILES:
        key = PREFIX + live.hashed(name)
        entry = live.dictionaries[live.hashed(name)]
        header = use_as_dictionary(entry["match"], entry["dest"])
        digest = hashlib.sha256(previous.files[previous.hashed(name)]).digest()
        cases += [
            ("/" + key, 200, header),
            ("/" + key + ".br", 200, header),
            ("/" + PREFIX + delta_name(live.hashed(name), dictionary_id(digest)), 200, header),
            ("/" + key, 304, header),
            ("/" + key, 404, None),
            ("/" + PREFIX + previous.hashed(name), 200, None),
        ]
    cases += [("/" + PREFIX + live.hashed(name), 200, None) for name in EXCLUDED]
    cases.append(("/" + PREFIX + "js/app.js", 200, None))
    events = [response_event(uri, status) for uri, status, _ in cases]
    results = run(node, tmp_path, files[RESPONSE_FUNCTION_FILE], store, events)
    for (uri, status, wanted), result in zip(cases, results, strict=True):
        got = result["result"]["headers"].get("use-as-dictionary")
        assert (got["value"] if got else None) == wanted, (uri, status)
        assert result["result"]["statusCode"] == status


@pytest.mark.parametrize(
    "negotiation",
    [Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS), IMAGES],
    ids=["plain", "images"],
)
def test_the_functions_fit_and_use_only_what_the_runtime_has(
    negotiation: Negotiation, node: Path, acorn: Path, tmp_path: Path
) -> None:
    files = edge_files(negotiation, None, DictionarySettings())
    for name in ("cloudfront-function.js", RESPONSE_FUNCTION_FILE):
        code = files[name]
        assert len(code.encode()) <= FUNCTION_MAX_BYTES, name
        assert code.startswith("import cf from 'cloudfront';\n"), name
        path = tmp_path / name
        path.write_text(code)
        result = subprocess.run(
            [str(node), str(DRIVER), "check", str(path), str(acorn)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"module": None, "es5": None}, name


def test_the_image_function_still_picks_image_variants(
    published: Published, store: str, node: Path, tmp_path: Path
) -> None:
    code = edge_files(IMAGES, None, DictionarySettings())["cloudfront-function.js"]
    live, previous = published.live, published.builds[-2]
    events = [
        request_event("/static/img/hero.jpg", {"accept": "image/avif", "accept-encoding": CHROME}),
        request_event(
            "/" + PREFIX + live.hashed("js/app.js"),
            {"accept-encoding": CHROME, "available-dictionary": previous.available("js/app.js")},
        ),
    ]
    uris = [r["result"]["uri"] for r in run(node, tmp_path, code, store, events)]
    assert uris[0] == "/static/img/hero.jpg.avif"
    assert uris[1].endswith(".dcz")


@pytest.mark.parametrize("case", ["plain", "images-cors"])
def test_without_the_option_the_files_are_byte_for_byte_todays(case: str) -> None:
    negotiation = Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS)
    cors = None
    if case == "images-cors":
        negotiation = IMAGES
        cors = CorsConfig(origins=("https://shop.example",), max_age=600)
    files = edge_files(negotiation, cors)
    assert sorted(files) == sorted(
        p.name.removeprefix(f"{case}-cloudfront-") for p in GOLDEN.glob(f"{case}-cloudfront-*")
    )
    for name, text in files.items():
        assert text == (GOLDEN / f"{case}-cloudfront-{name}").read_text(), name
    policy = json.loads(
        edge_files(negotiation, cors, DictionarySettings())["response-headers-policy.json"]
    )
    vary = policy["CustomHeadersConfig"]["Items"][0]["Value"]
    assert "Available-Dictionary" in vary.split(", ")


def test_the_command_writes_the_store_of_the_build(published: Published, tmp_path: Path) -> None:
    options = {**published.options, "cdn": "cloudfront"}
    source = tmp_path / "source"
    source.mkdir()
    with override_settings(**settings_for(published.root, source, options)):
        call_command("assetpipe", "edge", "--out", str(tmp_path / "out"), verbosity=0)
        with pytest.raises(CommandError, match=r"nothing\.json"):
            call_command(
                "assetpipe",
                "edge",
                "--manifest",
                str(tmp_path / "nothing.json"),
                stdout=io.StringIO(),
            )
    written = (tmp_path / "out" / KVS_FILE).read_text()
    assert written == dictionary_store(published.negotiation, published.live.manifest)[0]
    assert (tmp_path / "out" / RESPONSE_FUNCTION_FILE).is_file()


# Available-Dictionary values: the JavaScript and the Python rule must agree on each.
AVAILABLE = [
    None,
    "",
    ":" + base64.b64encode(bytes(range(32))).decode() + ":",
    " \t:" + base64.b64encode(hashlib.sha256(b"x").digest()).decode() + ": ",
    base64.b64encode(hashlib.sha256(b"x").digest()).decode(),
    ":" + base64.b64encode(hashlib.sha256(b"x").digest()).decode()[:-1] + "A:",
    ":" + base64.b64encode(bytes(31)).decode() + ":",
    ":" + base64.b64encode(bytes(33)).decode() + ":",
    ":" + "A" * 42 + "==:",
    ":" + "/" * 43 + "=:",
    ":" + "_" * 43 + "=:",
    ":" + "A" * 20 + "=" + "A" * 22 + "=:",
    ":" + base64.b64encode(bytes(32)).decode() + ":, :x:",
    ":" + base64.b64encode(hashlib.sha256(b"y").digest()).decode().replace("=", "") + "B=:",
]
ACCEPT = [
    None,
    "",
    "dcz",
    "DCZ;q=0.5",
    "dcz;q=0",
    "*",
    "*;q=0",
    "br, *;q=0, dcz",
    "br",
    "dcz;q=1.1",
]


def test_the_javascript_twins_agree_with_the_python_rules(run_function: RunFunction) -> None:
    code = (
        negotiate_js()
        + negotiate_dictionary_js()
        + use_as_dictionary_js()
        + """
function handler(event) {
  return {
    sha256: availableDictionary(event.available),
    dcz: dczAccepted(event.accept),
    header: useAsDictionary(event.match, event.dest),
  };
}
"""
    )
    matches = ["app.*.js", 'we"ird\\\\.*.css', "caf\u00e9.*.js"]
    events: list[dict[str, Any]] = [
        {
            "available": a,
            "accept": ACCEPT[i % len(ACCEPT)],
            "match": matches[i % 3],
            "dest": "style",
        }
        for i, a in enumerate(AVAILABLE)
    ] + [{"available": None, "accept": e, "match": "a", "dest": "script"} for e in ACCEPT]
    for event, result in zip(events, run_function(code, events), strict=True):
        got = result["request"]
        sha256 = available_dictionary(event["available"])
        assert got["sha256"] == (sha256.hex() if sha256 else None), event
        assert got["dcz"] == (preferred_encoding(event["accept"], ("dcz",)) is not None), event
        assert got["header"] == use_as_dictionary(event["match"], event["dest"]), event
