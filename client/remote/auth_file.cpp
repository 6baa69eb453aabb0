#include "client/remote/auth_file.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include <unistd.h>

namespace virtactor::client {

namespace {

std::string trim(std::string s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.back()))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && blank(s[i]))
    ++i;
  return s.substr(i);
}

/// GKeyFile's shape: `[group]` lines, `key=value` lines, `#` comments.
using key_file = std::map<std::string, std::map<std::string, std::string>>;

key_file parse(const std::string& text) {
  key_file out;
  std::istringstream in{text};
  std::string line, group;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#')
      continue;
    if (line.front() == '[' && line.back() == ']') {
      group = line.substr(1, line.size() - 2);
      out[group];
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos || group.empty())
      continue;
    out[group][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

std::optional<std::string> value(const key_file& f, const std::string& group,
                                 const std::string& key) {
  auto g = f.find(group);
  if (g == f.end())
    return std::nullopt;
  auto k = g->second.find(key);
  if (k == g->second.end())
    return std::nullopt;
  return k->second;
}

std::optional<std::string> key_of(credential_type t) {
  switch (t) {
    case credential_type::username:
      return "username";
    case credential_type::authname:
      return "authname";
    case credential_type::passphrase:
      return "password";
    case credential_type::realm:
      return "realm";
    default:
      return std::nullopt;
  }
}

/// libvirt's virAuthGetConfigFilePathURI.
std::optional<std::string> find_file(const remote_target& t) {
  std::vector<std::string> candidates;
  if (t.authfile)
    return *t.authfile;
  if (const char* env = std::getenv("LIBVIRT_AUTH_FILE"))
    return std::string{env};
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    candidates.push_back(std::string{xdg} + "/libvirt/auth.conf");
  else if (const char* home = std::getenv("HOME"); home && *home)
    candidates.push_back(std::string{home} + "/.config/libvirt/auth.conf");
  candidates.push_back("/etc/libvirt/auth.conf");
  for (auto& c : candidates)
    if (::access(c.c_str(), R_OK) == 0)
      return c;
  return std::nullopt;
}

} // namespace

std::optional<std::string> auth_file_lookup(const std::string& text, const std::string& host,
                                            const std::string& key) {
  auto f = parse(text);
  auto creds = value(f, "auth-libvirt-" + host, "credentials");
  if (!creds)
    creds = value(f, "auth-libvirt-default", "credentials");
  if (!creds)
    return std::nullopt;
  return value(f, "credentials-" + *creds, key);
}

std::shared_ptr<const connect_auth> with_auth_file(std::shared_ptr<const connect_auth> caller,
                                                   const remote_target& t) {
  auto path = find_file(t);
  if (!path)
    return caller;
  std::ifstream in{*path};
  if (!in)
    return caller;
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto out = std::make_shared<connect_auth>();
  if (caller)
    out->types = caller->types;
  for (auto type : {credential_type::username, credential_type::authname,
                    credential_type::passphrase, credential_type::realm}) {
    bool listed = false;
    for (auto x : out->types)
      listed = listed || x == type;
    if (!listed && auth_file_lookup(text, t.host, *key_of(type)))
      out->types.push_back(type);
  }
  out->callback = [caller, text, host = t.host](std::vector<credential>& creds) {
    std::vector<credential> rest;
    std::vector<size_t> rest_at;
    for (size_t i = 0; i < creds.size(); ++i) {
      auto key = key_of(creds[i].type);
      if (key)
        if (auto v = auth_file_lookup(text, host, *key)) {
          creds[i].result = *v;
          continue;
        }
      rest.push_back(creds[i]);
      rest_at.push_back(i);
    }
    if (rest.empty())
      return true;
    if (!caller || !caller->callback || !caller->callback(rest))
      return false;
    for (size_t i = 0; i < rest.size(); ++i)
      creds[rest_at[i]].result = std::move(rest[i].result);
    return true;
  };
  return out;
}

} // namespace virtactor::client
