/* SPDX-License-Identifier: MIT */
/*
 * chef_loader.c - opening chef modules and keeping the catalog of chefs
 * found on the chef path.
 *
 * A chef .so exports one function, NDL_CHEF_ENTRY_NAME, returning a
 * constant descriptor. The loader trusts nothing in it: every field the
 * kitchen relies on is checked here, and a refusal comes with one line
 * saying exactly what is wrong, so a user with a stale or foreign module
 * knows what to rebuild.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kitchen.h"
#include "options.h"

/* Longest chef name accepted. */
#define CHEF_NAME_MAX 64
/* Most chefs a catalog holds. */
#define CATALOG_MAX 1024

/* The size of the descriptor as ABI 1.0 defined it: up to fini. */
#define DESC_SIZE_1_0 \
	(offsetof(struct ndl_chef_descriptor, fini) + sizeof(((struct ndl_chef_descriptor *)0)->fini))

static int check_options(const struct ndl_chef_option *opts, char *err, size_t errlen)
{
	char why[160];
	size_t n;

	if (!opts)
		return 0;
	for (n = 0; opts[n].key; n++) {
		const struct ndl_chef_option *o = &opts[n];
		struct ndl__opt_value v;

		if (n >= NDL__OPT_MAX) {
			snprintf(err, errlen, "options table has more than %d entries "
				 "(missing the NULL key that ends it?)", NDL__OPT_MAX);
			return -EINVAL;
		}
		if (!ndl__is_ident(o->key, NDL__OPT_KEY_MAX)) {
			snprintf(err, errlen, "option key \"%.64s\" is not [A-Za-z0-9_]+",
				 o->key);
			return -EINVAL;
		}
		for (size_t j = 0; j < n; j++) {
			if (strcmp(opts[j].key, o->key) == 0) {
				snprintf(err, errlen, "option \"%s\" is declared twice", o->key);
				return -EINVAL;
			}
		}
		if (o->type < NDL_OPT_INT || o->type > NDL_OPT_STRING) {
			snprintf(err, errlen, "option \"%s\" has unknown type %d", o->key,
				 (int)o->type);
			return -EINVAL;
		}
		if (ndl__opt_parse(o, o->default_value, &v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "default of option \"%s\" %s", o->key, why);
			return -EINVAL;
		}
	}
	return 0;
}

/* Check everything the kitchen relies on; err gets the reason. */
static int check_descriptor(const struct ndl_chef_descriptor *d, char *err, size_t errlen)
{
	uint32_t major, minor;

	major = NDL_CHEF_ABI_MAJOR_OF(d->abi_version);
	minor = NDL_CHEF_ABI_MINOR_OF(d->abi_version);
	if (major != NDL_CHEF_ABI_MAJOR) {
		snprintf(err, errlen, "built for chef ABI %u.%u, this kitchen speaks %u.%u "
			 "(major versions differ)", major, minor,
			 (unsigned int)NDL_CHEF_ABI_MAJOR, (unsigned int)NDL_CHEF_ABI_MINOR);
		return -EPROTO;
	}
	if (minor > NDL_CHEF_ABI_MINOR) {
		snprintf(err, errlen, "built for chef ABI %u.%u, newer than this kitchen's %u.%u",
			 major, minor, (unsigned int)NDL_CHEF_ABI_MAJOR,
			 (unsigned int)NDL_CHEF_ABI_MINOR);
		return -EPROTO;
	}
	if (d->struct_size < DESC_SIZE_1_0) {
		snprintf(err, errlen, "descriptor struct_size %u is smaller than the %zu bytes "
			 "of ABI 1.0", d->struct_size, (size_t)DESC_SIZE_1_0);
		return -EINVAL;
	}
	if (!d->name) {
		snprintf(err, errlen, "descriptor has no name");
		return -EINVAL;
	}
	if (!ndl__is_ident(d->name, CHEF_NAME_MAX)) {
		snprintf(err, errlen, "chef name \"%.64s\" is not [A-Za-z0-9_]+ "
			 "(at most %d characters)", d->name, CHEF_NAME_MAX);
		return -EINVAL;
	}
	if (!d->version) {
		snprintf(err, errlen, "chef %s has no version", d->name);
		return -EINVAL;
	}
	if (!d->description) {
		snprintf(err, errlen, "chef %s has no description", d->name);
		return -EINVAL;
	}
	if (!d->init) {
		snprintf(err, errlen, "chef %s has no init function", d->name);
		return -EINVAL;
	}
	if (!d->fini) {
		snprintf(err, errlen, "chef %s has no fini function", d->name);
		return -EINVAL;
	}
	if (!d->on_packet && !d->on_interval) {
		snprintf(err, errlen, "chef %s has neither on_packet nor on_interval", d->name);
		return -EINVAL;
	}
	return check_options(d->options, err, errlen);
}

static char *module_name_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".so") == 0)
		n -= 3;
	return strndup(base, n);
}

/*
 * Open, validate and describe one chef module.
 * Returns 0 and *out, or a negative errno with a reason in err.
 */
int ndl__chef_module_open(const char *path, struct ndl_chef_module **out,
			  char *err, size_t errlen)
{
	char why[256];
	char dlpath[PATH_MAX];
	struct stat st;
	struct ndl_chef_module *m;
	ndl_chef_entry_fn entry;
	void *handle;
	int fd, r;

	*out = NULL;
	if (stat(path, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -ENOEXEC;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	close(fd);
	/* Without a slash dlopen would search the library path, not this file. */
	if (snprintf(dlpath, sizeof(dlpath), "%s%s", strchr(path, '/') ? "" : "./",
		     path) >= (int)sizeof(dlpath)) {
		snprintf(err, errlen, "%.200s...: path too long", path);
		return -ENAMETOOLONG;
	}
	dlerror();
	handle = dlopen(dlpath, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *e = dlerror();
		snprintf(err, errlen, "%s: cannot load: %s", path, e ? e : "unknown error");
		return -ENOEXEC;
	}
	*(void **)&entry = dlsym(handle, NDL_CHEF_ENTRY_NAME);
	if (!entry) {
		snprintf(err, errlen, "%s: not a chef: no symbol %s", path, NDL_CHEF_ENTRY_NAME);
		r = -ENOEXEC;
		goto close_handle;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "%s: out of memory", path);
		r = -ENOMEM;
		goto close_handle;
	}
	m->handle = handle;
	m->desc = entry();
	if (!m->desc) {
		snprintf(err, errlen, "%s: %s returned no descriptor", path, NDL_CHEF_ENTRY_NAME);
		r = -EINVAL;
		goto free_module;
	}
	r = check_descriptor(m->desc, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto free_module;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->path = strdup(path);
	m->module = module_name_of(path);
	if (!m->path || !m->module) {
		snprintf(err, errlen, "%s: out of memory", path);
		r = -ENOMEM;
		goto free_names;
	}
	*out = m;
	return 0;

free_names:
	free(m->path);
	free(m->module);
free_module:
	free(m);
close_handle:
	dlclose(handle);
	return r;
}

/* Unload a module opened by ndl__chef_module_open. NULL is a no-op. */
void ndl__chef_module_close(struct ndl_chef_module *m)
{
	if (!m)
		return;
	if (m->handle)
		dlclose(m->handle);
	free(m->path);
	free(m->module);
	free(m);
}

/* The descriptor's flags; a 1.0 descriptor ends before the field. */
uint32_t ndl__chef_flags(const struct ndl_chef_descriptor *d)
{
	size_t end = offsetof(struct ndl_chef_descriptor, flags) + sizeof(d->flags);

	return d->struct_size >= end ? d->flags : 0;
}

struct ndl_chef_module *ndl__chef_catalog_find(const struct ndl_chef_catalog *cat,
					       const char *name)
{
	for (size_t i = 0; i < cat->n; i++) {
		if (strcmp(cat->modules[i]->desc->name, name) == 0)
			return cat->modules[i];
	}
	return NULL;
}

/* Add a module; refuses a duplicate name (naming both paths). */
int ndl__chef_catalog_add(struct ndl_chef_catalog *cat, const char *path,
			  char *err, size_t errlen)
{
	struct ndl_chef_module *m, *old;
	struct stat st;
	int r;

	/* Found again (a folder given twice): nothing new, nothing to say. */
	if (stat(path, &st) == 0) {
		for (size_t i = 0; i < cat->n; i++) {
			if (cat->modules[i]->dev == st.st_dev && cat->modules[i]->ino == st.st_ino)
				return 1;
		}
	}

	if (cat->n >= CATALOG_MAX) {
		snprintf(err, errlen, "%s: more than %d chefs found, ignored", path, CATALOG_MAX);
		return -E2BIG;
	}
	r = ndl__chef_module_open(path, &m, err, errlen);
	if (r < 0)
		return r;
	old = ndl__chef_catalog_find(cat, m->desc->name);
	if (old) {
		snprintf(err, errlen, "%s: chef %s is already loaded from %s; duplicate refused",
			 path, m->desc->name, old->path);
		r = -EEXIST;
		goto close_module;
	}
	if (cat->n == cat->cap) {
		size_t cap = cat->cap ? cat->cap * 2 : 8;
		struct ndl_chef_module **mods = realloc(cat->modules, cap * sizeof(*mods));
		if (!mods) {
			snprintf(err, errlen, "%s: out of memory", path);
			r = -ENOMEM;
			goto close_module;
		}
		cat->modules = mods;
		cat->cap = cap;
	}
	cat->modules[cat->n++] = m;
	return 0;

close_module:
	ndl__chef_module_close(m);
	return r;
}

static bool is_so_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 3 && strcmp(name + n - 3, ".so") == 0;
}

/* Add the "*.so" regular files of dir (and of its subdirectories when depth > 0). */
static int scan_dir(struct ndl_chef_catalog *cat, const char *dir, int depth,
		    void (*warn)(void *arg, const char *msg), void *arg)
{
	struct dirent **ents;
	char path[PATH_MAX];
	char err[512];
	struct stat st;
	int n, r, added = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
			continue;
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth == 0)
				continue;
			r = scan_dir(cat, path, depth - 1, warn, arg);
			if (r > 0)
				added += r;
			continue;
		}
		if (!S_ISREG(st.st_mode) || !is_so_name(name))
			continue;
		r = ndl__chef_catalog_add(cat, path, err, sizeof(err));
		if (r == 0)
			added++;
		else if (r < 0 && warn)
			warn(arg, err);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return added;
}

/* Scan dir and its immediate subdirectories; see kitchen.h. */
int ndl__chef_catalog_scan(struct ndl_chef_catalog *cat, const char *dir,
			   void (*warn)(void *arg, const char *msg), void *arg)
{
	return scan_dir(cat, dir, 1, warn, arg);
}

/* Close every module and empty the catalog (it may be reused). */
void ndl__chef_catalog_free(struct ndl_chef_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n; i++)
		ndl__chef_module_close(cat->modules[i]);
	free(cat->modules);
	cat->modules = NULL;
	cat->n = 0;
	cat->cap = 0;
}
