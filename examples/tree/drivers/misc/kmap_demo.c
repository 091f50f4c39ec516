// SPDX-License-Identifier: GPL-2.0
/*
 * kmap_demo: a small driver-style file for kmap-review's example. It copies between pages the way
 * many drivers did before the kmap_local_page() conversions.
 */
#include <linux/highmem.h>
#include <linux/uaccess.h>
#include <linux/percpu.h>

struct demo_buf {
	struct page *page;
	void *vaddr;
	size_t len;
};

static DEFINE_PER_CPU(unsigned long, demo_copies);

static void demo_copy_pages(struct page *to, struct page *from)
{
	void *vfrom, *vto;

	vfrom = kmap_atomic(from);
	vto = kmap_atomic(to);
	copy_page(vto, vfrom);
	kunmap_atomic(vto);
	kunmap_atomic(vfrom);
}

static void demo_read_page(struct page *page, void *dst, size_t off, size_t len)
{
	char *kaddr = kmap_atomic(page);

	memcpy(dst, kaddr + off, len);
	kunmap_atomic(kaddr);
}

static int demo_fill_from_user(struct page *page, const char __user *ubuf, size_t len)
{
	char *kaddr;
	unsigned long left;

	kaddr = kmap_atomic(page);
	left = __copy_from_user_inatomic(kaddr, ubuf, len);
	__this_cpu_inc(demo_copies);
	kunmap_atomic(kaddr);
	return left ? -EFAULT : 0;
}

static int demo_checksum(struct demo_buf *buf, u32 *sum)
{
	u32 *p = kmap(buf->page);
	size_t i;

	*sum = 0;
	for (i = 0; i < buf->len / sizeof(u32); i++)
		*sum += p[i];
	kunmap(buf->page);
	return 0;
}
