import { describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeWords, isCoverLetter, isFromLine, patchName, splitMbox } from './mbox.js';
import { splitLines } from './text.js';

const SERIES = fs.readFileSync(path.resolve(process.cwd(), 'test/fixtures/patches/series-v2.mbox'), 'utf8');

describe('splitMbox', () => {
  it('splits a format-patch series with a cover letter', () => {
    const { lines } = splitLines(SERIES);
    const msgs = splitMbox('s.mbox', lines)!;
    expect(msgs.map((m) => m.subject)).toEqual([
      '[PATCH v2 0/3] demo: convert page_copy.c to kmap_local_page()',
      '[PATCH v2 1/3] demo: use kmap_local_page() in demo_copy_page()',
      '[PATCH v2 2/3] demo: document the mapping order in demo_copy_page()',
      '[PATCH v2 3/3] demo: use kmap_local_page() in demo_sum_page()',
    ]);
    expect(isCoverLetter(msgs[0]!.subject)).toBe(true);
    expect(lines[msgs[1]!.bodyStart]).toBe('kmap_atomic() is deprecated; the mapping is only used locally.');
    expect(msgs[1]!.end).toBe(msgs[2]!.start);
  });

  it('unfolds headers and treats a single mail (no From_ line) as one message', () => {
    const { lines } = splitLines('From: A <a@example.org>\nSubject: [PATCH 2/5] mm: convert\n a long subject\n\nbody\n');
    const [m] = splitMbox('m.eml', lines)!;
    expect(m).toMatchObject({ subject: '[PATCH 2/5] mm: convert a long subject', bodyStart: 4 });
  });

  it('returns null for a plain diff', () => {
    expect(splitMbox('p', splitLines('diff --git a/a.c b/a.c\n--- a/a.c\n').lines)).toBeNull();
    expect(splitMbox('p', splitLines('Index: a.c\n--- a.c\n').lines)).toBeNull();
    expect(splitMbox('p', [])).toBeNull();
  });

  it.each([
    ['From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001', true],
    ['From a@example.org Thu Jan  4 10:00:00 2024', true],
    ['From the start of the page', false],
    ['From: someone', false],
  ])('isFromLine(%j) = %s', (line, expected) => expect(isFromLine(line)).toBe(expected));
});

describe('subjects', () => {
  it.each([
    ['[PATCH v2 3/7] mm: convert foo', '3/7 mm: convert foo'],
    ['[PATCH] mm: convert foo', 'mm: convert foo'],
    ['[RFC PATCH 01/12] fs: x', '1/12 fs: x'],
    ['plain subject', 'plain subject'],
    ['', 'fallback'],
  ])('patchName(%j) = %j', (subject, name) => expect(patchName('fallback', subject)).toBe(name));

  it('decodes RFC 2047 encoded-words', () => {
    expect(decodeWords('=?utf-8?q?d=C3=A9mo_x?= =?utf-8?b?w6k=?= plain')).toBe('démo xé plain');
    expect(decodeWords('=?x-unknown?q?abc?=')).toBe('=?x-unknown?q?abc?=');
  });
});
