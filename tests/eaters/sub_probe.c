/* SPDX-License-Identifier: MIT */
/*
 * sub_probe - a test eater that subscribes only after it is connected:
 *   sub_probe HUB NAME CHEF COUNT
 * says hello without a subscription, then calls ndl_eater_subscribe() with
 * chefs [CHEF] from its connect callback, prints "chef kitchen" for each
 * dumpling it is sent (status included) and closes with 4102 after COUNT
 * non-status dumplings. Exit 0 when it got them, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndl/eater.h>

static const char *chef;
static long want, got;

static void on_connect(struct ndl_eater *e)
{
	const char *chefs[] = { chef, NULL };
	int r = ndl_eater_subscribe(e, chefs, NULL, 0);

	if (r < 0) {
		fprintf(stderr, "sub_probe: subscribe: %s\n", strerror(-r));
		ndl_eater_close(e, NDL_EATER_CLOSE_CANCELLED, "");
	}
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	printf("%s %s\n", d->chef, d->kitchen ? d->kitchen : "null");
	fflush(stdout);
	if (strcmp(d->chef, "SystemStatusChef") && ++got == want)
		ndl_eater_close(e, NDL_EATER_CLOSE_FULL, "");
}

int main(int argc, char **argv)
{
	struct ndl_eater *e;
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: sub_probe HUB NAME CHEF COUNT\n");
		return 2;
	}
	chef = argv[3];
	want = atol(argv[4]);
	e = ndl_eater_new(NULL, argv[2], argv[1]);
	if (!e) {
		perror("sub_probe");
		return 1;
	}
	r = ndl_eater_start(e, on_connect, on_dumpling, NULL);
	if (r == 0)
		r = ndl_eater_run(e);
	ndl_eater_free(e);
	return r == 0 && got == want ? 0 : 1;
}
