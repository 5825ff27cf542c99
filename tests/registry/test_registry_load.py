from pathlib import Path

import pytest

from conftest import REGISTRY_YAML, scalar
from govsocial.errors import InputError, RegistryError
from govsocial.registry import Cluster, read_registry
from govsocial.store import Warehouse, apply_registry, known_clusters


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_registry_reads_institutions_and_accounts(tmp_path: Path) -> None:
    registry = read_registry(write(tmp_path, "r.yaml", REGISTRY_YAML))
    assert [i.id for i in registry.institutions] == ["jabarprov", "kemenkes"]
    jabar = registry.institutions[0]
    assert (jabar.cluster, jabar.sub_cluster, jabar.region) == ("pemda", "provinsi", "Jawa Barat")
    assert [(a.platform, a.handle, a.handle_key) for a in jabar.accounts] == [
        ("instagram", "jabarprovgov", "jabarprovgov"),
        ("x", "JabarProvGov", "jabarprovgov"),
    ]
    assert registry.accounts_count == 3


def test_csv_registry_groups_rows_by_institution(tmp_path: Path) -> None:
    text = (
        "institution_id,institution_name,cluster,sub_cluster,region,platform,handle,platform_id,account_name\n"
        "bandung,Pemerintah Kota Bandung,pemda,kota,Jawa Barat,instagram,humasbdg,,Humas Bandung\n"
        "bandung,Pemerintah Kota Bandung,pemda,kota,Jawa Barat,x,humasbdg,,\n"
        "ugm,Universitas Gadjah Mada,perguruan_tinggi,,DI Yogyakarta,,,,\n"
    )
    registry = read_registry(write(tmp_path, "r.csv", "\ufeff" + text))
    assert [(i.id, len(i.accounts)) for i in registry.institutions] == [("bandung", 2), ("ugm", 0)]
    assert registry.institutions[0].accounts[0].name == "Humas Bandung"


def test_every_problem_is_reported_with_line_field_and_fix(tmp_path: Path) -> None:
    text = """\
institutions:
  - id: a
    name: A
    cluster: kementrian
  - id: b
    cluster: pemda
    sub_cluster: desa
    accounts:
      - {platform: instagram, handle: same}
      - {platform: myspace, handle: other}
  - id: a
    name: A again
    cluster: lembaga
    accounts:
      - {platform: instagram, handle: "@SAME"}
      - {platform: x}
"""
    with pytest.raises(RegistryError) as caught:
        read_registry(write(tmp_path, "bad.yaml", text))
    problems = {(p.place, p.field): p for p in caught.value.problems}
    # Each problem is at the line of its field; a missing field at the line of its record.
    assert problems[("line 4", "cluster")].reason == "unknown cluster 'kementrian'"
    assert "kementerian" in problems[("line 4", "cluster")].fix
    assert ("line 5", "name") in problems
    assert "provinsi, kota, kabupaten" in problems[("line 7", "sub_cluster")].fix
    assert "myspace" in problems[("line 10", "platform")].reason
    assert "first at line 2" in problems[("line 11", "id")].reason
    assert problems[("line 15", "handle")].reason == (
        "duplicate instagram handle '@same' (also listed for institution 'b' at line 9)"
    )
    assert "handle or a platform_id" in problems[("line 16", "handle")].reason
    assert [p.place for p in caught.value.problems] == sorted(
        (p.place for p in caught.value.problems), key=lambda place: int(place.split()[1])
    )
    message = str(caught.value)
    assert "bad.yaml" in message and "nothing was loaded" in message


def test_unknown_keys_are_named_with_the_valid_ones(tmp_path: Path) -> None:
    text = "institutions:\n  - id: a\n    name: A\n    cluster: lembaga\n    klaster: x\n"
    with pytest.raises(RegistryError, match="field 'klaster': unknown institution field.*cluster"):
        read_registry(write(tmp_path, "r.yaml", text))


def test_clusters_are_data(tmp_path: Path) -> None:
    text = """\
clusters:
  - {id: bumd, name: Badan Usaha Milik Daerah, name_en: State-owned companies}
institutions:
  - {id: jakpro, name: PT Jakpro, cluster: bumd}
"""
    registry = read_registry(write(tmp_path, "r.yaml", text))
    assert registry.clusters[0].id == "bumd"
    # A cluster already known to the warehouse is valid without being declared again.
    again = "institutions:\n  - {id: pasar, name: PD Pasar, cluster: bumd}\n"
    known = (Cluster("bumd", "BUMN"),)
    assert read_registry(write(tmp_path, "r2.yaml", again), known).institutions[0].cluster == "bumd"
    with pytest.raises(RegistryError, match="unknown cluster 'bumd'"):
        read_registry(write(tmp_path, "r3.yaml", again))


def test_malformed_files_name_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"r\.yaml, line \d+: not valid YAML"):
        read_registry(write(tmp_path, "r.yaml", "institutions:\n  - id: [a\n"))
    with pytest.raises(InputError, match="missing column.*cluster"):
        read_registry(write(tmp_path, "r.csv", "institution_id,institution_name\na,A\n"))
    with pytest.raises(InputError, match="unknown registry file type '.json'"):
        read_registry(write(tmp_path, "r.json", "{}"))
    with pytest.raises(InputError, match="no such file"):
        read_registry(tmp_path / "missing.yaml")


def test_a_file_with_errors_loads_nothing(tmp_path: Path, warehouse: Warehouse) -> None:
    good = REGISTRY_YAML + "  - {id: bad, name: Bad, cluster: nope}\n"
    with pytest.raises(RegistryError):
        read_registry(write(tmp_path, "r.yaml", good), known_clusters(warehouse))
    assert scalar(warehouse, "SELECT count(*) FROM institutions") == 0


def test_loading_twice_updates_and_assigns_instead_of_duplicating(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    path = write(tmp_path, "r.yaml", REGISTRY_YAML)
    first = apply_registry(warehouse, read_registry(path), path)
    assert (first.institutions_new, first.accounts_new) == (2, 3)
    changed = write(
        tmp_path,
        "r2.yaml",
        REGISTRY_YAML.replace("Kementerian Kesehatan", "Kementerian Kesehatan RI"),
    )
    second = apply_registry(warehouse, read_registry(changed), changed)
    assert (second.institutions_new, second.institutions_updated) == (0, 2)
    assert (second.accounts_new, second.accounts_updated) == (0, 3)
    assert scalar(warehouse, "SELECT count(*) FROM accounts") == 3
    assert (
        scalar(warehouse, "SELECT name FROM institutions WHERE institution_id = 'kemenkes'")
        == "Kementerian Kesehatan RI"
    )
    assert scalar(warehouse, "SELECT count(*) FROM clusters") == 5
