#!/bin/bash
# Regenerates the expected outputs under this directory from the real libvirt
# test driver (libvirt 9.0): virsh for documents, python3-libvirt for the
# error code and domain of refused inputs. Run it from anywhere; it rewrites
# the *.out.xml, *.live.xml and *.err files next to their inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
uri=test:///default
mark='@@virtactor-split@@'

# split N: prints the Nth (0-based) part of stdin between marker lines, less
# the blank line virsh prints after each document.
split() {
  awk -v want="$1" -v mark="$mark" '
    $0 == mark { n++; next }
    n == want { if (held) print last; last = $0; held = 1 }
    END { if (held && last != "") print last }'
}

name_of() { sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$1" | head -n1; }

for f in "$here"/domain/*.xml; do
  case "$f" in *.out.xml|*.live.xml|*.again.xml) continue ;; esac
  base=${f%.xml}; name=$(name_of "$f")
  out=$(virsh -c "$uri" "define $f; echo $mark; dumpxml $name; echo $mark; start $name; echo $mark; dumpxml --security-info $name")
  printf '%s\n' "$out" | split 1 > "$base.out.xml"
  printf '%s\n' "$out" | split 3 > "$base.live.xml"
  [ -s "$base.out.xml" ] && [ -s "$base.live.xml" ] || { echo "capture failed: $f" >&2; exit 1; }
  # libvirt does not always print its own output back unchanged; keep what
  # it prints the second time when that differs.
  virsh -c "$uri" "define $base.out.xml; echo $mark; dumpxml $name" | split 1 > "$base.again.xml"
  if cmp -s "$base.out.xml" "$base.again.xml"; then rm "$base.again.xml"; fi
done

for f in "$here"/network/*.xml; do
  case "$f" in *.out.xml) continue ;; esac
  base=${f%.xml}; name=$(name_of "$f")
  virsh -c "$uri" "net-define $f; echo $mark; net-dumpxml $name" | split 1 > "$base.out.xml"
done

for f in "$here"/pool/*.xml; do
  case "$f" in *.out.xml) continue ;; esac
  base=${f%.xml}; name=$(name_of "$f")
  virsh -c "$uri" "pool-define $f; echo $mark; pool-dumpxml $name" | split 1 > "$base.out.xml"
done

for f in "$here"/volume/*.xml; do
  case "$f" in *.out.xml) continue ;; esac
  base=${f%.xml}; name=$(name_of "$f")
  virsh -c "$uri" "vol-create default-pool $f; echo $mark; vol-dumpxml --pool default-pool $name" \
    | split 1 > "$base.out.xml"
done

# vol-create-as: one line per case, "NAME SIZE [options]".
while read -r name args; do
  [ -z "$name" ] && continue
  virsh -c "$uri" "vol-create-as default-pool $name $args; echo $mark; vol-dumpxml --pool default-pool $name" \
    | split 1 > "$here/volume-create-as/$name.out.xml"
done < "$here/volume-create-as/cases.txt"

# Refused inputs: "CODE DOMAIN" on the first line, the message after it.
/usr/bin/python3 - "$here" <<'PY'
import glob, os, sys
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
here = sys.argv[1]
calls = {
    'domain-error': lambda c, x: c.defineXML(x),
    'network-error': lambda c, x: c.networkDefineXML(x),
    'pool-error': lambda c, x: c.storagePoolDefineXML(x),
    'volume-error': lambda c, x: c.storagePoolLookupByName('default-pool').createXML(x),
}
for kind, call in calls.items():
    for f in sorted(glob.glob(os.path.join(here, kind, '*.xml'))):
        c = libvirt.open('test:///default')
        try:
            call(c, open(f).read())
            sys.exit('%s was accepted' % f)
        except libvirt.libvirtError as e:
            with open(f[:-4] + '.err', 'w') as out:
                out.write('%d %d\n%s\n' % (e.get_error_code(), e.get_error_domain(),
                                           e.get_error_message()))
        c.close()
PY
