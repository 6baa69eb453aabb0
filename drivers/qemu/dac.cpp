#include "drivers/qemu/dac.hpp"

#include <cerrno>
#include <cstring>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

#include "actors/accounts.hpp"
#include "drivers/qemu/capabilities.hpp"

namespace virtactor::drivers::qemu {

namespace {

virt_error conf_error(const std::string& what) {
  return make_virt_error(error_code::conf_syntax, error_domain::qemu,
                         "configuration file syntax error: " + what);
}

/// libvirt's reading of a user or group (actors/accounts.hpp), or the
/// error that stops the daemon.
result<account_entry> user_or_error(const std::string& text) {
  if (auto e = virtactor::parse_user(text))
    return *e;
  return conf_error("qemu_user: the user '" + text + "' does not exist");
}

result<account_entry> group_or_error(const std::string& text) {
  if (auto e = virtactor::parse_group(text))
    return *e;
  return conf_error("qemu_group: the group '" + text + "' does not exist");
}

} // namespace

result<qemu_account> resolve_qemu_account(bool privileged, const std::optional<std::string>& user,
                                          const std::optional<std::string>& group,
                                          std::vector<std::string>& warnings) {
  qemu_account a;
  if (!privileged) {
    // A user's daemon cannot change ids: QEMU runs as the daemon's user.
    a.uid = ::geteuid();
    a.gid = ::getegid();
    auto me = user_by_id(a.uid);
    a.user = me ? me->name : "";
    auto my_group = group_by_id(a.gid);
    a.group = my_group ? my_group->name : "";
    if (user) {
      auto u = user_or_error(*user);
      if (!u)
        return u.error();
      if (u->id != a.uid)
        return conf_error("qemu_user '" + *user + "': a daemon that does not run as root runs "
                          "QEMU as its own user (uid " + std::to_string(a.uid) +
                          "); remove the key");
    }
    if (group) {
      auto g = group_or_error(*group);
      if (!g)
        return g.error();
      if (g->id != a.gid)
        return conf_error("qemu_group '" + *group + "': a daemon that does not run as root "
                          "runs QEMU with its own group (gid " + std::to_string(a.gid) +
                          "); remove the key");
    }
    std::vector<gid_t> mine(static_cast<size_t>(std::max(0, ::getgroups(0, nullptr))));
    int n = ::getgroups(static_cast<int>(mine.size()), mine.data());
    a.groups.push_back(a.gid);
    for (int i = 0; i < n; ++i)
      if (mine[static_cast<size_t>(i)] != a.gid)
        a.groups.push_back(mine[static_cast<size_t>(i)]);
    return a;
  }
  std::optional<account_entry> u;
  if (user) {
    auto parsed = user_or_error(*user);
    if (!parsed)
      return parsed.error();
    u = *parsed;
  } else {
    u = user_by_name(default_qemu_account);
    if (!u) {
      if (!group)
        warnings.push_back(std::string{"the account '"} + default_qemu_account +
                           "' does not exist: QEMU runs as root (set qemu_user and qemu_group "
                           "to run it as another account)");
      u = account_entry{"root", 0, 0};
    }
  }
  std::optional<account_entry> g;
  if (group) {
    auto parsed = group_or_error(*group);
    if (!parsed)
      return parsed.error();
    g = *parsed;
  } else if (!user && u->id != 0) {
    // The default account: its group of the same name, else its primary one.
    g = group_by_name(default_qemu_account);
  }
  if (!g)
    g = group_by_id(u->primary_gid).value_or(account_entry{"", u->primary_gid, 0});
  a.user = u->name;
  a.uid = u->id;
  a.group = g->name;
  a.gid = g->id;
  a.groups = group_list(a.user, a.gid);
  return a;
}

virtactor::qemu::run_as run_as_of(const qemu_account& a) {
  return virtactor::qemu::run_as{a.uid, a.gid, a.groups};
}

std::vector<dac_target> dac_targets(const xml::domain_def& live) {
  std::vector<dac_target> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& path, bool restore) {
    if (path.empty())
      return;
    if (!seen.insert(path).second) {
      // A path twice: restored unless some use of it is shareable.
      for (auto& t : out)
        if (t.path == path)
          t.restore = t.restore && restore;
      return;
    }
    out.push_back(dac_target{path, restore});
  };
  for (auto& d : live.devices.disks)
    if (d.type == "file" || d.type == "block")
      add(d.source, !d.shareable);
  for (auto& r : live.devices.rngs)
    if (r.backend_model == "random" && !r.backend.empty() && r.backend != "/dev/random" &&
        r.backend != "/dev/urandom")
      add(r.backend, true);
  return out;
}

bool kvm_usable_by(const driver_config& cfg, const std::string& device) {
  if (!virtactor::qemu::kvm_usable(device))
    return false;
  if (!cfg.privileged || cfg.account.uid == ::geteuid())
    return true;
  auto r = virtactor::qemu::access_as(run_as_of(cfg.account), {device}, R_OK | W_OK);
  return r && r->size() == 1 && (*r)[0] == 0;
}

result<std::vector<file_owner>> dac_prepare(const xml::domain_def& live,
                                            const driver_config& cfg) {
  std::vector<file_owner> owners;
  if (!cfg.privileged)
    return owners;
  auto targets = dac_targets(live);
  if (targets.empty())
    return owners;
  auto& acct = cfg.account;
  if (acct.uid != 0) {
    // libvirt's check before start: QEMU's account must reach each file
    // (search rights on the folders on the way); the owner of the file
    // itself is what relabelling fixes.
    std::vector<std::string> paths;
    for (auto& t : targets)
      paths.push_back(t.path);
    auto reach = virtactor::qemu::access_as(run_as_of(acct), paths, F_OK);
    if (!reach)
      return reach.error();
    for (size_t i = 0; i < paths.size(); ++i)
      if ((*reach)[i] != 0)
        return make_virt_error(error_code::system_error, error_domain::qemu,
                               "Cannot access storage file '" + paths[i] + "' (as uid:" +
                                 std::to_string(acct.uid) + ", gid:" +
                                 std::to_string(acct.gid) + "): " +
                                 std::strerror((*reach)[i]));
  }
  if (!cfg.dynamic_ownership)
    return owners;
  for (auto& t : targets) {
    struct stat st {};
    int err = ::stat(t.path.c_str(), &st) == 0 ? 0 : errno;
    if (err == 0 && (st.st_uid != acct.uid || st.st_gid != acct.gid) &&
        ::chown(t.path.c_str(), acct.uid, acct.gid) != 0)
      err = errno;
    if (err != 0) {
      dac_restore(owners);
      return make_virt_error(error_code::system_error, error_domain::qemu,
                             "unable to set user and group to '" + std::to_string(acct.uid) +
                               ":" + std::to_string(acct.gid) + "' on '" + t.path +
                               "': " + std::strerror(err));
    }
    if (t.restore)
      owners.push_back(file_owner{t.path, st.st_uid, st.st_gid});
  }
  return owners;
}

void dac_restore(const std::vector<file_owner>& owners) {
  // In reverse: a path listed twice ends with its first (original) owner.
  for (auto it = owners.rbegin(); it != owners.rend(); ++it)
    (void) ::chown(it->path.c_str(), it->uid, it->gid);
}

} // namespace virtactor::drivers::qemu
