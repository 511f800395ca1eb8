"""The vendored front-end libraries (``vendor.toml``): reading the manifest, fetching each
pinned file from the npm registry and checking its sha256 (``bin/vendor``), and where the
gateway serves them from."""

import hashlib
import io
import tarfile
import tomllib
from pathlib import Path

import requests

HERE = Path(__file__).parent
MANIFEST = HERE / "vendor.toml"
VENDOR_DIR = HERE / "static" / "vendor"
REGISTRY = "https://registry.npmjs.org"


def libraries():
    with MANIFEST.open("rb") as f:
        return tomllib.load(f)["library"]


def tarball_url(library):
    name = library["package"]
    return f"{REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{library['version']}.tgz"


def file_in_tarball(data, member):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return archive.extractfile(member).read()


def fetch(library, timeout=60):
    """The library's file, from its npm tarball, checked against the manifest."""
    response = requests.get(tarball_url(library), timeout=timeout)
    response.raise_for_status()
    content = file_in_tarball(response.content, library["file"])
    found = hashlib.sha256(content).hexdigest()
    if found != library["sha256"]:
        raise ValueError(f"{library['package']} {library['version']} {library['file']}: "
                         f"sha256 {found}, the manifest pins {library['sha256']}")
    return content


def is_current(library, folder=VENDOR_DIR):
    path = folder / library["serve_as"]
    return path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == library["sha256"]


def install(folder=VENDOR_DIR, log=print):
    """Write every library missing or different in ``folder``; returns the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for library in libraries():
        if is_current(library, folder):
            continue
        (folder / library["serve_as"]).write_bytes(fetch(library))
        log(f"vendored {library['package']}@{library['version']} -> {library['serve_as']}")
        written.append(library["serve_as"])
    return written
