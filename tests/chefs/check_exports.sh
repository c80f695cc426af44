#!/bin/sh
# SPDX-License-Identifier: MIT
# Every chef .so must export exactly one function, ndl_chef_entry: chefs are
# built with hidden visibility so that two chefs (or a chef and the kitchen)
# can never bind to each other's symbols.
#
# Usage: check_exports.sh NM CHEF.so...
set -u
nm_prog=$1
shift
status=0
for so in "$@"; do
	if ! out=$("$nm_prog" -D --defined-only "$so"); then
		echo "FAIL $so: $nm_prog could not read it" >&2
		status=1
		continue
	fi
	# Text (code) symbols: T/t, weak W/w, indirect i.
	text=$(printf '%s\n' "$out" | awk 'NF >= 3 && $2 ~ /^[TtWwi]$/ { print $3 }')
	if [ "$text" != "ndl_chef_entry" ]; then
		echo "FAIL $so exports these functions instead of only ndl_chef_entry:" >&2
		printf '%s\n' "$out" >&2
		status=1
	else
		echo "ok   $so exports only ndl_chef_entry"
	fi
done
exit $status
