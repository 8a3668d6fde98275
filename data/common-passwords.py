#!/usr/bin/env python3
"""Rebuilds data/common-passwords.txt from two maintained lists, fetched from PyPI and npm:
Django's common-passwords.txt.gz and the passwords list of @zxcvbn-ts/language-common.
Only passwords of 12 characters or more are kept: keyport refuses shorter ones anyway.

    python3 data/common-passwords.py
"""
import glob, gzip, json, pathlib, subprocess, tarfile, tempfile, zipfile

DJANGO = "django==5.2.19"
ZXCVBN = "@zxcvbn-ts/language-common@4.1.3"
OUT = pathlib.Path(__file__).with_name("common-passwords.txt")
HEADER = """# Common passwords of 12 characters or more (shorter ones are refused by length anyway),
# lower-cased, one per line. keyport refuses these whatever their case.
# Sources: the passwords frequency list of @zxcvbn-ts/language-common 4.1.3 (MIT,
# https://github.com/zxcvbn-ts/zxcvbn) and django/contrib/auth/common-passwords.txt.gz of
# Django 5.2.19 (BSD-3-Clause, https://www.djangoproject.com). Regenerate with data/common-passwords.py.
"""

with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(["pip", "download", "--no-deps", "-q", DJANGO, "-d", tmp], check=True)
    subprocess.run(["npm", "pack", "-q", ZXCVBN], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    wheel = zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0])
    django = gzip.decompress(wheel.read("django/contrib/auth/common-passwords.txt.gz")).decode()
    with tarfile.open(glob.glob(f"{tmp}/*.tgz")[0]) as tgz:
        zxcvbn = json.load(tgz.extractfile("package/src/passwords.json"))

words = {
    w.strip().lower()
    for w in django.split("\n") + zxcvbn
    if 12 <= len(w.strip()) <= 1024 and w.strip().isprintable()
}
OUT.write_text(HEADER + "\n".join(sorted(words)) + "\n")
print(f"{len(words)} passwords written to {OUT}")
