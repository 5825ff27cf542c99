"""Screenshots of the report for docs/screenshots/, taken with Debian's chromium.

    python bench/screenshots.py PUBLISHED_RUN_FOLDER [--lang id] [--out docs/screenshots]

Writes the site of the published run into a temporary folder, opens it from disk in headless
chromium (Playwright driving /usr/bin/chromium; never `playwright install`) and saves
overview.png (index.html), category.png (the first category × cluster page),
methodology.png and scorecard.png (the scorecard of the first nominee of the first category),
each of the top of the page at 1280 × 1600.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from govsocial.publish.model import ReadModel  # noqa: E402
from govsocial.reports.scorecards import write_scorecards  # noqa: E402
from govsocial.reports.site import write_site  # noqa: E402
from reports.browser import CHROMIUM, browser_page  # noqa: E402  (tests/reports/browser.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("published", type=Path, help="a published run's folder")
    parser.add_argument("--lang", default="id")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    model = ReadModel.open(args.published)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        index = write_site(model, Path(tmp) / "site", args.lang)
        first = model.results["categories"][0]
        nominee = first["clusters"][0]["nominees"][0]["institution_id"]
        card = write_scorecards(model, index.parent, args.lang, pdf=False, institutions=[nominee])[
            0
        ]
        pages = {
            "overview.png": index,
            "category.png": index.parent
            / "categories"
            / first["id"]
            / f"{first['clusters'][0]['cluster_id']}.html",
            "methodology.png": index.parent / "methodology.html",
            "scorecard.png": card,
        }
        with browser_page(Path(tmp) / "profile") as (page, _requests):
            page.set_viewport_size({"width": 1280, "height": 1600})
            for name, path in pages.items():
                page.goto(path.as_uri())
                page.screenshot(path=str(args.out / name))
                print(args.out / name)
    print(f"(chromium: {CHROMIUM})")


if __name__ == "__main__":
    main()
