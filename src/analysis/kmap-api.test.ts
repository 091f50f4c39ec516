import { KmapApi } from './kmap-api.js';

describe('KmapApi.identity', () => {
  it('is equal for equal configurations (results that depend only on the vocabulary are shared)', () => {
    const cfg = { mapFunctions: { zfs_kmap_local: 'kmap_local_page' }, unmapFunctions: { zfs_kunmap_local: 'kunmap_local' } };
    expect(new KmapApi(cfg).identity).toBe(new KmapApi(cfg).identity);
    expect(new KmapApi().identity).toBe(new KmapApi({ mapFunctions: {}, unmapFunctions: {} }).identity);
  });

  it('differs when a wrapper is added or maps to another family', () => {
    const plain = new KmapApi().identity;
    const local = new KmapApi({ mapFunctions: { my_map: 'kmap_local_page' }, unmapFunctions: {} }).identity;
    const atomic = new KmapApi({ mapFunctions: { my_map: 'kmap_atomic' }, unmapFunctions: {} }).identity;
    expect(new Set([plain, local, atomic]).size).toBe(3);
  });
});
