/* SPDX-License-Identifier: MIT */
/*
 * conf.c - configuration files read into getopt_long arguments (conf.h
 * describes the format).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

struct entry {
	char *key;
	char *value;      /* NULL: a bare key */
	char *origin;     /* "NAME:LINE" */
	char *arg;        /* "--key=value", made by ndl__conf_argv */
};

struct ndl__conf {
	struct entry *e;
	size_t n, cap;
	char **argv;      /* the last list ndl__conf_argv made */
};

struct ndl__conf *ndl__conf_new(void)
{
	return calloc(1, sizeof(struct ndl__conf));
}

static void entry_clear(struct entry *e)
{
	free(e->key);
	free(e->value);
	free(e->origin);
	free(e->arg);
	memset(e, 0, sizeof(*e));
}

void ndl__conf_free(struct ndl__conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_clear(&c->e[i]);
	free(c->e);
	free(c->argv);
	free(c);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool is_key_char(char ch, bool first)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (!first && ch == '-');
}

/*
 * Parse one line (no line feed) into *e. Returns 1 for an entry, 0 for a
 * blank or comment line, -EINVAL with the reason in why.
 */
static int parse_line(const char *s, size_t len, struct entry *e, char *why, size_t whylen)
{
	size_t i = 0, k0, k1, v0, v1;
	char *value = NULL;

	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	k0 = i;
	while (i < len && s[i] != '=' && !is_blank(s[i]))
		i++;
	k1 = i;
	if (k1 == k0) {
		snprintf(why, whylen, "a line must start with an option name, got \"=\"");
		return -EINVAL;
	}
	if (k1 - k0 > NDL__CONF_KEY_MAX) {
		snprintf(why, whylen, "option name longer than %d bytes", NDL__CONF_KEY_MAX);
		return -EINVAL;
	}
	if (s[k0] == '-') {
		snprintf(why, whylen, "write option names without dashes: \"%.*s\" is \"%.*s\"",
			 (int)(k1 - k0), s + k0, (int)(k1 - k0 - strspn(s + k0, "-")),
			 s + k0 + strspn(s + k0, "-"));
		return -EINVAL;
	}
	for (size_t j = k0; j < k1; j++) {
		if (!is_key_char(s[j], j == k0)) {
			snprintf(why, whylen, "\"%.*s\" is not an option name (lower-case letters, "
				 "digits and '-')", (int)(k1 - k0), s + k0);
			return -EINVAL;
		}
	}
	while (i < len && is_blank(s[i]))
		i++;
	e->key = strndup(s + k0, k1 - k0);
	if (!e->key)
		goto oom;
	if (i == len)
		return 1;    /* a bare key: a flag */
	if (s[i] != '=') {
		snprintf(why, whylen, "expected \"=\" after \"%s\", got \"%c\"", e->key, s[i]);
		goto fail;
	}
	i++;
	while (i < len && is_blank(s[i]))
		i++;
	if (i < len && s[i] == '"') {
		size_t o = 0;

		value = malloc(len - i);
		if (!value)
			goto oom;
		for (i++;; i++) {
			if (i == len) {
				snprintf(why, whylen, "the value of \"%s\" has no closing quote", e->key);
				goto fail;
			}
			if (s[i] == '"')
				break;
			if (s[i] == '\\') {
				if (i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\')) {
					value[o++] = s[++i];
					continue;
				}
				snprintf(why, whylen, "in the value of \"%s\", only \\\" and \\\\ may "
					 "follow a backslash", e->key);
				goto fail;
			}
			value[o++] = s[i];
		}
		value[o] = '\0';
		for (i++; i < len; i++) {
			if (!is_blank(s[i])) {
				snprintf(why, whylen, "unexpected \"%c\" after the closing quote of "
					 "\"%s\"", s[i], e->key);
				goto fail;
			}
		}
		e->value = value;
		return 1;
	}
	v0 = i;
	v1 = len;
	while (v1 > v0 && is_blank(s[v1 - 1]))
		v1--;
	e->value = strndup(s + v0, v1 - v0);
	if (!e->value)
		goto oom;
	return 1;
oom:
	snprintf(why, whylen, "out of memory");
	free(value);
	free(e->key);
	e->key = NULL;
	return -ENOMEM;
fail:
	free(value);
	free(e->key);
	e->key = NULL;
	return -EINVAL;
}

static int grow(struct ndl__conf *c)
{
	size_t cap = c->cap ? c->cap * 2 : 16;
	struct entry *e;

	if (c->n < c->cap)
		return 0;
	e = realloc(c->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	c->e = e;
	c->cap = cap;
	return 0;
}

int ndl__conf_parse(struct ndl__conf *c, const char *name, const char *text, size_t len,
		    char *err, size_t errlen)
{
	size_t first = c->n, pos = 0, line = 0;
	char why[256];
	int r;

	if (len > NDL__CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", name, NDL__CONF_FILE_MAX);
		return -E2BIG;
	}
	if (memchr(text, '\0', len)) {
		size_t at = (size_t)((const char *)memchr(text, '\0', len) - text);
		size_t l = 1;
		for (size_t j = 0; j < at; j++)
			l += text[j] == '\n';
		snprintf(err, errlen, "%s:%zu: a NUL byte: not a text file", name, l);
		return -EINVAL;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct entry e = { 0 };

		line++;
		if (end - pos > NDL__CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%zu: line longer than %d bytes", name, line,
				 NDL__CONF_LINE_MAX);
			r = -E2BIG;
			goto drop_new;
		}
		r = parse_line(text + pos, end - pos, &e, why, sizeof(why));
		pos = nl ? end + 1 : len;
		if (r == 0)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s:%zu: %s", name, line, why);
			goto drop_new;
		}
		if (c->n >= NDL__CONF_ENTRIES_MAX) {
			entry_clear(&e);
			snprintf(err, errlen, "%s:%zu: more than %d settings", name, line,
				 NDL__CONF_ENTRIES_MAX);
			r = -E2BIG;
			goto drop_new;
		}
		{
			int n = snprintf(NULL, 0, "%s:%zu", name, line);
			e.origin = malloc((size_t)n + 1);
			if (e.origin)
				snprintf(e.origin, (size_t)n + 1, "%s:%zu", name, line);
		}
		if (!e.origin || grow(c) < 0) {
			entry_clear(&e);
			snprintf(err, errlen, "%s: out of memory", name);
			r = -ENOMEM;
			goto drop_new;
		}
		c->e[c->n++] = e;
	}
	return 0;

drop_new:
	while (c->n > first)
		entry_clear(&c->e[--c->n]);
	return r;
}

int ndl__conf_load(struct ndl__conf *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read the configuration file %s: %s", path,
			 strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read the configuration file %s: %s", path,
			 strerror(errno));
		goto close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read the configuration file %s: %s", path,
			 strerror(EISDIR));
		r = -EISDIR;
		goto close_fd;
	}
	/* One byte more than allowed, so that a larger file shows itself. */
	buf = malloc(NDL__CONF_FILE_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		r = -ENOMEM;
		goto close_fd;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, NDL__CONF_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot read the configuration file %s: %s", path,
				 strerror(errno));
			goto free_buf;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > NDL__CONF_FILE_MAX) {
			snprintf(err, errlen, "%s: larger than %d bytes", path, NDL__CONF_FILE_MAX);
			r = -E2BIG;
			goto free_buf;
		}
	}
	r = ndl__conf_parse(c, path, buf, got, err, errlen);
free_buf:
	free(buf);
close_fd:
	close(fd);
	return r;
}

size_t ndl__conf_count(const struct ndl__conf *c)
{
	return c->n;
}

const char *ndl__conf_key(const struct ndl__conf *c, size_t i)
{
	return i < c->n ? c->e[i].key : NULL;
}

const char *ndl__conf_value(const struct ndl__conf *c, size_t i)
{
	return i < c->n ? c->e[i].value : NULL;
}

const char *ndl__conf_entry_origin(const struct ndl__conf *c, size_t i)
{
	return i < c->n ? c->e[i].origin : NULL;
}

int ndl__conf_check(const struct ndl__conf *c, const struct option *longs,
		    char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct entry *e = &c->e[i];
		const struct option *o = longs;

		while (o->name && strcmp(o->name, e->key) != 0)
			o++;
		if (!o->name) {
			snprintf(err, errlen, "%s: unknown option \"%s\"", e->origin, e->key);
			return -EINVAL;
		}
		if (o->has_arg == no_argument && e->value) {
			snprintf(err, errlen, "%s: \"%s\" is a flag and takes no value (write the "
				 "bare name to set it)", e->origin, e->key);
			return -EINVAL;
		}
		if (o->has_arg == required_argument && !e->value) {
			snprintf(err, errlen, "%s: \"%s\" needs a value (%s = VALUE)", e->origin,
				 e->key, e->key);
			return -EINVAL;
		}
	}
	return 0;
}

int ndl__conf_argv(struct ndl__conf *c, int argc, char **argv, int *out_argc,
		   char ***out_argv)
{
	size_t total = (size_t)(argc > 0 ? argc : 1) + c->n;
	char **list = calloc(total + 1, sizeof(*list));
	size_t k = 0;

	if (!list)
		return -ENOMEM;
	list[k++] = argc > 0 ? argv[0] : (char *)"";
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &c->e[i];

		if (!e->arg) {
			size_t n = strlen(e->key) + 3 + (e->value ? strlen(e->value) + 1 : 0);
			e->arg = malloc(n + 1);
			if (!e->arg) {
				free(list);
				return -ENOMEM;
			}
			if (e->value)
				snprintf(e->arg, n + 1, "--%s=%s", e->key, e->value);
			else
				snprintf(e->arg, n + 1, "--%s", e->key);
		}
		list[k++] = e->arg;
	}
	for (int i = 1; i < argc; i++)
		list[k++] = argv[i];
	list[k] = NULL;
	free(c->argv);
	c->argv = list;
	*out_argc = (int)k;
	*out_argv = list;
	return 0;
}

const char *ndl__conf_origin(const struct ndl__conf *c, const char *arg)
{
	if (!c || !arg)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].arg == arg)
			return c->e[i].origin;
	return NULL;
}
