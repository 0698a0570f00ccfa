# SPDX-License-Identifier: MIT
# Shared by the e2e tests (sourced): messages, tool checks, the package build.

e2e_log() { printf '[e2e %(%T)T] %s\n' -1 "$*" >&2; }
e2e_fail() { printf '[e2e %(%T)T] FAIL: %s\n' -1 "$*" >&2; exit 1; }

e2e_require_root() {
  [ "$(id -u)" -eq 0 ] || e2e_fail "the e2e tests need root (debootstrap, chroot, overlay mounts)"
}

# e2e_require_tool COMMAND PACKAGE...
e2e_require_tool() {
  local tool=$1
  shift
  command -v "$tool" >/dev/null 2>&1 ||
    e2e_fail "'$tool' is missing: install $* (scripts/install-deps does)"
}

e2e_check_env() {
  [ -n "${UBC_SOURCE_DIR:-}" ] && [ -d "$UBC_SOURCE_DIR" ] ||
    e2e_fail "UBC_SOURCE_DIR is not set to the source tree (run through ctest)"
  [ -n "${UBC_BINARY_DIR:-}" ] && [ -d "$UBC_BINARY_DIR" ] ||
    e2e_fail "UBC_BINARY_DIR is not set to the build tree (run through ctest)"
}

# A hash of the source tree as a commit would hold it, so that the package is built once
# per state of the tree however many e2e tests use it. tests/ is left out: the package is
# built with UBC_BUILD_TESTS=OFF, so editing a test does not change it.
e2e_source_hash() {
  (
    cd "$UBC_SOURCE_DIR"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files -z --cached --others --exclude-standard -- . ':!tests'
    else
      find . -path ./.git -prune -o -path './build*' -prune -o -path ./tests -prune -o \
        -type f -print0
    fi | sort -z | while IFS= read -r -d '' f; do
      [ -f "$f" ] && printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"
    done
  ) | sha256sum | cut -c1-16
}

# Prints the path of usb-backup-copier_*.deb built from UBC_SOURCE_DIR by scripts/package,
# building it unless this state of the tree was built already.
e2e_build_deb() {
  local hash dir log
  hash=$(e2e_source_hash)
  dir="$UBC_BINARY_DIR/e2e-deb/$hash"
  if ! compgen -G "$dir/usb-backup-copier_*.deb" >/dev/null; then
    rm -rf "$UBC_BINARY_DIR/e2e-deb"
    mkdir -p "$dir.tmp"
    log="$UBC_BINARY_DIR/e2e-package.log"
    e2e_log "building the package (scripts/package, log in $log)"
    if ! "$UBC_SOURCE_DIR/scripts/package" "$dir.tmp" >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      e2e_fail "scripts/package failed; see $log"
    fi
    mv "$dir.tmp" "$dir"
  fi
  compgen -G "$dir/usb-backup-copier_*.deb" | head -n1
}
