#!/bin/sh
# mmdebstrap customize hook of the execution environment's base image (part of the recipe
# hash). $1: the root filesystem being built; $2: this recipe directory (ee/base).
set -eu
root=$1 recipe=$2

# The build machine's CA bundle: it trusts the package proxy, so pip (PyPI) and apt work in
# ansible-builder's RUN steps. Also as a local CA, so that a later update-ca-certificates (an
# apt install in the final stage) keeps it.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/build-host-bundle.crt"
fi

# ansible-builder's scripts speak dnf: "install -y PKGS" and "clean all". ee-pkgmgr is that
# interface on apt-get (options.package_manager_path in execution-environment.yml).
install -m 0755 "$recipe/ee-pkgmgr" "$root/usr/local/sbin/ee-pkgmgr"

# Smaller image.
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/usr/share/doc/"* \
       "$root/usr/share/man/"* "$root/root/.cache"
