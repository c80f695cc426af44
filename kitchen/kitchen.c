/* SPDX-License-Identifier: MIT */
/* kitchen.c - the chef host and dispatch (skeleton). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kitchen.h"

struct ndl_kitchen {
	struct ndl_kitchen_stats stats;
};

struct ndl_kitchen *ndl__kitchen_new(const char *name, struct ndl_sink sink)
{
	return calloc(1, sizeof(struct ndl_kitchen));
}

int ndl__kitchen_set_option(struct ndl_kitchen *k, const char *assignment,
			    char *err, size_t errlen)
{
	snprintf(err, errlen, "not implemented yet");
	return -ENOSYS;
}

int ndl__kitchen_add_chef(struct ndl_kitchen *k, const struct ndl_chef_module *m,
			  char *err, size_t errlen)
{
	snprintf(err, errlen, "not implemented yet");
	return -ENOSYS;
}

int ndl__kitchen_start(struct ndl_kitchen *k, char *err, size_t errlen)
{
	return 0;
}

size_t ndl__kitchen_chef_count(const struct ndl_kitchen *k) { return 0; }
const struct ndl_chef_descriptor *ndl__kitchen_chef(const struct ndl_kitchen *k, size_t i) { return NULL; }
const char *ndl__kitchen_chef_module(const struct ndl_kitchen *k, size_t i) { return NULL; }
void ndl__kitchen_set_live_clock(struct ndl_kitchen *k, bool live) { }
ndl_time_ns ndl__kitchen_now(const struct ndl_kitchen *k) { return 0; }
void ndl__kitchen_packet(struct ndl_kitchen *k, int linktype, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen, ndl_time_ns ts) { }
void ndl__kitchen_interval(struct ndl_kitchen *k) { }
const struct ndl_kitchen_stats *ndl__kitchen_stats(const struct ndl_kitchen *k) { return &k->stats; }
void ndl__kitchen_foreach_chef_counter(const struct ndl_kitchen *k,
		void (*f)(void *arg, const char *chef, const char *counter, uint64_t value),
		void *arg) { }
void ndl__kitchen_free(struct ndl_kitchen *k) { free(k); }
void ndl__kitchen_set_log(struct ndl_kitchen *k,
			  void (*log)(void *arg, enum ndl_log_level level, const char *line),
			  void *arg) { }
