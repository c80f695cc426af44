/* SPDX-License-Identifier: MIT */
/*
 * privdrop.c - root to an unprivileged user, for good, and no Linux
 * capabilities left (capabilities(7), prctl(2), credentials(7)).
 *
 * The order matters: the capability sets are emptied while we still hold
 * CAP_SETPCAP, groups before the gid, the gid before the uid (after
 * setresuid we could change neither).
 */
#define _GNU_SOURCE   /* setresuid, getresuid */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "privdrop.h"

/* Read a number that is the whole of s into *out; false otherwise. */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out < UINT32_MAX;
}

int ndl__privdrop_resolve(const char *user, const char *group,
			  struct ndl__privdrop_target *out, char *err, size_t errlen)
{
	struct passwd *pw;
	unsigned long id;

	memset(out, 0, sizeof(*out));
	errno = 0;
	pw = parse_id(user, &id) ? getpwuid((uid_t)id) : getpwnam(user);
	if (!pw && parse_id(user, &id)) {
		/* a bare number names a uid even without a passwd entry */
		out->uid = (uid_t)id;
		out->gid = (gid_t)-1;
	} else if (!pw) {
		snprintf(err, errlen, "--user: no user \"%s\"%s%s", user, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		return -ENOENT;
	} else {
		out->uid = pw->pw_uid;
		out->gid = pw->pw_gid;
	}
	snprintf(out->user, sizeof(out->user), "%s", pw ? pw->pw_name : user);
	if (group) {
		struct group *gr;

		errno = 0;
		gr = parse_id(group, &id) ? getgrgid((gid_t)id) : getgrnam(group);
		if (gr) {
			out->gid = gr->gr_gid;
			snprintf(out->group, sizeof(out->group), "%s", gr->gr_name);
		} else if (parse_id(group, &id)) {
			out->gid = (gid_t)id;
			snprintf(out->group, sizeof(out->group), "%s", group);
		} else {
			snprintf(err, errlen, "--group: no group \"%s\"", group);
			return -ENOENT;
		}
	} else if (out->gid == (gid_t)-1) {
		snprintf(err, errlen, "--user %s has no passwd entry to take a group from: "
			 "give --group", user);
		return -EINVAL;
	} else {
		struct group *gr = getgrgid(out->gid);
		snprintf(out->group, sizeof(out->group), "%s", gr ? gr->gr_name : "");
		if (!gr)
			snprintf(out->group, sizeof(out->group), "%lu", (unsigned long)out->gid);
	}
	if (out->uid == 0) {
		snprintf(err, errlen, "--user %s is root: name an unprivileged user", user);
		return -EPERM;
	}
	if (geteuid() != 0 && (getuid() != out->uid || geteuid() != out->uid ||
			       getgid() != out->gid || getegid() != out->gid)) {
		snprintf(err, errlen, "--user %s needs nd-sniff to start as root (it runs as uid "
			 "%lu, gid %lu); leave --user out, or start it as root",
			 user, (unsigned long)geteuid(), (unsigned long)getegid());
		return -EPERM;
	}
	return 0;
}

/* capget(2)/capset(2) with version 3 (64 capabilities in two words). */
static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(data, 0, 2 * sizeof(*data));
	return (int)syscall(SYS_capget, &hdr, data);
}

static int caps_clear(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	return (int)syscall(SYS_capset, &hdr, data);
}

static bool caps_none(void)
{
	struct __user_cap_data_struct d[2];

	if (caps_get(d) < 0)
		return false;
	return !(d[0].effective | d[0].permitted | d[0].inheritable |
		 d[1].effective | d[1].permitted | d[1].inheritable);
}

/* The ambient set (Linux 4.3+); EINVAL from older kernels means empty. */
static int ambient_clear(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

int ndl__privdrop_become(const struct ndl__privdrop_target *t, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int n;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	if (ambient_clear() < 0) {
		snprintf(err, errlen, "cannot clear the ambient capabilities: %s",
			 strerror(errno));
		return -errno;
	}
	if (geteuid() == 0) {
		/* the bounding set: nothing can come back through execve */
		for (int cap = 0; cap <= 63; cap++) {
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
				if (errno == EINVAL)
					break;     /* past the kernel's last capability */
				snprintf(err, errlen, "cannot drop capability %d from the "
					 "bounding set: %s", cap, strerror(errno));
				return -errno;
			}
		}
		if (setgroups(1, &t->gid) < 0) {
			snprintf(err, errlen, "cannot set the groups to %s: %s", t->group,
				 strerror(errno));
			return -errno;
		}
	}
	if (setresgid(t->gid, t->gid, t->gid) < 0) {
		snprintf(err, errlen, "cannot become group %s: %s", t->group, strerror(errno));
		return -errno;
	}
	if (setresuid(t->uid, t->uid, t->uid) < 0) {
		snprintf(err, errlen, "cannot become user %s: %s", t->user, strerror(errno));
		return -errno;
	}
	if (caps_clear() < 0) {
		snprintf(err, errlen, "cannot drop the capabilities: %s", strerror(errno));
		return -errno;
	}
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * Changing uid made us non-dumpable, and LeakSanitizer's tracer
	 * cannot ptrace a non-dumpable process without CAP_SYS_PTRACE. Only
	 * in sanitizer builds: a release kitchen stays non-dumpable.
	 */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif

	/* Trust, but verify. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != t->uid || eu != t->uid || su != t->uid ||
	    rg != t->gid || eg != t->gid || sg != t->gid) {
		snprintf(err, errlen, "the user or group did not change as asked");
		return -EPERM;
	}
	n = getgroups(2, groups);
	if (n > 1 || (n == 1 && groups[0] != t->gid)) {
		snprintf(err, errlen, "supplementary groups are left");
		return -EPERM;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "root could be regained after becoming %s", t->user);
		return -EPERM;
	}
	if (!caps_none()) {
		snprintf(err, errlen, "capabilities are left after becoming %s", t->user);
		return -EPERM;
	}
	return 0;
}

int ndl__privdrop_caps(bool *dropped, char *err, size_t errlen)
{
	*dropped = false;
	if (geteuid() == 0 || caps_none())
		return 0;
	*dropped = true;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || ambient_clear() < 0 ||
	    caps_clear() < 0) {
		snprintf(err, errlen, "cannot drop the capabilities: %s", strerror(errno));
		return -errno;
	}
	if (!caps_none()) {
		snprintf(err, errlen, "capabilities are left after dropping them");
		return -EPERM;
	}
	return 0;
}
