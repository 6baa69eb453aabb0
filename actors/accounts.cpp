#include "actors/accounts.hpp"

#include <cerrno>
#include <string_view>

#include <grp.h>
#include <pwd.h>

namespace virtactor {

namespace {

/// Runs a reentrant getpw*/getgr* call, growing its buffer on ERANGE.
template <class Entry, class Call>
std::optional<Entry> lookup(Call call) {
  std::vector<char> buf(16384);
  Entry e{};
  Entry* found = nullptr;
  int rc;
  while ((rc = call(&e, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (rc != 0 || !found)
    return std::nullopt;
  return e;
}

account_entry of(const passwd& pw) {
  return {pw.pw_name, pw.pw_uid, pw.pw_gid};
}

account_entry of(const group& gr) {
  return {gr.gr_name, gr.gr_gid, 0};
}

/// "+N" (with `forced`) or all digits: the number, below 2^32 - 1.
std::optional<uint32_t> number_of(const std::string& text, bool forced) {
  std::string_view digits = text;
  if (forced) {
    if (digits.empty() || digits[0] != '+')
      return std::nullopt;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 10 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  uint64_t n = 0;
  for (char c : digits)
    n = n * 10 + static_cast<uint64_t>(c - '0');
  if (n >= 0xFFFFFFFFu)
    return std::nullopt;
  return static_cast<uint32_t>(n);
}

/// libvirt's reading: "+N" as it is, else a name, else digits as a number.
template <class ById, class ByName>
std::optional<account_entry> parse(const std::string& text, ById by_id, ByName by_name,
                                   bool number_is_own_group) {
  auto numbered = [&](uint32_t n) {
    return by_id(n).value_or(account_entry{"", n, number_is_own_group ? n : 0});
  };
  if (auto n = number_of(text, true))
    return numbered(*n);
  if (auto e = by_name(text))
    return e;
  if (auto n = number_of(text, false))
    return numbered(*n);
  return std::nullopt;
}

} // namespace

std::optional<account_entry> user_by_name(const std::string& name) {
  auto pw = lookup<passwd>([&](passwd* e, char* b, size_t n, passwd** f) {
    return ::getpwnam_r(name.c_str(), e, b, n, f);
  });
  return pw ? std::optional{of(*pw)} : std::nullopt;
}

std::optional<account_entry> user_by_id(uint32_t uid) {
  auto pw = lookup<passwd>(
    [&](passwd* e, char* b, size_t n, passwd** f) { return ::getpwuid_r(uid, e, b, n, f); });
  return pw ? std::optional{of(*pw)} : std::nullopt;
}

std::optional<account_entry> group_by_name(const std::string& name) {
  auto gr = lookup<group>([&](group* e, char* b, size_t n, group** f) {
    return ::getgrnam_r(name.c_str(), e, b, n, f);
  });
  return gr ? std::optional{of(*gr)} : std::nullopt;
}

std::optional<account_entry> group_by_id(uint32_t gid) {
  auto gr = lookup<group>(
    [&](group* e, char* b, size_t n, group** f) { return ::getgrgid_r(gid, e, b, n, f); });
  return gr ? std::optional{of(*gr)} : std::nullopt;
}

std::optional<account_entry> parse_user(const std::string& text) {
  return parse(text, user_by_id, user_by_name, true);
}

std::optional<account_entry> parse_group(const std::string& text) {
  return parse(text, group_by_id, group_by_name, false);
}

std::vector<uint32_t> group_list(const std::string& user, uint32_t gid) {
  std::vector<uint32_t> out{gid};
  if (user.empty())
    return out;
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (::getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count) + 64);
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<size_t>(count));
  for (auto g : groups)
    if (g != gid)
      out.push_back(g);
  return out;
}

} // namespace virtactor
