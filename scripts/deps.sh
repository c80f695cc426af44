# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by the other scripts: the Debian packages this project needs, and
# a function that installs the missing ones.

# Building and running (libssl-dev: libcrypto's MD5 for TLSClientHelloChef's JA3;
# zlib1g-dev: compressed NMSG containers, nmsg/; help2man: the manual pages,
# docs/man).
# shellcheck disable=SC2034
NDL_BUILD_PKGS=(meson ninja-build gcc pkg-config libpcap-dev libwebsockets-dev
	libwebsockets-evlib-uv libjansson-dev libuv1-dev libssl-dev zlib1g-dev help2man)
# Testing: check for unit tests, Debian's Python with websockets for the
# integration tests, binutils (nm) and make for the ABI and example checks,
# tshark as the reference decoder of tests/reference, iproute2 for the tests
# that make network namespaces; groff-base to check the manual pages
# (tests/cli); chromium, nodejs and npm for the browser tests
# (tests/browser: playwright-core drives Debian's chromium).
# shellcheck disable=SC2034
NDL_TEST_PKGS=(check python3 python3-websockets binutils make tshark iproute2
	groff-base chromium nodejs npm)
# The benchmarks (bench/run): the peers they measure against and their tools.
# shellcheck disable=SC2034
NDL_BENCH_PKGS=(tcpdump tshark tcpreplay linux-perf time iproute2 nodejs npm)
# Fuzzing (fuzz/): clang, and the compiler runtime that holds libFuzzer
# (libclang_rt.fuzzer) and clang's sanitizers.
# shellcheck disable=SC2034
NDL_FUZZ_PKGS=(clang libclang-rt-14-dev)

ndl_missing_pkgs() {
	local p missing=""
	for p in "$@"; do
		# Node.js from elsewhere (NodeSource's nodejs carries its own npm,
		# which conflicts with Debian's npm package): the commands suffice.
		case $p in
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			missing="$missing $p"
		fi
	done
	echo "$missing"
}

# ndl_install_pkgs PKG... : install what is missing (as root, or through sudo).
ndl_install_pkgs() {
	local missing sudo=""
	missing=$(ndl_missing_pkgs "$@")
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo="sudo"
		else
			echo "error: these Debian packages are missing and I am not root:$missing" >&2
			return 1
		fi
	fi
	echo "==> installing Debian packages:$missing"
	# wireshark-common (tshark) would ask whether non-root users may
	# capture; answer no beforehand, so an install without a terminal
	# (CI) cannot stop on the question.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		$sudo debconf-set-selections
	$sudo apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}
