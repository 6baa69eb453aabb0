/// Users and groups by name or number, read as libvirt reads them in its
/// config files (virGetUserID, virGetGroupID): "+N" is the number N as it
/// is; otherwise a name is looked up, and a name that is all digits and
/// not found is a number. Pure libc (the reentrant getpw*/getgr* calls).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtactor {

/// A passwd or group entry, copied out of libc's buffers.
struct account_entry {
  std::string name; ///< empty for a number that names no entry
  uint32_t id = 0;
  uint32_t primary_gid = 0; ///< users only: the passwd entry's group
};

std::optional<account_entry> user_by_name(const std::string& name);
std::optional<account_entry> user_by_id(uint32_t uid);
std::optional<account_entry> group_by_name(const std::string& name);
std::optional<account_entry> group_by_id(uint32_t gid);

/// A user as libvirt's config reads it (see above); a number without an
/// entry has itself as primary group. Empty: no such user.
std::optional<account_entry> parse_user(const std::string& text);

/// A group as libvirt's config reads it (see above). Empty: no such group.
std::optional<account_entry> parse_group(const std::string& text);

/// initgroups' list for `user` with primary group `gid`: `gid` first, then
/// the other groups it is a member of (`gid` alone for an empty name).
std::vector<uint32_t> group_list(const std::string& user, uint32_t gid);

} // namespace virtactor
