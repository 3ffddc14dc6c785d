"""The browser extension (extension/): its URL mapping's unit tests under Node's built-in test
runner, its manifest, and `make extension`'s zip. Loading it into Chromium: tests/e2e."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

EXT = ROOT / "extension"


def test_mapping_unit_tests_pass_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is required in CI (it also fetches KaTeX)")
        pytest.skip("Node.js not installed: the extension's unit tests need `node --test`")
    r = subprocess.run(
        [node, "--test", str(EXT / "test")], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", r.stdout, re.M)
    assert "# fail 0" in r.stdout and passed and int(passed.group(1)) >= 6, r.stdout[-1000:]


def test_manifest_names_only_files_that_exist() -> None:
    m = json.loads((EXT / "manifest.json").read_text())
    assert m["manifest_version"] == 3
    files = [m["background"]["service_worker"], m["options_page"]]
    for cs in m["content_scripts"]:
        assert cs["js"][0] == "mapping.js"  # the content script uses the shared mapping
        files += cs["js"]
    for f in files:
        assert (EXT / f).is_file(), f
    assert 'importScripts("mapping.js")' in (EXT / "background.js").read_text()


def test_make_extension_builds_the_zip(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not installed")
    r = subprocess.run([make, "-s", "extension"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(ROOT / "build" / "coolpapers-extension.zip") as z:
        names = set(z.namelist())
        assert {"manifest.json", "mapping.js", "background.js", "content.js"} <= names
        assert json.loads(z.read("manifest.json"))["manifest_version"] == 3
        assert not any(n.startswith("test/") for n in names)  # tests are not shipped


def test_venue_pages_map_to_the_ids_the_server_parses() -> None:
    """extension/test/venue_urls.json, which mapping.test.js checks venueId() against: the
    server's parsers (sources/*/ids.py through registry.key) give the same ids."""
    from coolpapers.sources import registry
    from coolpapers.sources.base import BadId

    table = json.loads((EXT / "test" / "venue_urls.json").read_text())
    assert len(table["papers"]) >= 40 and len(table["not_papers"]) >= 40
    for url, pid in table["papers"]:
        assert registry.key(url) == pid, url
    for url in table["not_papers"]:
        with pytest.raises(BadId):
            registry.key(url)
    with pytest.raises(BadId):  # a supplement is no paper (the extension maps it to none)
        registry.key("https://proceedings.mlr.press/v37/ioffe15-supp.pdf")
