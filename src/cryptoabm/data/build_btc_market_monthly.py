"""Rebuild data/btc_market_monthly.csv from the raw daily source files.

No network access. The raw files are NOT stored in this repository (they are
third-party files); the script reads them from local snapshots of the public
GitHub repositories listed in SOURCES, pinned to the commits given there, either

  * from bare git mirrors (default root /work/.mirror, one "<owner>+<name>/repo"
    git directory per repository), read with `git show <commit>:<path>`, or
  * from a directory of plain files given with --raw-dir, where each file is
    stored as "<owner>+<name>/<path>" (same commit as in SOURCES).

Usage:
    python data/build_btc_market_monthly.py            # writes data/btc_market_monthly.csv
    python data/build_btc_market_monthly.py --check    # rebuild and compare, exit 1 on mismatch
    python data/build_btc_market_monthly.py --stats    # print cross-check statistics

Method (see data/README.md):
  * btc_price_usd: Coin Metrics PriceUSD on the last calendar day of the month
    (Coin Metrics' daily closing price, 00:00 UTC of the next day), whole dollars.
    Cross-checks: Yahoo Finance BTC-USD daily Close for the same day, and the
    CoinGecko daily snapshot taken at 00:00 UTC on the 1st of the next month.
  * world_hashrate_ehs: mean of the month's daily hashrate estimates, in EH/s.
    2020-01..2025-12: Coin Metrics HashRate (TH/s, daily).
    2019-01..2019-09: Coin Metrics DiffMean * BlkCnt * 2**32 / 86400 (the formula
    behind Coin Metrics' HashRate) from a Jan-2021 snapshot of coinmetrics/data.
    2019-10..2019-12: bitcoinvisuals chain-hash-rate (same formula; that snapshot
    of Coin Metrics stops on 2019-10-20).
    Cross-checks: blockchain.com hash-rate chart (7-day average, one point every
    4 days; mean of the points dated in the month) and, where it covers the whole
    month (2019-01..2025-02), bitcoinvisuals chain-hash-rate.
  * uncertain = 1 when fewer than two sources were found, or when the primary
    and a cross-check source differ by more than 5 %.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import io
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "btc_market_monthly.csv"
FIRST_YEAR, LAST_YEAR = 2019, 2025
TOLERANCE_PCT = 5.0
COLUMNS = ["month", "btc_price_usd", "world_hashrate_ehs", "price_source", "hashrate_source", "uncertain"]

# key: (repository, commit, path)
SOURCES = {
    "cm_price": ("leescottd-crypto/Multi-Asset-Cycle-Dashboard",
                 "b42d706b2d19b08d6bedf297f52039a99ccd3ad6", "data/raw/btc.csv"),
    "cm_hashrate": ("GabrielMazzali/onchain-vs-price",
                    "07062f86523d63a24872d1e5335729c6b01d7923", "data/raw/coinmetrics_btc.csv"),
    "cm_2019": ("PPFilip/btc-investing",
                "4b1234043f77086f078c2117e0fd9ca68b6cb00f", "data/source/btc.csv"),
    "bitcoinvisuals": ("Krisp140/TargetedNakomoto",
                       "ea026924a6779f67547e5d6fa060a93a84f06fe3", "data/hashrate.csv"),
    "blockchain_com": ("baua5252-cloud/Crypto-research",
                       "c62c9fcf4a2e6a3cbfdd0f74d3aa8159f7ddca0a", "hash-rate.json"),
    "yahoo": ("baua5252-cloud/Crypto-research",
              "c62c9fcf4a2e6a3cbfdd0f74d3aa8159f7ddca0a", "btc_10_years.json"),
    "coingecko": ("danieleamato99/pv-mining-sim",
                  "4e846f1b876867fd4ff7175f31743dae7ee77c75", "data/BTC-USD.csv"),
}


def read_source(key: str, mirror_root: Path, raw_dir: Path | None) -> str:
    repo, commit, path = SOURCES[key]
    slug = repo.replace("/", "+")
    if raw_dir is not None:
        return (raw_dir / slug / path).read_text(encoding="utf-8-sig")
    git_dir = mirror_root / slug / "repo"
    if not git_dir.is_dir():
        sys.exit(f"missing snapshot of {repo}: expected a git directory at {git_dir} "
                 f"(or pass --raw-dir with {slug}/{path} from commit {commit})")
    out = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
                         check=True, capture_output=True)
    return out.stdout.decode("utf-8-sig")


def day(s: str) -> dt.date:
    return dt.date.fromisoformat(s[:10])


def load_all(mirror_root: Path, raw_dir: Path | None) -> dict[str, dict[dt.date, float]]:
    def text(key: str) -> str:
        return read_source(key, mirror_root, raw_dir)

    s: dict[str, dict[dt.date, float]] = {k: {} for k in
                                          ["cm_price", "cm_hashrate", "cm_2019", "bitcoinvisuals",
                                           "blockchain_com", "yahoo", "coingecko"]}
    for r in csv.DictReader(io.StringIO(text("cm_price"))):
        if r["source"] == "coinmetrics-community" and r["close"]:
            s["cm_price"][day(r["date"])] = float(r["close"])  # = Coin Metrics PriceUSD
    for r in csv.DictReader(io.StringIO(text("cm_hashrate"))):
        if r["HashRate"]:
            s["cm_hashrate"][day(r["time"])] = float(r["HashRate"]) * 1e12  # TH/s -> H/s
    for r in csv.DictReader(io.StringIO(text("cm_2019"))):
        if r["DiffMean"] and r["BlkCnt"]:
            s["cm_2019"][day(r["date"])] = float(r["DiffMean"]) * float(r["BlkCnt"]) * 2**32 / 86400
    rows = csv.reader(io.StringIO(text("bitcoinvisuals")))
    next(rows)
    for r in rows:
        s["bitcoinvisuals"][day(r[0])] = float(r[1])  # H/s
    for p in json.loads(text("blockchain_com"))["hash-rate"]:
        d = dt.datetime.fromtimestamp(p["x"] / 1000, tz=dt.timezone.utc).date()
        s["blockchain_com"][d] = p["y"] * 1e12  # TH/s -> H/s
    for r in json.loads(text("yahoo")):
        s["yahoo"][day(r["('Date', '')"])] = r["('Close', 'BTC-USD')"]
    for r in csv.DictReader(io.StringIO(text("coingecko"))):
        # snapshot at 00:00 UTC = close of the previous UTC day
        s["coingecko"][day(r["snapped_at"]) - dt.timedelta(days=1)] = float(r["price"])
    return s


def pct(a: float, b: float) -> float:
    return (a / b - 1.0) * 100.0


def month_mean(series: dict[dt.date, float], days: list[dt.date]) -> float | None:
    vals = [series.get(d) for d in days]
    if any(v is None for v in vals):
        return None
    return statistics.fmean(vals)


def build(s: dict[str, dict[dt.date, float]]):
    rows, stats = [], {"price_yahoo": [], "price_coingecko": [], "hash_blockchain": [], "hash_bitcoinvisuals": []}
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        for m in range(1, 13):
            n = calendar.monthrange(y, m)[1]
            days = [dt.date(y, m, i) for i in range(1, n + 1)]
            last = days[-1]
            uncertain = False

            # --- price: month-end close
            p = s["cm_price"].get(last)
            if p is None:
                raise SystemExit(f"no Coin Metrics price for {last}")
            checks, notes = [], []
            for key, label, st_key in [("yahoo", "Yahoo BTC-USD close", "price_yahoo"),
                                       ("coingecko", "CoinGecko 00:00 UTC snapshot", "price_coingecko")]:
                v = s[key].get(last)
                if v is not None:
                    d = pct(v, p)
                    stats[st_key].append(abs(d))
                    checks.append(d)
                    notes.append(f"{label} {d:+.2f}%")
            if not checks:
                uncertain = True
                price_src = "coinmetrics/data btc.csv PriceUSD; single source"
            else:
                ok = all(abs(d) <= TOLERANCE_PCT for d in checks)
                uncertain |= not ok
                price_src = ("coinmetrics/data btc.csv PriceUSD; cross-check: " + " / ".join(notes)
                             + ("; agree within 5%" if ok else "; differ by more than 5%"))

            # --- hashrate: mean of daily estimates
            if y >= 2020:
                h, h_label = month_mean(s["cm_hashrate"], days), "coinmetrics HashRate"
            elif m <= 9:
                h, h_label = month_mean(s["cm_2019"], days), "coinmetrics DiffMean*BlkCnt*2^32/86400"
            else:
                h, h_label = month_mean(s["bitcoinvisuals"], days), "bitcoinvisuals chain-hash-rate (Coin Metrics formula)"
            if h is None:
                raise SystemExit(f"incomplete daily hashrate for {y}-{m:02d}")
            checks, notes = [], []
            bc = [s["blockchain_com"][d] for d in days if d in s["blockchain_com"]]
            if bc:
                d = pct(statistics.fmean(bc), h)
                stats["hash_blockchain"].append(abs(d))
                checks.append(d)
                notes.append(f"blockchain.com hash-rate 7D {d:+.2f}%")
            if h_label.startswith("coinmetrics"):
                bv = month_mean(s["bitcoinvisuals"], days)
                if bv is not None:
                    d = pct(bv, h)
                    stats["hash_bitcoinvisuals"].append(abs(d))
                    checks.append(d)
                    notes.append(f"bitcoinvisuals {d:+.2f}%")
            if not checks:
                uncertain = True
                hash_src = f"{h_label} daily mean; single source"
            else:
                ok = all(abs(d) <= TOLERANCE_PCT for d in checks)
                uncertain |= not ok
                hash_src = (f"{h_label} daily mean; cross-check: " + " / ".join(notes)
                            + ("; agree within 5%" if ok else "; differ by more than 5%"))

            rows.append({
                "month": f"{y}-{m:02d}",
                "btc_price_usd": str(int(round(p))),
                "world_hashrate_ehs": f"{h / 1e18:.1f}",
                "price_source": price_src,
                "hashrate_source": hash_src,
                "uncertain": "1" if uncertain else "0",
            })
    return rows, stats


def render(rows) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror-root", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--raw-dir", type=Path, default=None)
    ap.add_argument("--check", action="store_true", help="compare with the committed CSV instead of writing")
    ap.add_argument("--stats", action="store_true", help="print cross-check statistics")
    a = ap.parse_args()
    rows, stats = build(load_all(a.mirror_root, a.raw_dir))
    text = render(rows)
    if a.stats:
        for k, v in stats.items():
            print(f"{k}: n={len(v)} median_abs={statistics.median(v):.2f}% max_abs={max(v):.2f}%")
        print("uncertain:", [r["month"] for r in rows if r["uncertain"] == "1"])
    if a.check:
        same = OUT.read_text() == text
        print("matches" if same else "DIFFERS from " + str(OUT))
        sys.exit(0 if same else 1)
    if not a.stats:
        OUT.write_text(text)
        print(f"wrote {OUT} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
