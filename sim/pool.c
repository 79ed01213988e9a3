/* A free list of memory blocks (pool.h). */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>

#include "bmsrig/sim/pool.h"

/* Under AddressSanitizer an idle block's data is poisoned: a use after pool_put is still
 * reported, as it would be after free(). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define IDLE(b) ASAN_POISON_MEMORY_REGION((b)->data, (b)->cap)
#define BUSY(b) ASAN_UNPOISON_MEMORY_REGION((b)->data, (b)->cap)
#else
#define IDLE(b) ((void)(b))
#define BUSY(b) ((void)(b))
#endif

struct pool_block {
	struct pool_block *next;     /* in the idle list */
	size_t cap;
	alignas(max_align_t) unsigned char data[];
};

void pool_init(struct pool *p, size_t min_cap)
{
	p->idle = NULL;
	p->n_idle = 0;
	p->min_cap = min_cap;
}

void *pool_get(struct pool *p, size_t size)
{
	struct pool_block *b = p->idle;

	if (b && b->cap >= size) {
		p->idle = b->next;
		p->n_idle--;
		BUSY(b);
		return b->data;
	}
	if (size < p->min_cap)
		size = p->min_cap;
	b = malloc(sizeof *b + size);
	if (!b)
		return NULL;
	b->cap = size;
	return b->data;
}

void pool_put(struct pool *p, void *data)
{
	struct pool_block *b;

	if (!data)
		return;
	b = (struct pool_block *)(void *)((unsigned char *)data - offsetof(struct pool_block, data));
	if (p->n_idle >= POOL_IDLE_MAX) {
		free(b);
		return;
	}
	IDLE(b);
	b->next = p->idle;
	p->idle = b;
	p->n_idle++;
}

void pool_free(struct pool *p)
{
	while (p->idle) {
		struct pool_block *b = p->idle;

		p->idle = b->next;
		free(b);
	}
	p->n_idle = 0;
}
