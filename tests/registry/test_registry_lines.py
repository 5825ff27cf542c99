"""Every registry problem is reported at the line people see in their editor."""

from pathlib import Path

import pytest

from govsocial.errors import InputError, RegistryError
from govsocial.registry import default_clusters, read_registry

CSV_HEADER = (
    "institution_id,institution_name,cluster,sub_cluster,region,platform,handle,platform_id,"
    "account_name\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))  # no newline translation: the lines are as written
    return path


def places(tmp_path: Path, name: str, text: str) -> dict[str, str]:
    """{"line N, field": reason} of every problem in the file."""
    with pytest.raises(RegistryError) as caught:
        read_registry(write(tmp_path, name, text))
    return {f"{p.place}, {p.field}": p.reason for p in caught.value.problems}


def test_yaml_lines_count_comments_blank_lines_and_multi_line_values(tmp_path: Path) -> None:
    text = """\
# Registry of the 2025 edition.
# Maintained by the secretariat.

synthetic: false
clusters:
  - {id: bumd, name: Badan Usaha Milik Daerah}   # a flow item

institutions:
  - id: jabarprov
    name: >
      Pemerintah Provinsi
      Jawa Barat

    # the sub-cluster below is wrong
    cluster: pemda
    sub_cluster: desa
    region: |
      Jawa Barat
      (Bandung)
  - {id: jakpro, name: PT Jakpro,
     cluster: bumn_daerah}
  - id: kemenkes
    name: Kementerian Kesehatan

    cluster: kementerian
    accounts:
      - platform: youtube

        handle: kemenkesri
      - {platform: myspace,
         handle: kemenkes}
"""
    assert places(tmp_path, "r.yaml", text) == {
        "line 16, sub_cluster": "'desa' is not a sub-cluster of 'pemda'",
        "line 21, cluster": "unknown cluster 'bumn_daerah'",
        "line 30, platform": "unknown platform 'myspace'",
    }


def test_yaml_items_that_are_not_mappings_are_at_their_own_line(tmp_path: Path) -> None:
    text = """\
institutions:
  # first a good one
  - {id: a, name: A, cluster: lembaga, accounts: [{platform: x, handle: a}, just-a-handle]}

  - not an institution
  - id: b
    name: [B, Bee]
    cluster: lembaga
"""
    assert places(tmp_path, "r.yaml", text) == {
        "line 3, accounts": "expected a mapping, got 'just-a-handle'",
        "line 5, institutions": "expected a mapping, got 'not an institution'",
        "line 7, name": "is a list, not text",
    }


def test_a_yaml_key_given_twice_is_a_problem_not_a_silent_overwrite(tmp_path: Path) -> None:
    text = "institutions:\n  - id: a\n    name: A\n    cluster: lembaga\n    cluster: pemda\n"
    assert places(tmp_path, "r.yaml", text) == {
        "line 5, cluster": "given twice in one mapping (first at line 4)",
    }


def test_yaml_numbers_and_dates_stay_as_written(tmp_path: Path) -> None:
    text = """\
institutions:
  - id: a
    name: 2025-13-45
    cluster: lembaga
    accounts:
      - {platform: instagram, platform_id: 0123}
      - {platform: x, handle: 1_000}
"""
    registry = read_registry(write(tmp_path, "r.yaml", text))
    (institution,) = registry.institutions
    assert institution.name == "2025-13-45"
    assert [(a.platform_id, a.handle) for a in institution.accounts] == [
        ("0123", None),
        (None, "1_000"),
    ]


def test_synthetic_must_be_true_or_false(tmp_path: Path) -> None:
    text = 'synthetic: "no"\ninstitutions: []\n'
    assert places(tmp_path, "r.yaml", text) == {
        "line 1, synthetic": "'no' is not true or false",
    }


def test_csv_lines_count_the_header_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = (
        CSV_HEADER  # line 1
        + "\n"  # line 2
        + 'bandung,"Pemerintah Kota\nBandung",pemda,kota,Jawa Barat,instagram,humasbdg,,\n'  # 3-4
        + "\r\n"  # line 5
        + 'ugm,"Universitas\r\nGadjah\r\nMada",perguruan_tinggi,,,,,,\r\n'  # lines 6-8
        + 'kemenkes,"Kementerian\nKesehatan",kementrian,,,youtube,kemenkesri,,\n'  # lines 9-10
        + 'x1,X,lembaga,,,"instagram",,,"a\n\nname"\n'  # lines 11-13
        + "bad id,Bad,lembaga,,,,,,\n"  # line 14
    )
    assert places(tmp_path, "r.csv", text) == {
        "line 10, cluster": "unknown cluster 'kementrian'",
        "line 11, handle": "an account needs a handle or a platform_id",
        "line 14, id": "'bad id' is not a valid id",
    }


def test_csv_row_with_more_cells_than_the_header(tmp_path: Path) -> None:
    text = CSV_HEADER + "bandung,Kota Bandung, Jawa Barat,pemda,kota,,instagram,humasbdg,,\n"
    found = places(tmp_path, "r.csv", text)
    assert found["line 2, cell 10"] == "the row has 10 cells but the header has 9 columns"


def test_csv_rows_of_one_institution_that_disagree(tmp_path: Path) -> None:
    text = (
        CSV_HEADER
        + "bandung,Pemerintah Kota Bandung,pemda,kota,Jawa Barat,instagram,humasbdg,,\n"
        + "bandung,,,,,youtube,humasbdg,,\n"  # empty institution cells repeat nothing: fine
        + "bandung,Pemerintah Kota Bandung,pemda,kabupaten,,x,humasbdg,,\n"
    )
    assert places(tmp_path, "r.csv", text) == {
        "line 4, sub_cluster": "'kabupaten' differs from 'kota' given for institution 'bandung' "
        "on line 2",
    }


def test_csv_header_problems_are_at_the_header_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"r\.csv, line 3: column\(s\) handle given twice"):
        read_registry(write(tmp_path, "r.csv", "\n\n" + CSV_HEADER.strip() + ",handle\n"))


def test_a_registry_is_read_and_checked_without_any_warehouse(tmp_path: Path) -> None:
    """The CLI validates a file before it creates a warehouse: the built-in clusters suffice."""
    assert {c.id for c in default_clusters()} == {
        "kementerian",
        "lembaga",
        "pemda",
        "perguruan_tinggi",
        "bumn",
    }
    text = CSV_HEADER + "".join(
        f"i{n},Institution {n},{c.id},{c.sub_clusters[0] if c.sub_clusters else ''},,,,,\n"
        for n, c in enumerate(default_clusters())
    )
    registry = read_registry(write(tmp_path, "r.csv", text))
    assert len(registry.institutions) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
