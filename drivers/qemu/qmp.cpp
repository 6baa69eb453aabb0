#include "drivers/qemu/qmp.hpp"

#include <nlohmann/json.hpp>

namespace virtactor::qemu::qmp {

namespace {

using json = nlohmann::json;

virt_error internal(std::string text) {
  return make_virt_error(error_code::internal_error, error_domain::qemu,
                         "internal error: " + std::move(text));
}

/// A line for an error message: long lines are cut, so that a 16 MiB reply
/// does not become a 16 MiB error.
std::string excerpt(std::string_view line) {
  constexpr std::size_t limit = 256;
  if (line.size() <= limit)
    return std::string{line};
  return std::string{line.substr(0, limit)} + "...";
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// nlohmann's exception text without its "[json.exception.parse_error.101] " tag.
std::string parse_detail(const std::exception& e) {
  std::string_view what = e.what();
  if (!what.empty() && what.front() == '[')
    if (auto end = what.find("] "); end != std::string_view::npos)
      what.remove_prefix(end + 2);
  return std::string{what};
}

result<json> parse_json(std::string_view line) {
  bool too_deep = false;
  json::parser_callback_t depth_check = [&too_deep](int depth, json::parse_event_t event,
                                                    json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start)
        && depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return !too_deep;
  };
  json j;
  try {
    j = json::parse(line.begin(), line.end(), depth_check);
  } catch (const json::exception& e) {
    // parse_error for bad syntax, out_of_range for a number past a double's
    // range (1e400): either is a broken reply, never an escaping exception.
    return internal("cannot parse json " + excerpt(line) + ": " + parse_detail(e));
  }
  if (too_deep)
    return internal("cannot parse json " + excerpt(line) + ": nested deeper than "
                    + std::to_string(max_depth) + " levels");
  return j;
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

} // namespace

result<message> parse_line(std::string_view line) {
  auto parsed = parse_json(line);
  if (!parsed)
    return parsed.error();
  const json& j = *parsed;
  if (!j.is_object())
    return internal("Parsed JSON reply '" + excerpt(line) + "' isn't an object");
  auto unknown = [&] { return internal("Unknown JSON reply '" + excerpt(line) + "'"); };
  message m;
  if (auto id = j.find("id"); id != j.end())
    m.id = dump(*id);
  if (auto qmp = j.find("QMP"); qmp != j.end()) {
    if (!qmp->is_object())
      return unknown();
    m.kind = message_kind::greeting;
    m.json = dump(*qmp);
    return m;
  }
  if (auto ev = j.find("event"); ev != j.end()) {
    if (!ev->is_string())
      return unknown();
    m.kind = message_kind::event;
    m.event = ev->get<std::string>();
    if (auto data = j.find("data"); data != j.end())
      m.json = dump(*data);
    if (auto ts = j.find("timestamp"); ts != j.end()) {
      if (!ts->is_object())
        return unknown();
      auto s = ts->find("seconds");
      auto us = ts->find("microseconds");
      if (s == ts->end() || us == ts->end() || !s->is_number_integer()
          || !us->is_number_integer())
        return unknown();
      m.seconds = s->get<int64_t>();
      m.microseconds = us->get<int64_t>();
    }
    return m;
  }
  if (auto ret = j.find("return"); ret != j.end()) {
    m.kind = message_kind::reply;
    m.json = dump(*ret);
    return m;
  }
  if (auto err = j.find("error"); err != j.end()) {
    m.kind = message_kind::error;
    if (err->is_object()) {
      if (auto c = err->find("class"); c != err->end() && c->is_string())
        m.error_class = c->get<std::string>();
      if (auto d = err->find("desc"); d != err->end() && d->is_string())
        m.error_desc = d->get<std::string>();
    }
    return m;
  }
  return unknown();
}

result<void> reader::feed(std::string_view bytes, std::vector<message>& out) {
  if (failed_)
    return *failed_;
  buf_.append(bytes);
  auto fail = [this](virt_error e) -> result<void> {
    failed_ = e;
    buf_.clear();
    buf_.shrink_to_fit();
    start_ = scanned_ = 0;
    return e;
  };
  auto too_long = [this] {
    return internal("QEMU monitor reply exceeds buffer size (" + std::to_string(max_line_)
                    + " bytes)");
  };
  for (;;) {
    auto nl = buf_.find('\n', start_ + scanned_);
    if (nl == std::string::npos) {
      scanned_ = buf_.size() - start_;
      // A '\r' at the end may be the first half of the line end.
      if (scanned_ - (scanned_ > 0 && buf_.back() == '\r' ? 1 : 0) > max_line_)
        return fail(too_long());
      break;
    }
    std::string_view line{buf_.data() + start_, nl - start_};
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    start_ = nl + 1;
    scanned_ = 0;
    if (line.size() > max_line_)
      return fail(too_long());
    if (is_blank(line))
      continue;
    auto m = parse_line(line);
    if (!m)
      return fail(m.error());
    out.push_back(std::move(*m));
  }
  if (start_ > 0) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  return {};
}

result<std::string> encode_command(std::string_view name, std::string_view arguments,
                                   uint64_t id) {
  if (name.empty())
    return internal("cannot encode a QEMU command without a name");
  nlohmann::ordered_json cmd;
  cmd["execute"] = std::string{name};
  if (!is_blank(arguments)) {
    auto args = parse_json(arguments);
    if (!args) {
      std::string_view why = args.error().message;
      if (why.starts_with("internal error: "))
        why.remove_prefix(16);
      return internal("invalid arguments for QEMU command '" + std::string{name}
                      + "': " + std::string{why});
    }
    if (!args->is_object())
      return internal("invalid arguments for QEMU command '" + std::string{name}
                      + "': not a JSON object");
    cmd["arguments"] = std::move(*args);
  }
  cmd["id"] = id;
  return cmd.dump(-1, ' ', false, json::error_handler_t::replace) + "\r\n";
}

std::string id_text(uint64_t id) {
  return std::to_string(id);
}

virt_error command_error(std::string_view command, const message& reply) {
  // libvirt reports QEMU's description only when a class came with it.
  std::string detail = !reply.error_class.empty() && !reply.error_desc.empty()
                         ? reply.error_desc
                         : std::string{"unknown QEMU command error"};
  return internal("unable to execute QEMU command '" + std::string{command} + "': " + detail);
}

} // namespace virtactor::qemu::qmp
