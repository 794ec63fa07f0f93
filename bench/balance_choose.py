#!/usr/bin/python3
"""Choose the balance setting on validation grids together (bench/RESULTS.md "Balanced routing").

    whoknows eval routing --balance --validate --json SITES... > se.json
    whoknows eval replies --balance --validate --json --max-queries 400 r-devel > rdevel.json
    whoknows eval replies --balance --validate --json houstondatavis > slack.json
    bench/balance_choose.py se.json rdevel.json [slack.json ...]

    whoknows eval replies --balance --validate --balance-grid mail --json --max-queries 400 r-devel > mail.json
    bench/balance_choose.py --rule margin mail.json

All grids come from the same binary (same points, same order).
Rule "lowest-share" (default; the general setting): keeps the points with MRR >= 0.95x and distinct people >= 1.5x
unbalanced on every grid, and lists them by the largest of the max_share ratios (lowest first; ties: the highest of
the smallest MRR ratios).
Rule "margin" (the per-source settings, e.g. --balance-grid mail on a mail archive): the point furthest inside all
three targets on every grid: the largest of the smallest relative slacks min(MRR ratio / 0.95, 0.5 / max_share
ratio, distinct ratio / 1.5) - 1 (>= 0: all met; ties: the highest of the smallest MRR ratios), so the setting keeps
room on every target instead of sitting at the MRR limit (which a test period may then miss).
The first line is the choice. Beside each MRR ratio: the balanced MRR against whoknows-outcomes (unbalanced, fed the
same outcomes), for the record.
"""
import argparse, json

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--rule', choices=('lowest-share', 'margin'), default='lowest-share')
ap.add_argument('grids', nargs='+')
args = ap.parse_args()
grids = [json.load(open(f))['grid'] for f in args.grids]
names = [f.rsplit('/', 1)[-1].rsplit('.', 1)[0] for f in args.grids]
def fig(p):
    m = {x['method']: x for x in p['pooled']['methods']}
    w, z = m['whoknows'], m['whoknows-balanced']
    o = m.get('whoknows-outcomes', w)  # unbalanced with the same feedback (reported, not a constraint)
    return (z['mrr'] / w['mrr'], z['max_share'] / w['max_share'], z['distinct_people'] / w['distinct_people'],
            z['mrr'] / o['mrr'])
def margin(x):
    return min(x[0] / 0.95, 0.5 / x[1] if x[1] > 0 else 1.0, x[2] / 1.5) - 1
rows = []
for points in zip(*grids):
    assert all(p['balance'] == points[0]['balance'] for p in points)
    f = [fig(p) for p in points]
    rows.append((max(x[1] for x in f), -min(x[0] for x in f), f, points[0]['balance'], min(margin(x) for x in f)))
if args.rule == 'margin':
    ok = [r for r in rows if r[4] >= 0]
    ok.sort(key=lambda r: (-r[4], r[1]))
else:
    ok = [r for r in rows if min(x[0] for x in r[2]) >= 0.95 and min(x[2] for x in r[2]) >= 1.5]
    ok.sort(key=lambda r: (r[0], r[1]))
for r in ok[:8]:
    bal = r[3]
    print(' | '.join('%s mrr %.2f share %.2f distinct %.2f (mrr vs outcomes %.2f)' % (n, *x) for n, x in zip(names, r[2])),
          '| margin %.3f |' % r[4],
          {k: bal.get(k) for k in ('mode', 'gain_beta', 'keep_top_margin', 'activity_weight', 'recent_questions',
                                   'exponent', 'share_cap', 'weight', 'outcome_weight', 'outcome_days',
                                   'mail_weight', 'mail_share_cap', 'default_capacity')})
if not ok:
    print('no point meets the targets on every grid')
