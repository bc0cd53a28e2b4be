"""Files people really bring, generated: a Google Contacts export and an Excel-in-Europe sheet.

``python -m tests.data.generate DIR`` writes ``google_contacts.csv`` (2,046 rows) and
``excel_europe.csv`` (500 rows) into DIR; the tests call the functions with fewer rows.
Each function returns the file's bytes and the rows whose required values (names and a
phone) are invalid, which must fail; every other row must import.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path

GOOGLE_HEADER = [
    *("Name", "Given Name", "Additional Name", "Family Name", "Yomi Name", "Given Name Yomi"),
    *("Additional Name Yomi", "Family Name Yomi", "Name Prefix", "Name Suffix", "Initials", "Nickname"),
    *("Short Name", "Maiden Name", "Birthday", "Gender", "Location", "Billing Information"),
    *("Directory Server", "Mileage", "Occupation", "Hobby", "Sensitivity", "Priority", "Subject", "Notes"),
    *("Language", "Photo", "Group Membership", "E-mail 1 - Type", "E-mail 1 - Value", "E-mail 2 - Type"),
    *("E-mail 2 - Value", "Phone 1 - Type", "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value"),
    *("Address 1 - Type", "Address 1 - Formatted", "Address 1 - Street", "Address 1 - City"),
    *("Address 1 - PO Box", "Address 1 - Region", "Address 1 - Postal Code", "Address 1 - Country"),
    *("Address 1 - Extended Address", "Organization 1 - Type", "Organization 1 - Name"),
    *("Organization 1 - Yomi Name", "Organization 1 - Title", "Organization 1 - Department"),
    *("Organization 1 - Symbol", "Organization 1 - Location", "Organization 1 - Job Description"),
    *("Website 1 - Type", "Website 1 - Value"),
]
assert len(GOOGLE_HEADER) == 56

EUROPE_HEADER = ["Nome", "Apelido", "Tlm", "Email", "Empresa", "Cidade", "Código Postal", "Estado"]
EUROPE_HEADER += ["Origem", "Valor", "Notas"]

NAMES = [
    ("Дмитрий", "Иванов"),
    ("李", "小龙"),
    ("محمد", "علي"),
    ("さくら", "山田"),
    ("Ελένη", "Παπαδοπούλου"),
    ("João", "Gonçalves"),
    ("Zoë", "Brontë"),
    ("Ana", "Silva"),
    ("Oliver", "Smith"),
    ("Priya", "Sharma"),
]
PT_NAMES = [("João", "Gonçalves"), ("Conceição", "Araújo"), ("Inês", "Magalhães"), ("Sebastião", "Brandão")]
PT_NAMES += [("Ana", "Sá"), ("Rui", "Costa")]


@dataclass
class Generated:
    data: bytes
    bad_rows: set[int]  # row numbers (the header is row 1) whose names or phone are invalid

    @property
    def rows(self) -> int:
        return self.data.count(b"\n")  # an upper bound only when cells hold line breaks


def _phone(n: int, style: int) -> str:
    """The n-th number, distinct from every other n, in one of the spellings people use."""
    pt = f"9{1 + n % 3}{n:07d}"  # 91…, 92…, 93…: Portuguese mobiles
    return [
        f"+351 {pt[:3]} {pt[3:6]} {pt[6:]}",
        f"{pt[:3]} {pt[3:6]} {pt[6:]}",  # national: needs the default region PT
        f"{pt[:3]}-{pt[3:6]}-{pt[6:]}",
        f"00351{pt}",
        f"55119{n % 9 + 1}{n:07d}",  # Brazil without +: not a number of PT, read as international
        f"447400{n:06d}",  # the United Kingdom without +
        f"(+351) {pt}",
    ][style % 7]


def google_contacts(rows: int = 2046, seed: int = 12) -> Generated:
    """A Google Contacts export: its 56 columns, UTF-8 with commas, " ::: " between values."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GOOGLE_HEADER)
    bad: set[int] = set()
    for i in range(rows):
        number = i + 2
        first, last = NAMES[i % len(NAMES)]
        cells = dict.fromkeys(GOOGLE_HEADER, "")
        cells.update(
            {
                "Name": f"{first} {last}",
                "Given Name": first,
                "Family Name": last,
                "Nickname": rng.choice(["", f"nick{i}"]),
                "Birthday": rng.choice(["--05-17", "1985-03-02", "", "--12-01"]),  # yearless: no year known
                "Notes": rng.choice(["", "Met at the fair, asked for prices", "line one\nline two"]),
                "Group Membership": rng.choice(["* myContacts", "* myContacts ::: Friends"]),
                "E-mail 1 - Type": "* Home",
                "E-mail 1 - Value": rng.choice(["", f"person{i}@example.com"]),
                "Phone 1 - Type": "Mobile",
                "Phone 1 - Value": _phone(i, i),
                "Address 1 - City": rng.choice(["", "Lisboa", "São Paulo", "Москва"]),
                "Address 1 - Country": rng.choice(["", "PT", "BR"]),
                "Organization 1 - Name": rng.choice(["", "Acme, Lda.", "株式会社"]),
                "Website 1 - Value": rng.choice(["", f"www.site{i}.example", f"https://site{i}.example"]),
            }
        )
        if i % 5 == 0:  # a multi-value cell: the phone and another
            cells["Phone 1 - Value"] = f"{_phone(i, 0)} ::: {_phone(i + 500_000, 1)}"
        if i % 7 == 0:
            cells["Phone 2 - Type"], cells["Phone 2 - Value"] = (
                "Work",
                f"+351 21 {i % 1000:03d} {i % 10000:04d}",
            )
        if i % 97 == 3:  # no phone, or none that is one
            cells["Phone 1 - Value"] = rng.choice(["", "n/a"])
            bad.add(number)
        writer.writerow(cells.values())
    return Generated(out.getvalue().encode("utf-8"), bad)


def excel_europe(rows: int = 500, seed: int = 12) -> Generated:
    """What Excel saves in Portugal: Windows-1252, semicolons, Portuguese headers, decimal commas."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EUROPE_HEADER)
    bad: set[int] = set()
    for i in range(rows):
        number = i + 2
        first, last = PT_NAMES[i % len(PT_NAMES)]
        value = rng.choice(["1.234,50", "99,9", "12", "", "1.000.000,01"])
        phone = _phone(i, i % 4 if i % 3 else 1)  # Portuguese spellings, most of them national
        if i % 50 == 7:
            phone = "sem número"
            bad.add(number)
        if i % 61 == 5:
            first = ""
            bad.add(number)
        writer.writerow(
            [
                first,
                last,
                phone,
                rng.choice(["", f"cliente{i}@exemplo.pt"]),
                rng.choice(["", "Padaria São João", "Café Conceição"]),
                rng.choice(["Lisboa", "Porto", "Évora"]),
                f"{1000 + i % 8999}-{i % 1000:03d}",
                rng.choice(["", "Novo", "Cliente", "cliente"]),
                rng.choice(["Feira", "Website", "Feira"]),
                value,
                rng.choice(["", "Paga à cobrança; liga às 9h"]),
            ]
        )
    return Generated(out.getvalue().encode("cp1252"), bad)


def main(directory: str) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    (target / "google_contacts.csv").write_bytes(google_contacts().data)
    (target / "excel_europe.csv").write_bytes(excel_europe().data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
