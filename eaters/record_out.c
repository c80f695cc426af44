/* SPDX-License-Identifier: MIT */
/*
 * record_out.c - nd-record's output files: pattern expansion, ".part"
 * files named on completion, rotation, flushing and fsync.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record_out.h"

#define PART_SUFFIX ".part"
#define MAX_SUFFIX 9999          /* "-1" ... "-9999" before giving up */
#define FILE_BUFFER (64 * 1024)  /* stdio buffer of each file */

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

static int append(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n >= cap)
		return -ENAMETOOLONG;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

char *ndl__rec_expand(const char *pattern, const char *chef, uint64_t n, time_t now)
{
	char timed[PATH_MAX], out[PATH_MAX], num[32], safe[256];
	size_t len = 0, i;
	struct tm tm;
	const char *p;

	if (!localtime_r(&now, &tm)) {
		errno = EINVAL;
		return NULL;
	}
	timed[0] = '\0';
	/* The pattern is the user's own format string, as for date(1). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (strftime(timed, sizeof(timed), pattern, &tm) == 0 && *pattern) {
#pragma GCC diagnostic pop
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!chef)
		chef = "all";
	for (i = 0; i < sizeof(safe) - 1 && chef[i]; i++) {
		char c = chef[i];

		safe[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ? c : '_';
	}
	safe[i] = '\0';
	if (strcmp(safe, ".") == 0 || strcmp(safe, "..") == 0)
		safe[0] = '_';
	snprintf(num, sizeof(num), "%06" PRIu64, n);

	out[0] = '\0';
	for (p = timed; *p;) {
		int r;

		if (strncmp(p, "{chef}", 6) == 0) {
			r = append(out, sizeof(out), &len, safe, strlen(safe));
			p += 6;
		} else if (strncmp(p, "{n}", 3) == 0) {
			r = append(out, sizeof(out), &len, num, strlen(num));
			p += 3;
		} else {
			r = append(out, sizeof(out), &len, p, 1);
			p++;
		}
		if (r < 0) {
			errno = -r;
			return NULL;
		}
	}
	if (len + sizeof(PART_SUFFIX) + 8 > sizeof(out)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return strdup(out);
}

/* name with "-k" before its extension (k > 0), or name itself (k == 0). */
static char *with_suffix(const char *name, unsigned k)
{
	const char *base = strrchr(name, '/'), *dot;
	size_t stem;
	char *s;

	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	stem = dot && dot != base ? (size_t)(dot - name) : strlen(name);
	if (k == 0)
		return strdup(name);
	if (asprintf(&s, "%.*s-%u%s", (int)stem, name, k, name + stem) < 0)
		return NULL;
	return s;
}

static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');

	if (!slash)
		return strdup(".");
	if (slash == name)
		return strdup("/");
	return strndup(name, (size_t)(slash - name));
}

int ndl__rec_out_check(const struct ndl__rec_out *out, const char *chef_example)
{
	char *name = ndl__rec_expand(out->pattern, chef_example, 1, time(NULL));
	char *dir;
	struct stat st;
	int r = 0;

	if (!name) {
		r = -errno;
		fprintf(stderr, "%s: cannot make a file name from '%s': %s\n", out->prog,
			out->pattern, strerror(-r));
		return r;
	}
	if (!*name) {
		fprintf(stderr, "%s: the output pattern '%s' gives an empty file name\n",
			out->prog, out->pattern);
		free(name);
		return -EINVAL;
	}
	dir = dir_of(name);
	if (!dir) {
		free(name);
		return -ENOMEM;
	}
	if (stat(dir, &st) < 0) {
		r = -errno;
		fprintf(stderr, "%s: cannot create files like '%s': directory '%s': %s\n",
			out->prog, name, dir, strerror(-r));
	} else if (!S_ISDIR(st.st_mode)) {
		r = -ENOTDIR;
		fprintf(stderr, "%s: cannot create files like '%s': '%s' is not a directory\n",
			out->prog, name, dir);
	} else if (access(dir, W_OK | X_OK) < 0) {
		r = -errno;
		fprintf(stderr, "%s: cannot create files like '%s': directory '%s': %s\n",
			out->prog, name, dir, strerror(-r));
	}
	free(dir);
	free(name);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

static void sync_dir_of(const char *name)
{
	char *dir = dir_of(name);
	int fd;

	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int ndl__rec_file_open(struct ndl__rec_out *out, struct ndl__rec_file *rf,
		       const char *chef, uint64_t now_ms)
{
	char *base, *cand = NULL, *part = NULL;
	struct stat st;
	int fd = -1, r;
	unsigned k;

	memset(rf, 0, sizeof(*rf));
	base = ndl__rec_expand(out->pattern, chef, out->next_n, time(NULL));
	if (!base) {
		r = -errno;
		fprintf(stderr, "%s: cannot make a file name from '%s': %s\n", out->prog,
			out->pattern, strerror(-r));
		return r;
	}
	for (k = 0; k <= MAX_SUFFIX; k++) {
		free(cand);
		free(part);
		part = NULL;
		cand = with_suffix(base, k);
		if (!cand || asprintf(&part, "%s" PART_SUFFIX, cand) < 0) {
			part = NULL;
			r = -ENOMEM;
			fprintf(stderr, "%s: out of memory\n", out->prog);
			goto free_names;
		}
		if (lstat(cand, &st) == 0)
			continue;  /* never overwrite: try the next name */
		fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0)
			break;
		if (errno != EEXIST) {
			r = -errno;
			fprintf(stderr, "%s: cannot create file '%s': %s\n", out->prog, part,
				strerror(-r));
			goto free_names;
		}
	}
	if (fd < 0) {
		r = -EEXIST;
		fprintf(stderr, "%s: cannot create file '%s': it and %d numbered variants"
			" exist\n", out->prog, base, MAX_SUFFIX);
		goto free_names;
	}
	rf->f = fdopen(fd, "w");
	if (!rf->f) {
		r = -errno;
		fprintf(stderr, "%s: cannot create file '%s': %s\n", out->prog, part,
			strerror(-r));
		goto close_fd;
	}
	setvbuf(rf->f, NULL, _IOFBF, FILE_BUFFER);
	rf->base = base;
	rf->suffix = k;
	rf->name = cand;
	rf->part = part;
	rf->opened_ms = now_ms;
	out->next_n++;
	return 0;

close_fd:
	close(fd);
	unlink(part);
free_names:
	free(cand);
	free(part);
	free(base);
	return r;
}

void ndl__rec_file_stdout(struct ndl__rec_file *rf, uint64_t now_ms)
{
	memset(rf, 0, sizeof(*rf));
	rf->f = stdout;
	rf->is_stdout = 1;
	rf->opened_ms = now_ms;
}

int ndl__rec_file_write(struct ndl__rec_file *rf, const void *buf, size_t len)
{
	if (!rf->f)
		return -EBADF;
	if (len && fwrite(buf, 1, len, rf->f) != len)
		return errno ? -errno : -EIO;
	rf->bytes += len;
	rf->unflushed += len;
	return 0;
}

int ndl__rec_file_due(const struct ndl__rec_out *out, const struct ndl__rec_file *rf,
		      size_t len, uint64_t now_ms)
{
	if (!rf->f || rf->is_stdout)
		return 0;
	if (out->rotate_ms && now_ms >= rf->opened_ms + out->rotate_ms)
		return 1;
	if (out->rotate_size && rf->lines > 0 && rf->bytes + len > out->rotate_size)
		return 1;
	return 0;
}

int ndl__rec_file_flush(const struct ndl__rec_out *out, struct ndl__rec_file *rf)
{
	if (!rf->f || !rf->unflushed)
		return 0;
	if (fflush(rf->f) != 0)
		return -errno;
	if (out->do_fsync && !rf->is_stdout && fdatasync(fileno(rf->f)) < 0)
		return -errno;
	rf->unflushed = 0;
	return 0;
}

/* Give the finished file part its final name, never replacing a file. */
static int name_file(struct ndl__rec_out *out, struct ndl__rec_file *rf)
{
	int err;

	for (unsigned k = rf->suffix; k <= MAX_SUFFIX; k++) {
		char *cand = with_suffix(rf->base, k);

		if (!cand)
			return -ENOMEM;
		if (renameat2(AT_FDCWD, rf->part, AT_FDCWD, cand, RENAME_NOREPLACE) == 0 ||
		    ((errno == EINVAL || errno == ENOSYS) && link(rf->part, cand) == 0 &&
		     unlink(rf->part) == 0)) {
			free(rf->name);
			rf->name = cand;
			if (out->do_fsync)
				sync_dir_of(cand);
			return 0;
		}
		err = errno;
		free(cand);
		if (err != EEXIST)
			return -err;
	}
	return -EEXIST;
}

int ndl__rec_file_close(struct ndl__rec_out *out, struct ndl__rec_file *rf)
{
	int r = 0;

	if (!rf->f)
		return 0;
	if (rf->is_stdout) {
		r = fflush(stdout) != 0 ? -errno : 0;
		memset(rf, 0, sizeof(*rf));
		return r;
	}
	if (fflush(rf->f) != 0 || ferror(rf->f))
		r = errno ? -errno : -EIO;
	if (r == 0 && out->do_fsync && fsync(fileno(rf->f)) < 0)
		r = -errno;
	if (fclose(rf->f) != 0 && r == 0)
		r = -errno;
	rf->f = NULL;
	if (r < 0) {
		fprintf(stderr, "%s: cannot finish file '%s': %s (what was written stays"
			" there)\n", out->prog, rf->part, strerror(-r));
	} else {
		r = name_file(out, rf);
		if (r < 0)
			fprintf(stderr, "%s: cannot name file '%s' as '%s': %s (it stays"
				" under its .part name)\n", out->prog, rf->part, rf->name,
				strerror(-r));
	}
	if (r < 0) {
		out->files_failed++;
	} else {
		out->files_done++;
		if (out->verbose)
			fprintf(stderr, "%s: wrote %s (%" PRIu64 " records, %" PRIu64
				" bytes)\n", out->prog, rf->name, rf->lines, rf->bytes);
	}
	free(rf->name);
	free(rf->part);
	free(rf->base);
	memset(rf, 0, sizeof(*rf));
	return r;
}
