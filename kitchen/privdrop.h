/* SPDX-License-Identifier: MIT */
/*
 * privdrop.h - giving up root (and Linux capabilities) once the kitchen
 * holds what it needed them for: its capture handles, chef modules and
 * secrets. Called once, on the main thread, before the loop runs.
 */
#ifndef NDL_KITCHEN_PRIVDROP_H
#define NDL_KITCHEN_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Who to become. */
struct ndl__privdrop_target {
	uid_t uid;
	gid_t gid;
	char user[64];
	char group[64];
};

/*
 * Look up user (a name or a number) and group (a name or a number; NULL
 * means the user's primary group) without changing anything, then check
 * that this process can become them: it runs as root, or already as
 * exactly that user and group. Refuses uid 0 as a target. Returns 0 with
 * *out filled, or -ENOENT (no such user or group), -EPERM (not root, or
 * the target is root) or -EINVAL, with one line in err.
 */
int ndl__privdrop_resolve(const char *user, const char *group,
			  struct ndl__privdrop_target *out, char *err, size_t errlen);

/*
 * Become t for good: PR_SET_NO_NEW_PRIVS, empty the ambient and bounding
 * capability sets, supplementary groups = { t->gid }, then setresgid and
 * setresuid to t, and drop every capability left. Then verify: every uid
 * and gid is t's, setuid(0) fails, no capability is held. Returns 0, or a
 * negative errno with one line in err; on failure the process must exit
 * (it may be half changed).
 */
int ndl__privdrop_become(const struct ndl__privdrop_target *t, char *err, size_t errlen);

/*
 * For a kitchen started without --user: when it is not root but holds
 * capabilities (systemd's AmbientCapabilities=CAP_NET_RAW...), drop them
 * all (effective, permitted, inheritable, ambient) and set
 * PR_SET_NO_NEW_PRIVS. Root keeps what it has. Returns 0 (also when there
 * was nothing to drop), or a negative errno with one line in err.
 * *dropped says whether any capability was held.
 */
int ndl__privdrop_caps(bool *dropped, char *err, size_t errlen);

#endif /* NDL_KITCHEN_PRIVDROP_H */
