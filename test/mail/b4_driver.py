#!/usr/bin/env python3
"""Drives kmap-review the way b4 does, and reads its output with b4's rules (test/mail/b4.test.ts).

  b4_driver.py check  TREE MSG -- CMD...   am/prep-perpatch-check-cmd: MSG on stdin, cwd TREE, no args
  b4_driver.py review TREE MSG -- CMD...   review-perpatch-check-cmd: the same, stdout is a JSON array
  b4_driver.py mbox   FILE                 every message of an mbox, parsed with Python's email package

Prints one JSON document on stdout.
"""
import email
import email.policy
import json
import mailbox
import os
import subprocess
import sys


def run(tree, msg, cmd, extra_env=None):
    env = dict(os.environ)
    env.update(extra_env or {})
    with open(msg, 'rb') as f:
        data = f.read()
    p = subprocess.run(cmd, input=data, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    return p.returncode, p.stdout.decode('utf-8'), p.stderr.decode('utf-8')


def check(tree, msg, cmd):
    rc, out, err = run(tree, msg, cmd)
    failures, warnings = [], []
    # b4: every stdout line with ERROR: is a failure, every other stdout line a warning, stderr lines failures.
    for line in out.splitlines():
        if not line.strip():
            continue
        (failures if 'ERROR:' in line else warnings).append(line)
    for line in err.splitlines():
        if line.strip():
            failures.append(line)
    passed = rc == 0 and not out.strip() and not err.strip()
    return {'rc': rc, 'failures': failures, 'warnings': warnings, 'passed': passed}


def review(tree, msg, cmd):
    # b4 review sets B4_TRACKING_FILE for the command; it must not change the output's shape.
    tracking = os.path.join(tree, '.git', 'b4-tracking.json') if os.path.isdir(os.path.join(tree, '.git')) else os.devnull
    rc, out, err = run(tree, msg, cmd, {'B4_TRACKING_FILE': tracking})
    results = json.loads(out)
    assert isinstance(results, list), 'stdout is not a JSON array'
    for r in results:
        assert set(r) == {'tool', 'status', 'summary', 'details'}, r
        assert r['status'] in ('pass', 'warn', 'fail'), r
        assert all(isinstance(r[k], str) for k in r), r
    return {'rc': rc, 'results': results, 'stderr': err}


def mbox(path):
    out = []
    for m in mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default)):
        body = m.get_body(preferencelist=('plain',))
        out.append({
            'headers': {k: str(v) for k, v in m.items()},
            'contentType': m.get_content_type(),
            'charset': m.get_content_charset(),
            'body': body.get_content() if body is not None else m.get_payload(),
            'defects': [type(d).__name__ for d in m.defects],
        })
    return out


def main(argv):
    mode = argv[1]
    if mode == 'mbox':
        print(json.dumps(mbox(argv[2])))
        return 0
    tree, msg = argv[2], argv[3]
    assert argv[4] == '--'
    cmd = argv[5:]
    print(json.dumps(check(tree, msg, cmd) if mode == 'check' else review(tree, msg, cmd)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
