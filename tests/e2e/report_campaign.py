#!/usr/bin/env python3
"""report_campaign.py - the campaign side of a campaign folder, for the
report's tests (tests/e2e/report.sh) and docs/REPORT.md's example: after a
real `asyncfuzz fuzz` run into CAMPAIGN, write what the campaign work of
issue 17 writes (research CAMPAIGN_FORMAT: campaign.json, a history.jsonl
line, stats/<run-id>/plot_data, meta.json's "baseline" labels), from the
run's own output. Once `fuzz` writes these itself, the tests can drop it.

usage: report_campaign.py CAMPAIGN BASELINE.tsv LOG START END EXIT
  LOG    the run's standard error (progress lines, FINDING lines, totals)
  START, END  the run's start and end (Unix seconds); EXIT its exit status
  BASELINE    signature-text<TAB>issue<TAB>... lines (tests/data's format,
              or CAMPAIGN_FORMAT's with fixed-in as the third column)
"""
import json
import os
import re
import socket
import sys
import time

PROGRESS = re.compile(r"^\[builtin\]\s+(\d+)s\s+execs (\d+) \((\d+)/s\)\s+features (\d+)\s+"
                      r"corpus (\d+)\s+findings (\d+)/(\d+)")
TOTALS = re.compile(r"^asyncfuzz fuzz: builtin, (\d+) job\(s\): (\d+) execs in ([\d.]+) s "
                    r"\((\d+)/s\), (\d+) features")
FINDING = re.compile(r"^asyncfuzz: FINDING \S+ ([0-9a-f]{16}) ")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def baseline(path):
    known = {}
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.rstrip("\n").split("\t")
        fixed = cols[2] if len(cols) > 3 and re.match(r"^(\d|-$)", cols[2]) else "-"
        known[cols[0]] = {"issue": None if cols[1] == "none" else cols[1],
                          "fixed_in": None if fixed == "-" else fixed,
                          "description": cols[-1], "list": os.path.basename(path)}
    return known


def label(store, known):
    """meta.json's baseline label of every finding; {sig: status}."""
    status = {}
    for sig in sorted(os.listdir(store)):
        meta_path = os.path.join(store, sig, "meta.json")
        if not os.path.isfile(meta_path):
            continue
        meta = json.load(open(meta_path))
        k = known.get(meta["signature_text"])
        meta["baseline"] = dict(k, status="known") if k else {
            "status": "new", "issue": None, "fixed_in": None, "description": None, "list": None}
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1)
        status[sig] = meta["baseline"]["status"]
    return status


def main():
    camp, base, log, start, end, exit_code = sys.argv[1:]
    start, end, exit_code = float(start), float(end), int(exit_code)
    run = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start)) + "-%d" % (os.getpid())
    rows, sigs, totals = [], [], None
    for line in open(log, errors="replace"):
        m = PROGRESS.match(line)
        if m:
            t, execs, eps, feat, corpus, new, _runs = map(int, m.groups())
            rows.append((t, execs, eps, feat, corpus, new))
        m = TOTALS.match(line)
        if m:
            totals = m.groups()
        m = FINDING.match(line)
        if m and m.group(1) not in sigs:
            sigs.append(m.group(1))
    if not os.path.exists(os.path.join(camp, "campaign.json")):
        with open(os.path.join(camp, "campaign.json"), "w") as f:
            json.dump({"asyncfuzz_campaign": 1, "created": iso(start),
                       "settings": {"target": "asyncio", "reference": None, "engine": "builtin",
                                    "coverage": "semantic,python", "misuse": False,
                                    "interpreter": "CPython 3.11.2",
                                    "baselines": [os.path.basename(base)]}}, f)
    stats = os.path.join("stats", run)
    os.makedirs(os.path.join(camp, stats))
    with open(os.path.join(camp, stats, "plot_data"), "w") as f:
        f.write("# relative_time, cycles_done, cur_item, corpus_count, pending_total, "
                "pending_favs, map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, "
                "total_execs, edges_found\n")
        for t, execs, eps, feat, corpus, new in rows:
            f.write("%d, 0, 0, %d, 0, 0, 0.00%%, %d, 0, 0, %.2f, %d, %d\n"
                    % (t, corpus, new, eps, execs, feat))
    status = label(os.path.join(camp, "findings"), baseline(base))
    line = {"run": run, "start": iso(start), "end": None, "command": "fuzz", "engine": "builtin",
            "seconds": None, "execs": None, "execs_per_second": None, "features": None,
            "corpus": None, "machine": socket.gethostname(), "jobs": 1, "exit": None,
            "signatures": {"new": [], "known": []}, "stats": stats}
    with open(os.path.join(camp, "history.jsonl"), "a") as f:
        f.write(json.dumps(line) + "\n")  # the line a run writes at its start
        jobs, execs, seconds, eps, feat = totals
        line.update(end=iso(end), seconds=float(seconds), execs=int(execs),
                    execs_per_second=float(eps), features=int(feat),
                    corpus=rows[-1][4] if rows else None, jobs=int(jobs), exit=exit_code,
                    signatures={"new": [s for s in sigs if status.get(s) == "new"],
                                "known": [s for s in sigs if status.get(s) == "known"]})
        f.write(json.dumps(line) + "\n")  # completed at its end
    print(run)


if __name__ == "__main__":
    main()
