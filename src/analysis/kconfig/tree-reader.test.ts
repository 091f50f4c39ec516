import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirTreeReader, memoryTreeReader, treePath } from './tree-reader.js';

describe('tree readers', () => {
  it('normalises paths and refuses the ones that leave the tree', () => {
    expect(treePath('drivers/./foo/../bar/Kconfig')).toBe('drivers/bar/Kconfig');
    expect(treePath('../etc/passwd')).toBeNull();
    expect(treePath('/etc/passwd')).toBeNull();
    expect(memoryTreeReader({ 'a/Kconfig': 'x' }).read('b/../a/Kconfig')).toBe('x');
  });

  it('a directory reader reads nothing through a symlink out of the tree', () => {
    const root = mkdtempSync(join(tmpdir(), 'kmap-reader-'));
    const outside = mkdtempSync(join(tmpdir(), 'kmap-outside-'));
    try {
      mkdirSync(join(root, 'drivers'));
      writeFileSync(join(root, 'drivers', 'Kconfig'), 'config FOO\n');
      writeFileSync(join(outside, 'Kconfig'), 'config SECRET\n');
      symlinkSync(join(outside, 'Kconfig'), join(root, 'drivers', 'Kconfig.link'));
      symlinkSync(outside, join(root, 'evil'));
      const r = dirTreeReader(root);
      expect(r.read('drivers/Kconfig')).toBe('config FOO\n');
      expect(r.read('drivers/Kconfig.link')).toBeNull();
      expect(r.read('evil/Kconfig')).toBeNull();
      expect(r.list('')).toEqual(['drivers']);
      expect(r.list('evil')).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a directory reader walks down without following links: nothing below a linked directory, even one pointing inside the tree', () => {
    const root = mkdtempSync(join(tmpdir(), 'kmap-reader-'));
    const outside = mkdtempSync(join(tmpdir(), 'kmap-outside-'));
    try {
      mkdirSync(join(root, 'drivers', 'real'), { recursive: true });
      writeFileSync(join(root, 'drivers', 'real', 'Kconfig'), 'config REAL\n');
      mkdirSync(join(outside, 'sub'));
      writeFileSync(join(outside, 'sub', 'Kconfig'), 'config SECRET\n');
      symlinkSync(outside, join(root, 'drivers', 'evil'));
      symlinkSync(join(root, 'drivers', 'real'), join(root, 'drivers', 'alias'));
      const r = dirTreeReader(root);
      expect(r.read('drivers/real/Kconfig')).toBe('config REAL\n');
      expect(r.read('drivers/evil/sub/Kconfig')).toBeNull();
      expect(r.read('drivers/alias/Kconfig')).toBeNull();
      expect(r.list('drivers/evil')).toBeNull();
      expect(r.list('drivers')).toEqual(['real']);
      // The root itself may be a link: the user named it.
      const viaLink = join(outside, 'root-link');
      symlinkSync(root, viaLink);
      expect(dirTreeReader(viaLink).read('drivers/real/Kconfig')).toBe('config REAL\n');
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
