#include "client/shell/virsh_commands.hpp"

#include <algorithm>
#include <iterator>

namespace virtactor::client::shell {

namespace {

/// Every command name virsh 9.0 accepts (`virsh help`, its aliases and its
/// hidden commands), sorted.
constexpr std::string_view virsh_commands[] = {
    "allocpages", "attach-device", "attach-disk", "attach-interface", "autostart", "backup-begin",
    "backup-dumpxml", "blkdeviotune", "blkiotune", "blockcommit", "blockcopy", "blockjob",
    "blockpull", "blockresize", "capabilities", "cd", "change-media", "checkpoint-create",
    "checkpoint-create-as", "checkpoint-delete", "checkpoint-dumpxml", "checkpoint-edit",
    "checkpoint-info", "checkpoint-list", "checkpoint-parent", "connect", "console",
    "cpu-baseline", "cpu-compare", "cpu-models", "cpu-stats", "create", "define", "desc",
    "destroy", "detach-device", "detach-device-alias", "detach-disk", "detach-interface",
    "dom-fd-associate", "domblkerror", "domblkinfo", "domblklist", "domblkstat",
    "domblkthreshold", "domcapabilities", "domcontrol", "domdirtyrate-calc", "domdisplay",
    "domfsfreeze", "domfsinfo", "domfsthaw", "domfstrim", "domhostname", "domid", "domif-getlink",
    "domif-setlink", "domifaddr", "domiflist", "domifstat", "domiftune", "dominfo", "domjobabort",
    "domjobinfo", "domlaunchsecinfo", "dommemstat", "domname", "dompmsuspend", "dompmwakeup",
    "domrename", "domsetlaunchsecstate", "domstate", "domstats", "domtime", "domuuid",
    "domxml-from-native", "domxml-to-native", "dump", "dumpxml", "echo", "edit", "emulatorpin",
    "event", "exit", "find-storage-pool-sources", "find-storage-pool-sources-as", "freecell",
    "freepages", "get-user-sshkeys", "guest-agent-timeout", "guestinfo", "guestvcpus", "help",
    "hostname", "hypervisor-cpu-baseline", "hypervisor-cpu-compare", "iface-begin",
    "iface-bridge", "iface-commit", "iface-define", "iface-destroy", "iface-dumpxml",
    "iface-edit", "iface-list", "iface-mac", "iface-name", "iface-rollback", "iface-start",
    "iface-unbridge", "iface-undefine", "inject-nmi", "iothreadadd", "iothreaddel",
    "iothreadinfo", "iothreadpin", "iothreadset", "list", "lxc-enter-namespace", "managedsave",
    "managedsave-define", "managedsave-dumpxml", "managedsave-edit", "managedsave-remove",
    "maxvcpus", "memtune", "metadata", "migrate", "migrate-compcache", "migrate-getmaxdowntime",
    "migrate-getspeed", "migrate-postcopy", "migrate-setmaxdowntime", "migrate-setspeed",
    "net-autostart", "net-create", "net-define", "net-destroy", "net-dhcp-leases", "net-dumpxml",
    "net-edit", "net-event", "net-info", "net-list", "net-name", "net-port-create",
    "net-port-delete", "net-port-dumpxml", "net-port-list", "net-start", "net-undefine",
    "net-update", "net-uuid", "node-memory-tune", "nodecpumap", "nodecpustats",
    "nodedev-autostart", "nodedev-create", "nodedev-define", "nodedev-destroy", "nodedev-detach",
    "nodedev-dettach", "nodedev-dumpxml", "nodedev-event", "nodedev-info", "nodedev-list",
    "nodedev-reattach", "nodedev-reset", "nodedev-start", "nodedev-undefine", "nodeinfo",
    "nodememstats", "nodesevinfo", "nodesuspend", "numatune", "nwfilter-binding-create",
    "nwfilter-binding-delete", "nwfilter-binding-dumpxml", "nwfilter-binding-list",
    "nwfilter-define", "nwfilter-dumpxml", "nwfilter-edit", "nwfilter-list", "nwfilter-undefine",
    "perf", "pool-autostart", "pool-build", "pool-capabilities", "pool-create", "pool-create-as",
    "pool-define", "pool-define-as", "pool-delete", "pool-destroy", "pool-dumpxml", "pool-edit",
    "pool-event", "pool-info", "pool-list", "pool-name", "pool-refresh", "pool-start",
    "pool-undefine", "pool-uuid", "pwd", "qemu-agent-command", "qemu-attach",
    "qemu-monitor-command", "qemu-monitor-event", "quit", "reboot", "reset", "restore", "resume",
    "save", "save-image-define", "save-image-dumpxml", "save-image-edit", "schedinfo",
    "screenshot", "secret-define", "secret-dumpxml", "secret-event", "secret-get-value",
    "secret-list", "secret-set-value", "secret-undefine", "self-test", "send-key",
    "send-process-signal", "set-lifecycle-action", "set-user-password", "set-user-sshkeys",
    "setmaxmem", "setmem", "setvcpu", "setvcpus", "shutdown", "snapshot-create",
    "snapshot-create-as", "snapshot-current", "snapshot-delete", "snapshot-dumpxml",
    "snapshot-edit", "snapshot-info", "snapshot-list", "snapshot-parent", "snapshot-revert",
    "start", "suspend", "sysinfo", "ttyconsole", "undefine", "update-device",
    "update-memory-device", "uri", "vcpucount", "vcpuinfo", "vcpupin", "version", "vncdisplay",
    "vol-clone", "vol-create", "vol-create-as", "vol-create-from", "vol-delete", "vol-download",
    "vol-dumpxml", "vol-info", "vol-key", "vol-list", "vol-name", "vol-path", "vol-pool",
    "vol-resize", "vol-upload", "vol-wipe",
};

} // namespace

bool is_virsh_command(std::string_view name) {
  return std::binary_search(std::begin(virsh_commands), std::end(virsh_commands), name);
}

} // namespace virtactor::client::shell
