#!/bin/bash
# Regenerates the expected outputs under this directory from the real libvirt
# 9.0 qemu driver (Debian 12, QEMU 7.2, TCG), run privately as
# /work/shared/notes/qemu.md §10 describes: a libvirtd of its own in a private
# mount namespace, so that the host's /etc/libvirt, /run/libvirt and /var are
# never touched. Needs root.
#
# For each input domain/NAME.xml it writes:
#   NAME.out.xml   virsh dumpxml --inactive after virsh define
#   NAME.again.xml what libvirt prints after defining NAME.out.xml, when that
#                  differs from NAME.out.xml
# and, unless the input's first line is the comment <!-- define-only -->:
#   NAME.live.xml  virsh dumpxml of the started domain
#   NAME.args      the environment and command line libvirt logged for it
#                  (log/qemu/NAME.log, as libvirt prints it: one option a line)
# For each input domain-error/NAME.xml: NAME.err, "CODE DOMAIN" then libvirt's
# message, from python3-libvirt's defineXML (or createXML when the input's
# first line is <!-- start-error -->: refused when started, not when defined).
# Each input unsupported/NAME.xml (refused by virtactor, NAME.err written by
# hand) must be accepted by libvirt's define.
#
# Usage: capture.sh [NAME...]   (default: every input)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${VA_CAPTURE_IN_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "capture.sh: run as root" >&2; exit 1; }
  # Mount points for the private bind mounts (empty directories).
  mkdir -p /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
  # A private network namespace too: the bridge and taps of type='bridge'
  # and type='network' interfaces exist only in it.
  exec env VA_CAPTURE_IN_NS=1 unshare -m -n --propagation private "$0" "$@"
fi

# --- inside the private mount and network namespaces
ip link set lo up
ip link add br0 type bridge
ip link set br0 up
priv=$(mktemp -d /tmp/va-qemu-capture.XXXXXX)
chmod 755 "$priv"
mkdir -p "$priv"/{etc,run,varlib/images,log,cache,sock}
cat > "$priv/libvirtd.conf" <<CONF
unix_sock_dir = "$priv/sock"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$priv/libvirtd.log"
CONF
echo 'stdio_handler = "file"' > "$priv/etc/qemu.conf"
mount --bind "$priv/etc" /etc/libvirt
mount --bind "$priv/run" /run/libvirt
mount --bind "$priv/varlib" /var/lib/libvirt
mount --bind "$priv/log" /var/log/libvirt
mount --bind "$priv/cache" /var/cache/libvirt

# A fixed PATH: libvirt passes its own to QEMU, and it lands in the goldens.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  libvirtd -f "$priv/libvirtd.conf" -p "$priv/libvirtd.pid" &
daemon=$!
cleanup() {
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  rm -rf "$priv"
}
trap cleanup EXIT
uri="qemu+unix:///system?socket=$priv/sock/libvirt-sock"
for _ in $(seq 100); do [ -S "$priv/sock/libvirt-sock" ] && break; sleep 0.1; done
virsh -c "$uri" version >/dev/null
# The network of type='network' interfaces: the bridge br0 (forward mode
# bridge: no dnsmasq, no firewall).
printf '%s\n' "<network><name>default</name><forward mode='bridge'/><bridge name='br0'/></network>" \
  > "$priv/default-net.xml"
virsh -q -c "$uri" net-define "$priv/default-net.xml" >/dev/null
virsh -q -c "$uri" net-start default >/dev/null

# Disk images the inputs name (inside /var/lib/libvirt/images).
images=/var/lib/libvirt/images
qemu-img create -q -f qcow2 "$images/disk.qcow2" 64M
qemu-img create -q -f raw "$images/disk.raw" 16M
qemu-img create -q -f raw "$images/shared.raw" 16M
qemu-img create -q -f raw "$images/cd.iso" 1M
# A block device for type='block' disks: a loop device behind a fixed name.
losetup_dev=$(losetup -f --show "$images/disk.raw")
ln -s "$losetup_dev" "$images/block0"
trap 'losetup -d "$losetup_dev"; cleanup' EXIT

name_of() { sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$1" | head -n1; }
first_line() { head -n1 "$1"; }

# The logged command line of the last start: from the line after
# "starting up" to the first line that does not end in a backslash.
command_of() {
  awk '/starting up libvirt version/ { n = NR; buf = ""; next }
       n && NR > n && !done { buf = buf $0 "\n"; if ($0 !~ /\\$/) done = 1 }
       /starting up libvirt version/ { done = 0 }
       END { printf "%s", buf }' "$1"
}

wanted() {
  [ ${#selected[@]} -eq 0 ] && return 0
  local n
  for n in "${selected[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}
selected=("$@")

for f in "$here"/domain/*.xml; do
  case "$f" in *.out.xml|*.live.xml|*.again.xml) continue ;; esac
  base=${f%.xml}
  wanted "$(basename "$base")" || continue
  name=$(name_of "$f")
  echo "domain: $(basename "$base")"
  virsh -q -c "$uri" define "$f" >/dev/null
  virsh -c "$uri" dumpxml --inactive "$name" | sed '$d' > "$base.out.xml"
  # Libvirt does not always print its own output back unchanged.
  virsh -q -c "$uri" define "$base.out.xml" >/dev/null
  virsh -c "$uri" dumpxml --inactive "$name" | sed '$d' > "$base.again.xml"
  if cmp -s "$base.out.xml" "$base.again.xml"; then rm "$base.again.xml"; fi
  rm -f "$base.live.xml" "$base.args"
  if [ "$(first_line "$f")" != "<!-- define-only -->" ]; then
    # Define the input again so that the start uses exactly it.
    virsh -q -c "$uri" undefine "$name" >/dev/null
    virsh -q -c "$uri" define "$f" >/dev/null
    rm -f "/var/log/libvirt/qemu/$name.log"
    virsh -q -c "$uri" start "$name" >/dev/null
    virsh -c "$uri" dumpxml "$name" | sed '$d' > "$base.live.xml"
    virsh -q -c "$uri" destroy "$name" >/dev/null
    command_of "/var/log/libvirt/qemu/$name.log" > "$base.args"
    [ -s "$base.args" ] || { echo "no command line for $name" >&2; exit 1; }
  fi
  virsh -q -c "$uri" undefine "$name" >/dev/null
done

# Inputs virtactor refuses (unsupported/) must be valid for libvirt: each is
# defined and undefined again, and the capture fails if libvirt refuses one.
for f in "$here"/unsupported/*.xml; do
  wanted "$(basename "${f%.xml}")" || continue
  name=$(name_of "$f")
  echo "unsupported: $(basename "${f%.xml}")"
  virsh -q -c "$uri" define "$f" >/dev/null
  virsh -q -c "$uri" undefine "$name" >/dev/null
done

# Refused inputs: "CODE DOMAIN" on the first line, the message after it.
/usr/bin/python3 - "$here" "$uri" "${selected[@]}" <<'PY'
import glob, os, sys
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
here, uri, selected = sys.argv[1], sys.argv[2], sys.argv[3:]
conn = libvirt.open(uri)
for f in sorted(glob.glob(os.path.join(here, 'domain-error', '*.xml'))):
    name = os.path.basename(f)[:-4]
    if selected and name not in selected:
        continue
    print('domain-error: ' + name)
    xml = open(f).read()
    try:
        if xml.startswith('<!-- start-error -->'):
            dom = conn.createXML(xml)
            dom.destroy()
        else:
            conn.defineXML(xml).undefine()
        sys.exit('%s was accepted' % f)
    except libvirt.libvirtError as e:
        with open(f[:-4] + '.err', 'w') as out:
            out.write('%d %d\n%s\n' % (e.get_error_code(), e.get_error_domain(),
                                       e.get_error_message()))
PY
