#!/usr/bin/env python3
"""Reference for `whoknows eval connect` on a JSONL fixture, with networkx.

Usage: aa_reference.py FILE.jsonl SPLIT_FRACTION [adamic-adar|common-neighbours]
Prints JSON {"n": .., "mrr": .., "p_at_1": .., "ndcg_at_3": .., "ndcg_at_10": .., "hits_at_10": ..}
for the method (default adamic-adar), computed independently of the C++ code:
  - records sorted by (timestamp, id); split = timestamp at floor(fraction * n);
  - reply graph (before the split): who replied to whom (reply_to);
  - contact graph (before the split): reply pairs and pairs sharing a thread;
  - truth(u): people u replied to / was replied by at/after the split, both
    active before the split, not already contacts;
  - ranking: networkx.adamic_adar_index / common_neighbors over the reply
    graph, for non-contacts with a positive score, ties by person id;
    person id = "jsonl:<stem>:user:<author>".
"""
import json
import math
import os
import sys
from datetime import datetime

import networkx as nx


def ts(v):
    if isinstance(v, (int, float)):
        return int(v)
    return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp())


def main():
    path, fraction = sys.argv[1], float(sys.argv[2])
    method = sys.argv[3] if len(sys.argv) > 3 else "adamic-adar"
    stem = os.path.basename(path).split(".")[0]
    recs = [json.loads(l) for l in open(path) if l.strip()]
    for r in recs:
        r["t"] = ts(r["timestamp"])
        r["pid"] = "jsonl:%s:user:%s" % (stem, r["author"])
    recs.sort(key=lambda r: (r["t"], r["id"]))
    split = recs[min(int(math.floor(fraction * len(recs))), len(recs) - 1)]["t"]
    by_id = {r["id"]: r for r in recs}
    train = [r for r in recs if r["t"] < split]
    active = {r["pid"] for r in train}

    g = nx.Graph()
    g.add_nodes_from(active)
    replies = nx.Graph()
    replies.add_nodes_from(active)
    threads = {}
    for r in train:
        threads.setdefault(r.get("thread", r["id"]), set()).add(r["pid"])
        p = by_id.get(r.get("reply_to", ""))
        if p is not None and p["t"] < split and p["pid"] != r["pid"]:
            g.add_edge(r["pid"], p["pid"])
            replies.add_edge(r["pid"], p["pid"])
    for members in threads.values():
        ms = sorted(members)
        for i in range(len(ms)):
            for j in range(i + 1, len(ms)):
                g.add_edge(ms[i], ms[j])

    truth = {}
    for r in recs:
        if r["t"] < split:
            continue
        p = by_id.get(r.get("reply_to", "")) or by_id.get(r.get("thread", ""))
        if p is None or p is r:
            continue
        a, b = r["pid"], p["pid"]
        if a == b or a not in active or b not in active or g.has_edge(a, b):
            continue
        truth.setdefault(a, set()).add(b)
        truth.setdefault(b, set()).add(a)

    sums = dict(mrr=0.0, p_at_1=0.0, ndcg_at_3=0.0, ndcg_at_10=0.0, hits_at_10=0.0)
    for u, rel in truth.items():
        cands = [v for v in g.nodes if v != u and not g.has_edge(u, v)]
        if method == "common-neighbours":
            scored = [(v, len(list(nx.common_neighbors(replies, u, v)))) for v in cands]
        else:
            scored = list((v, s) for _, v, s in nx.adamic_adar_index(replies, [(u, v) for v in cands]))
        scored = [(v, s) for v, s in scored if s > 0]
        scored.sort(key=lambda x: (-x[1], x[0]))
        ranked = [v for v, _ in scored]
        rr = next((1.0 / (i + 1) for i, v in enumerate(ranked) if v in rel), 0.0)

        def ndcg(k):
            dcg = sum(1.0 / math.log2(i + 2) for i, v in enumerate(ranked[:k]) if v in rel)
            idcg = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(rel))))
            return dcg / idcg

        sums["mrr"] += rr
        sums["p_at_1"] += 1.0 if ranked[:1] and ranked[0] in rel else 0.0
        sums["ndcg_at_3"] += ndcg(3)
        sums["ndcg_at_10"] += ndcg(10)
        sums["hits_at_10"] += 1.0 if any(v in rel for v in ranked[:10]) else 0.0
    n = len(truth)
    out = {k: (v / n if n else 0.0) for k, v in sums.items()}
    out["n"] = n
    print(json.dumps(out))


if __name__ == "__main__":
    main()
