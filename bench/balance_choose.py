#!/usr/bin/python3
"""Choose the balance setting on two validation grids together (bench/RESULTS.md "Balanced routing").

    whoknows eval routing --balance --validate --json SITES... > se.json
    whoknows eval replies --balance --validate --json --max-queries 400 r-devel > rdevel.json
    bench/balance_choose.py se.json rdevel.json

Both grids come from the same binary (same points, same order). Keeps the points with MRR >= 0.95x and distinct
people >= 1.5x unbalanced on both, and lists them by the larger of the two max_share ratios (lowest first; ties:
the higher of the two smaller MRR ratios). The first line is the choice. Beside each MRR ratio: the balanced MRR
against whoknows-outcomes (unbalanced, fed the same outcomes), for the record.
"""
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
def fig(p):
    m = {x['method']: x for x in p['pooled']['methods']}
    w, z = m['whoknows'], m['whoknows-balanced']
    o = m.get('whoknows-outcomes', w)  # unbalanced with the same feedback (reported, not a constraint)
    return (z['mrr'] / w['mrr'], z['max_share'] / w['max_share'], z['distinct_people'] / w['distinct_people'],
            z['mrr'] / o['mrr'])
rows = []
for ga, gb in zip(a['grid'], b['grid']):
    assert ga['balance'] == gb['balance']
    fa, fb = fig(ga), fig(gb)
    rows.append((max(fa[1], fb[1]), -min(fa[0], fb[0]), fa, fb, ga['balance']))
ok = [r for r in rows if min(r[2][0], r[3][0]) >= 0.95 and min(r[2][2], r[3][2]) >= 1.5]
ok.sort(key=lambda r: (r[0], r[1]))
for r in ok[:8]:
    bal = r[4]
    print('SE mrr %.2f share %.2f distinct %.2f (mrr vs outcomes %.2f) | r-devel mrr %.2f share %.2f distinct %.2f '
          '(vs outcomes %.2f) |' % (*r[2], *r[3]),
          {k: bal.get(k) for k in ('mode', 'gain_beta', 'keep_top_margin', 'activity_weight', 'recent_questions',
                                   'exponent', 'share_cap', 'weight', 'outcome_weight', 'outcome_days')})
