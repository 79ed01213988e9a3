/* A free list of memory blocks, for objects made and dropped at every frame (sim.c: a reply's
 * pending entries and the frames it carries). A block returned is handed out again, so once as
 * many are in flight as at the busiest moment so far, a frame costs no malloc and no free.
 *
 * Overflow rule: a request larger than the idle block at the head of the list gets a new block
 * from the heap (of at least min_cap bytes, so one size serves nearly every request), and at
 * most POOL_IDLE_MAX blocks wait idle: a block returned beyond that is freed, so a burst does
 * not hold its memory for good. */
#ifndef BMSRIG_SIM_POOL_H
#define BMSRIG_SIM_POOL_H

#include <stddef.h>

#define POOL_IDLE_MAX 64u

struct pool_block;

struct pool {
	struct pool_block *idle;
	unsigned n_idle;
	size_t min_cap;              /* the smallest block made */
};

void pool_init(struct pool *p, size_t min_cap);
/* size bytes, aligned for any type, not zeroed; NULL when out of memory. */
void *pool_get(struct pool *p, size_t size);
/* Back to the list (or to the heap, see above); NULL is ignored. */
void pool_put(struct pool *p, void *data);
/* Every idle block back to the heap (the blocks still out stay theirs to put). */
void pool_free(struct pool *p);

#endif
