import { parseMaintainers } from './maintainers.js';

const MAINTAINERS = `List of maintainers
===================

Descriptions of section entries and preferred order
	F: *Files* and directories wildcard patterns.

DEMO FILESYSTEM
M:	A Developer <dev@example.org>
S:	Maintained
F:	fs/demo/
X:	fs/demo/legacy/

DEMO FILESYSTEM LEGACY BITS
F:	fs/demo/legacy/*.c

DEMO DRIVERS (top level only)
F:	drivers/demo/*

DEMO GPU
F:	drivers/gpu/drm/demo
F:	include/drm/demo_*.h

DEMO HIGHMEM
F:	./mm/highmem.c
F:	include/linux/highmem+internal.h

THE REST
F:	*
F:	*/
`;

describe('MAINTAINERS subsystems', () => {
  const idx = parseMaintainers(MAINTAINERS);
  it.each([
    ['fs/demo/inode.c', 'DEMO FILESYSTEM'],
    ['fs/demo/sub/dir.c', 'DEMO FILESYSTEM'],
    ['fs/demo/legacy/old.c', 'DEMO FILESYSTEM LEGACY BITS'],
    ['drivers/demo/core.c', 'DEMO DRIVERS (top level only)'],
    ['drivers/demo/sub/x.c', 'THE REST'],
    ['drivers/gpu/drm/demo/demo_drv.c', 'DEMO GPU'],
    ['include/drm/demo_ioctl.h', 'DEMO GPU'],
    ['mm/highmem.c', 'DEMO HIGHMEM'], // a ./ prefix, a plain file
    ['mm/highmem.cx', 'THE REST'], // a file pattern is not a prefix of other names
    ['include/linux/highmem+internal.h', 'DEMO HIGHMEM'], // regex characters are literal
    ['include/linux/highmemminternal.h', 'THE REST'],
    ['mm/memory.c', 'THE REST'],
  ])('%s -> %s', (path, entry) => expect(idx.subsystemOf(path)).toBe(entry));

  it('counts entries and answers null without a match', () => {
    const small = parseMaintainers('ONLY\nF:\tfs/only/\n');
    expect(small.subsystemOf('mm/x.c')).toBeNull();
    expect(small.entries).toBe(1);
  });
});
