#!/usr/bin/env python3
"""Extract the JASPAR position frequency matrices used by the motif grammar.

Reads the JASPAR 2024 SQLite database shipped by the PyPI package `pyjaspar`
(no network access) and writes `motifs.json` beside this file: for every motif
key used in grammar.json, the JASPAR matrix id, the TF name, and the raw counts
(rows A, C, G, T; one column per motif position).

    nice -n 10 /work/venv-torch/bin/python training/motifs.py

motifs.json is committed; this script only needs to run again to change the set.
Data: JASPAR 2024 (Rauluseviciute et al., Nucleic Acids Res. 52(D1):D174-D182,
2024, doi:10.1093/nar/gkad1059). See README.md for the licence note.
"""
import json
import os
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
RELEASE = "JASPAR2024"

# grammar key -> JASPAR matrix id (CORE, vertebrates). Chosen for length
# (>= 9 bp where JASPAR has one) and low similarity between the keys.
CHOSEN = {
    "CTCF": "MA0139.2",
    "POU5F1_SOX2": "MA0142.1",
    "KLF4": "MA0039.4",
    "SOX2": "MA0143.4",
    "PAX6": "MA0069.1",
    "LHX2": "MA0700.2",
    "NEUROD1": "MA1109.1",
    "RFX2": "MA0600.3",
    "TBR1": "MA0802.1",
    "MEF2C": "MA0497.1",
    "DLX2": "MA0885.2",
    "NR4A2": "MA0160.2",
    "LMX1A": "MA0702.2",
    "FOXA2": "MA0047.3",
    "AP1": "MA0099.4",
    "EGR1": "MA0162.4",
    "NFIX": "MA1528.2",
    "ZIC1": "MA0696.1",
    "TCF7L2": "MA0523.1",
    "MEIS2": "MA1640.2",
    "PROX1": "MA0794.1",
    "EBF1": "MA0154.4",
}


def db_path():
    import pyjaspar  # noqa: F401  (only to locate the bundled database)
    return os.path.join(os.path.dirname(pyjaspar.__file__), "data", RELEASE + ".sqlite")


def fetch(conn, matrix_id):
    base, version = matrix_id.split(".")
    row = conn.execute(
        "SELECT ID, NAME, COLLECTION FROM MATRIX WHERE BASE_ID=? AND VERSION=?",
        (base, int(version))).fetchone()
    if row is None:
        raise SystemExit(f"{matrix_id} not in {RELEASE}")
    internal, name, collection = row
    data = conn.execute("SELECT row, col, val FROM MATRIX_DATA WHERE ID=?", (internal,)).fetchall()
    length = max(c for _, c, _ in data)
    counts = {b: [0.0] * length for b in "ACGT"}
    for base_letter, col, val in data:
        counts[base_letter][col - 1] = float(val)
    tax = [v for (v,) in conn.execute(
        "SELECT VAL FROM MATRIX_ANNOTATION WHERE ID=? AND TAG='tax_group'", (internal,))]
    species = [v for (v,) in conn.execute("SELECT TAX_ID FROM MATRIX_SPECIES WHERE ID=?", (internal,))]
    return {"matrix_id": matrix_id, "name": name, "collection": collection,
            "tax_group": tax[0] if tax else None, "species_tax_ids": species,
            "length": length, "counts": {b: [round(x, 3) for x in counts[b]] for b in "ACGT"}}


def main():
    conn = sqlite3.connect(db_path())
    out = {
        "source": f"{RELEASE} SQLite database from the PyPI package pyjaspar",
        "citation": ("Rauluseviciute I. et al. JASPAR 2024: 20th anniversary of the open-access "
                     "database of transcription factor binding profiles. Nucleic Acids Res. "
                     "52(D1):D174-D182 (2024). doi:10.1093/nar/gkad1059"),
        "licence_note": "JASPAR data are open access; attribution required (see training/README.md).",
        "rows": "A C G T",
        "motifs": {key: fetch(conn, mid) for key, mid in CHOSEN.items()},
    }
    path = os.path.join(HERE, "motifs.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: {len(out['motifs'])} matrices")


if __name__ == "__main__":
    main()
