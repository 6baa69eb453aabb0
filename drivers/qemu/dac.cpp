#include "drivers/qemu/dac.hpp"

#include <cerrno>
#include <cstring>
#include <set>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/qemu/capabilities.hpp"

namespace virtactor::drivers::qemu {

namespace {

virt_error conf_error(const std::string& what) {
  return make_virt_error(error_code::conf_syntax, error_domain::qemu,
                         "configuration file syntax error: " + what);
}

/// A passwd or group entry, copied out of libc's buffers.
struct entry {
  std::string name;
  uint32_t id = 0;
  uint32_t primary_gid = 0; ///< passwd only
};

std::optional<entry> user_by_name(const std::string& name) {
  std::vector<char> buf(16384);
  passwd pw{}, *out = nullptr;
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &out) != 0 || !out)
    return std::nullopt;
  return entry{pw.pw_name, pw.pw_uid, pw.pw_gid};
}

std::optional<entry> user_by_id(uint32_t uid) {
  std::vector<char> buf(16384);
  passwd pw{}, *out = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &out) != 0 || !out)
    return std::nullopt;
  return entry{pw.pw_name, pw.pw_uid, pw.pw_gid};
}

std::optional<entry> group_by_name(const std::string& name) {
  std::vector<char> buf(65536);
  group gr{}, *out = nullptr;
  if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &out) != 0 || !out)
    return std::nullopt;
  return entry{gr.gr_name, gr.gr_gid, 0};
}

std::optional<entry> group_by_id(uint32_t gid) {
  std::vector<char> buf(65536);
  group gr{}, *out = nullptr;
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &out) != 0 || !out)
    return std::nullopt;
  return entry{gr.gr_name, gr.gr_gid, 0};
}

/// "+N" or all digits: a number.
std::optional<uint32_t> number_of(const std::string& text, bool plus_only) {
  std::string digits = text;
  if (!digits.empty() && digits[0] == '+')
    digits.erase(0, 1);
  else if (plus_only)
    return std::nullopt;
  if (digits.empty() || digits.size() > 10 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto n = std::stoull(digits);
  if (n >= 0xffffffffull)
    return std::nullopt;
  return static_cast<uint32_t>(n);
}

/// libvirt's reading of a user: "+N" is the number N as it is; a name is
/// looked up, and a name that is all digits and not found is a number.
result<entry> parse_user(const std::string& text) {
  if (auto n = number_of(text, true))
    return user_by_id(*n).value_or(entry{"", *n, *n});
  if (auto e = user_by_name(text))
    return *e;
  if (auto n = number_of(text, false))
    return user_by_id(*n).value_or(entry{"", *n, *n});
  return conf_error("qemu_user: the user '" + text + "' does not exist");
}

result<entry> parse_group(const std::string& text) {
  if (auto n = number_of(text, true))
    return group_by_id(*n).value_or(entry{"", *n, 0});
  if (auto e = group_by_name(text))
    return *e;
  if (auto n = number_of(text, false))
    return group_by_id(*n).value_or(entry{"", *n, 0});
  return conf_error("qemu_group: the group '" + text + "' does not exist");
}

/// initgroups' list for `user` with primary group `gid` (and `gid` itself).
std::vector<uint32_t> group_list(const std::string& user, uint32_t gid) {
  std::vector<uint32_t> out{gid};
  if (user.empty())
    return out;
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (::getgrouplist(user.c_str(), gid, groups.data(), &count) < 0)
    groups.resize(static_cast<size_t>(count) + 64), count = static_cast<int>(groups.size());
  groups.resize(static_cast<size_t>(count));
  for (auto g : groups)
    if (g != gid)
      out.push_back(g);
  return out;
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
      auto u = parse_user(*user);
      if (!u)
        return u.error();
      if (u->id != a.uid)
        return conf_error("qemu_user '" + *user + "': a daemon that does not run as root runs "
                          "QEMU as its own user (uid " + std::to_string(a.uid) +
                          "); remove the key");
    }
    if (group) {
      auto g = parse_group(*group);
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
  std::optional<entry> u;
  if (user) {
    auto parsed = parse_user(*user);
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
      u = entry{"root", 0, 0};
    }
  }
  std::optional<entry> g;
  if (group) {
    auto parsed = parse_group(*group);
    if (!parsed)
      return parsed.error();
    g = *parsed;
  } else if (!user && u->id != 0) {
    // The default account: its group of the same name, else its primary one.
    g = group_by_name(default_qemu_account);
  }
  if (!g)
    g = group_by_id(u->primary_gid).value_or(entry{"", u->primary_gid, 0});
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
