"""Serve Solara's front-end assets from this machine: the page needs nothing beyond loopback.

By default the Solara page loads its JavaScript, CSS and fonts (the Vue/Vuetify app,
require.js, Vega for the charts, the grid layout) from a CDN, through a caching proxy in the
server that fetches whatever it lacks. Here:

- the files come from the ``solara-assets`` package, which installs them under
  ``<prefix>/share/solara/cdn/<package>@<version>/``;
- the proxy's cache directory is a per-process folder of links to those packages, plus
  major-version aliases (``vega@5`` -> ``vega@5.21.0``) for the version ranges that Solara's
  chart widget asks for;
- the proxy's upstream CDN is a closed loopback port, so a missing file ends in a 404 (after
  Solara's retries, a few seconds) and a browser console error the end-to-end test catches,
  never in a download;
- Solara's usage telemetry and its version check are switched off, and so is its "runs on
  Solara" banner (it sat over the bottom of the page).
"""

from __future__ import annotations

import os
import re
import shutil
import site
import sys
import tempfile
from pathlib import Path

ASSETS_SUBDIR = Path("share") / "solara" / "cdn"
MARKER = Path("requirejs@2.3.6") / "require.js"  # present in every solara-assets release
# Where a missing asset would be fetched from: the discard port on loopback, closed on any
# normal machine, so the proxy fails instead of reaching the internet.
UNREACHABLE_CDN = "http://127.0.0.1:9/cryptoabm-offline-no-cdn/"
# The Vega-Lite that solara-assets ships (what ``vega-lite@5`` resolves to). Charts declare it as
# their schema so that vega-embed does not warn that the spec is newer than the library.
VEGA_LITE_VERSION = "5.2.0"
VEGA_LITE_SCHEMA = f"https://vega.github.io/schema/vega-lite/v{VEGA_LITE_VERSION}.json"
_EXACT_VERSION = re.compile(r"^(?P<package>.+)@(?P<major>\d+)\.\d+\.\d+(?:[-+][\w.]+)?$")

# What the page requests besides the widgets' own files: checked by the tests and at start-up.
REQUIRED_ASSETS: tuple[str, ...] = (
    "@widgetti/solara-vuetify-app@10.1.1/dist/solara-vuetify-app8.min.js",
    "@widgetti/solara-vuetify-app@10.1.1/dist/main8.css",
    "@widgetti/solara-vuetify-app@10.1.1/dist/fonts.css",
    "requirejs@2.3.6/require.js",
    "font-awesome@4.5.0/css/font-awesome.min.css",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/vue-grid-layout.umd.js",
    "vega@5/build/vega.min.js",
    "vega-lite@5/build/vega-lite.min.js",
    f"vega-lite@{VEGA_LITE_VERSION}/build/vega-lite.min.js",
    "vega-embed@6/build/vega-embed.min.js",
)


class AssetsMissing(RuntimeError):
    """The front-end assets are not installed (the ``viz`` extra is missing)."""


def shipped_assets_dir() -> Path:
    """The folder ``solara-assets`` installed (in this environment, or the user's site)."""
    prefixes = [Path(sys.prefix)]
    if site.ENABLE_USER_SITE and site.getuserbase():
        prefixes.append(Path(site.getuserbase()))
    for prefix in prefixes:
        folder = prefix / ASSETS_SUBDIR
        if (folder / MARKER).is_file():
            return folder
    raise AssetsMissing(
        "Solara's front-end assets are not installed (looked in "
        + ", ".join(str(p / ASSETS_SUBDIR) for p in prefixes)
        + "); install the app's extra: pip install 'cryptoabm[viz]'"
    )


def build_asset_folder(target: Path, shipped: Path) -> Path:
    """Fill ``target`` with links to every shipped package and its major-version alias."""
    target.mkdir(parents=True, exist_ok=True)
    for package_dir in _package_dirs(shipped):
        relative = package_dir.relative_to(shipped)
        _link(target / relative, package_dir)
        match = _EXACT_VERSION.match(relative.name)
        if match:
            _link(target / relative.parent / f"{match['package']}@{match['major']}", package_dir)
    return target


def missing_assets(folder: Path) -> list[str]:
    """The required assets that ``folder`` cannot serve."""
    return [path for path in REQUIRED_ASSETS if not (folder / path).is_file()]


def _package_dirs(shipped: Path) -> list[Path]:
    """``name@version`` folders, including those inside npm scopes (``@widgetti/...``)."""
    found = []
    for entry in sorted(shipped.iterdir()):
        if entry.name.startswith("@") and entry.is_dir():
            found.extend(sorted(p for p in entry.iterdir() if p.is_dir()))
        elif entry.is_dir():
            found.append(entry)
    return found


def _link(link: Path, target: Path) -> None:
    if link.exists() or link.is_symlink():
        return  # an exact version wins over an alias; the first alias wins over later ones
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)


def for_shipped_vega(chart):
    """An Altair top-level chart declared against the shipped Vega-Lite (see VEGA_LITE_SCHEMA)."""
    return chart.properties(**{"$schema": VEGA_LITE_SCHEMA})


def prepare(app: str, title: str) -> Path:
    """Configure Solara (before it is imported) to serve ``app`` offline; returns the asset
    folder, a temporary directory the caller removes with :func:`cleanup`."""
    shipped = shipped_assets_dir()
    folder = build_asset_folder(Path(tempfile.mkdtemp(prefix="cryptoabm-viz-assets-")), shipped)
    missing = missing_assets(folder)
    if missing:
        cleanup(folder)
        raise AssetsMissing(f"the installed solara-assets lack {', '.join(missing)}; "
                            "reinstall the app's extra: pip install 'cryptoabm[viz]'")
    os.environ.update({
        "SOLARA_APP": app,
        "SOLARA_ASSETS_PROXY": "True",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(folder),
        "SOLARA_ASSETS_CDN": UNREACHABLE_CDN,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_THEME_TITLE": title,
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SOLARA_MODE": "production",  # no development banner, no call home to check the version
    })
    _apply_to_loaded_settings(folder, title)
    return folder


def _apply_to_loaded_settings(folder: Path, title: str) -> None:
    """The same settings, for a process that imported Solara already (e.g. a test)."""
    import solara.server.settings as server_settings
    import solara.settings as ui_settings

    ui_settings.assets.proxy = True
    ui_settings.assets.cdn = UNREACHABLE_CDN
    server_settings.assets.proxy_cache_dir = folder
    server_settings.telemetry.mixpanel_enable = False
    server_settings.theme.title = title
    server_settings.theme.show_banner = False
    server_settings.main.mode = "production"


def cleanup(folder: Path) -> None:
    """Remove the asset folder (its links only: the shipped files stay)."""
    shutil.rmtree(folder, ignore_errors=True)
