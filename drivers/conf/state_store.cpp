#include "drivers/conf/state_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtactor::drivers::conf {

namespace {

/// The largest document `load` reads (a domain definition is a few KiB).
constexpr off_t max_document = off_t{64} << 20;

/// Marks a temporary: ".NAME.tmp-XXXXXX" (the Xs are mkostemp's).
constexpr std::string_view temp_marker = ".tmp-";

virt_error sys_error(const std::string& what, int err) {
  return make_system_error(error_domain::conf, what, err);
}

virt_error bad_name(std::string_view name) {
  return make_virt_error(error_code::internal_error, error_domain::conf,
                         "internal error: invalid document name '" + std::string{name} + "'");
}

/// Creates `path` and its missing parents with `mode`.
result<void> make_path(const std::string& path, mode_t mode) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/')
      continue;
    auto part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
      return sys_error("cannot create directory '" + part + "'", errno);
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    return sys_error("cannot create directory '" + path + "'", errno);
  if (!S_ISDIR(st.st_mode))
    return sys_error("cannot create directory '" + path + "'", ENOTDIR);
  return {};
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    auto n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

class file_store final : public state_store {
public:
  file_store(std::string dir, int dir_fd) : dir_(std::move(dir)), dir_fd_(dir_fd) {}
  ~file_store() override { ::close(dir_fd_); }

  result<void> save(const std::string& name, std::string_view text) override {
    if (!valid_document_name(name))
      return bad_name(name);
    auto target = path_of(name);
    std::string temp = dir_ + "/." + name + std::string{temp_marker} + "XXXXXX";
    int fd = ::mkostemp(temp.data(), O_CLOEXEC); // mode 0600
    if (fd < 0)
      return sys_error("cannot create file '" + temp + "'", errno);
    auto fail = [&](const std::string& what, int err) -> result<void> {
      ::close(fd);
      ::unlink(temp.c_str());
      return sys_error(what, err);
    };
    if (!write_all(fd, text))
      return fail("cannot write data to file '" + temp + "'", errno);
    if (::fsync(fd) != 0)
      return fail("cannot sync file '" + temp + "'", errno);
    if (::close(fd) != 0) {
      int err = errno;
      ::unlink(temp.c_str());
      return sys_error("cannot save file '" + temp + "'", err);
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
      int err = errno;
      ::unlink(temp.c_str());
      return sys_error("cannot rename file '" + temp + "' as '" + target + "'", err);
    }
    return sync_dir();
  }

  result<std::optional<std::string>> load(const std::string& name) const override {
    if (!valid_document_name(name))
      return bad_name(name);
    auto path = path_of(name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT)
        return std::optional<std::string>{};
      return sys_error("Failed to open file '" + path + "'", errno);
    }
    std::string text;
    struct stat st{};
    if (::fstat(fd, &st) == 0 && st.st_size > max_document) {
      ::close(fd);
      return make_virt_error(error_code::internal_error, error_domain::conf,
                             "internal error: file '" + path + "' is larger than "
                               + std::to_string(max_document) + " bytes");
    }
    char buf[8192];
    for (;;) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return sys_error("Failed to read file '" + path + "'", err);
      }
      if (n == 0)
        break;
      text.append(buf, static_cast<size_t>(n));
      if (static_cast<off_t>(text.size()) > max_document) {
        ::close(fd);
        return make_virt_error(error_code::internal_error, error_domain::conf,
                               "internal error: file '" + path + "' is larger than "
                                 + std::to_string(max_document) + " bytes");
      }
    }
    ::close(fd);
    return std::optional<std::string>{std::move(text)};
  }

  result<void> remove(const std::string& name) override {
    if (!valid_document_name(name))
      return bad_name(name);
    auto path = path_of(name);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT)
        return {};
      return sys_error("cannot remove file '" + path + "'", errno);
    }
    return sync_dir();
  }

  result<std::vector<std::string>> list(std::string_view suffix) const override {
    std::vector<std::string> out;
    auto r = each_entry([&](const char* entry, unsigned char type) {
      std::string_view n{entry};
      if (!valid_document_name(n) || !n.ends_with(suffix))
        return;
      if (type == DT_UNKNOWN || type == DT_LNK) {
        struct stat st{};
        if (::fstatat(dir_fd_, entry, &st, 0) != 0 || !S_ISREG(st.st_mode))
          return;
      } else if (type != DT_REG) {
        return;
      }
      out.emplace_back(n);
    });
    if (!r)
      return r.error();
    std::sort(out.begin(), out.end());
    return out;
  }

  /// Removes temporaries a crash left behind.
  void remove_temporaries() {
    std::vector<std::string> stale;
    (void) each_entry([&](const char* entry, unsigned char) {
      std::string_view n{entry};
      if (n.size() > 1 && n.front() == '.' && n.find(temp_marker) != std::string_view::npos)
        stale.emplace_back(n);
    });
    for (auto& n : stale)
      ::unlinkat(dir_fd_, n.c_str(), 0);
  }

private:
  std::string path_of(const std::string& name) const { return dir_ + "/" + name; }

  result<void> sync_dir() const {
    if (::fsync(dir_fd_) != 0)
      return sys_error("cannot sync directory '" + dir_ + "'", errno);
    return {};
  }

  template <class F>
  result<void> each_entry(F&& f) const {
    int fd = ::openat(dir_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (!d) {
      int err = errno;
      if (fd >= 0)
        ::close(fd);
      return sys_error("cannot open directory '" + dir_ + "'", err);
    }
    while (auto* e = ::readdir(d))
      f(e->d_name, e->d_type);
    ::closedir(d);
    return {};
  }

  std::string dir_;
  int dir_fd_;
};

} // namespace

bool valid_document_name(std::string_view name) {
  return !name.empty() && name.front() != '.' && name.find('/') == std::string_view::npos
         && name.find('\0') == std::string_view::npos;
}

result<std::unique_ptr<state_store>> open_file_store(const std::string& dir) {
  if (dir.empty())
    return make_virt_error(error_code::internal_error, error_domain::conf,
                           "internal error: empty state directory");
  std::string clean = dir;
  while (clean.size() > 1 && clean.back() == '/')
    clean.pop_back();
  if (auto made = make_path(clean, 0700); !made)
    return made.error();
  int fd = ::open(clean.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return sys_error("cannot open directory '" + clean + "'", errno);
  auto store = std::make_unique<file_store>(clean, fd);
  store->remove_temporaries();
  return std::unique_ptr<state_store>{std::move(store)};
}

} // namespace virtactor::drivers::conf
