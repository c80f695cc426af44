/* SPDX-License-Identifier: MIT */
/* chef_loader.c - opening and validating chef modules (skeleton). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kitchen.h"

int ndl__chef_module_open(const char *path, struct ndl_chef_module **out,
			  char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "%s: chef loading is not implemented yet", path);
	return -ENOSYS;
}

void ndl__chef_module_close(struct ndl_chef_module *m)
{
	(void)m;
}

int ndl__chef_catalog_scan(struct ndl_chef_catalog *cat, const char *dir,
			   void (*warn)(void *arg, const char *msg), void *arg)
{
	return 0;
}

int ndl__chef_catalog_add(struct ndl_chef_catalog *cat, const char *path,
			  char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: chef loading is not implemented yet", path);
	return -ENOSYS;
}

struct ndl_chef_module *ndl__chef_catalog_find(const struct ndl_chef_catalog *cat,
					       const char *name)
{
	return NULL;
}

void ndl__chef_catalog_free(struct ndl_chef_catalog *cat)
{
	(void)cat;
}
