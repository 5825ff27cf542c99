"""An institution's scorecard served by the web app (web/scorecards.py)."""

from __future__ import annotations

from govsocial.publish.model import ReadModel
from govsocial.reports.files import file_stem
from web.site import Server


def test_the_scorecard_is_served_as_html_and_pdf_in_the_viewers_language(
    server: Server, published: ReadModel
) -> None:
    accounts = published.table("accounts").to_pylist()
    institution = accounts[0]["institution_id"]
    name = accounts[0]["institution_name"]
    path = f"/runs/{published.run_id}/scorecards/{file_stem(institution)}"
    with server.client() as client:
        page = client.get(f"{path}.html")
        assert page.status_code == 200 and name in page.text and 'lang="id"' in page.text
        client.cookies.set("gs_lang", "en")
        english = client.get(f"{path}.html")
        assert 'lang="en"' in english.text and name in english.text
        pdf = client.get(f"{path}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        assert (
            client.get(f"/runs/{published.run_id}/scorecards/no-such-one.html").status_code == 404
        )
