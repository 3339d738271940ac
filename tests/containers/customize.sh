#!/bin/sh
# mmdebstrap customize hook of the beatsync-systemd test image (part of the recipe hash).
# $1: the root filesystem being built; $2: the wheelhouse directory on the build machine;
# $3: this recipe directory (tests/containers).
set -eu
root=$1 wheels=$2 recipe=$3

# systemd generates a fresh machine id at every boot of a container.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# The build machine's CA bundle: it trusts the package proxy, so pip/curl work inside.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
fi

# Offline wheelhouse + pip.conf pointing at it; fastapi/uvicorn installed system-wide so a
# freshly deployed canonical unit (/usr/bin/python3 -m uvicorn main:app) runs.
mkdir -p "$root/opt/wheelhouse"
cp "$wheels"/*.whl "$root/opt/wheelhouse/"
cp "$recipe/pip.conf" "$root/etc/pip.conf"
# A clean environment: the build machine's PIP_* settings must not leak into the image.
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"; }
in_root /usr/bin/python3 -m pip install --quiet --root-user-action=ignore --no-index --find-links /opt/wheelhouse \
  --break-system-packages --no-warn-script-location fastapi uvicorn
in_root /usr/bin/python3 -c 'import fastapi, uvicorn, pydantic'

# The real-SSH lane: a non-root user `ops` with password-less sudo, as operators log in.
# Debian's /etc/sudoers (Defaults env_reset, secure_path, use_pty) is kept as shipped.
# Password "*": no password works, but the account is not locked (key login allowed).
in_root useradd --create-home --shell /bin/bash --comment "beatsync.ops test operator" ops
in_root usermod --password '*' ops
printf 'ops ALL=(ALL:ALL) NOPASSWD: ALL\n' > "$root/etc/sudoers.d/ops"
chmod 0440 "$root/etc/sudoers.d/ops"
in_root visudo -c -q
# sshd is installed but does not start at boot; tests/systemd_hosts.py (SshHost) configures
# its port and starts it on the hosts that need it.
in_root systemctl disable ssh.service >/dev/null 2>&1 || rm -f "$root/etc/systemd/system/multi-user.target.wants/ssh.service"
test ! -e "$root/etc/systemd/system/multi-user.target.wants/ssh.service"

# Where the fixture app's fault switches live (see tests/fixtures/beatsync_app/main.py).
mkdir -p "$root/etc/beatsync-fixture"

# Units that only make noise (or fail) inside a container.
for unit in getty@tty1.service console-getty.service systemd-firstboot.service \
            systemd-remount-fs.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
            fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# Smaller image.
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/usr/share/doc/"* \
       "$root/usr/share/man/"* "$root/root/.cache"
