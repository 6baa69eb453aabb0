#include "actors/sasl.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include <fnmatch.h>
#include <sasl/sasl.h>

namespace virtactor::sasl {

namespace {

/// libvirt's size for one encoded block (`maxbufsize`).
constexpr unsigned max_buffer = 1u << 16;

virt_error auth_error(std::string message) {
  return make_virt_error(error_code::auth_failed, error_domain::rpc,
                         "authentication failed: " + std::move(message));
}

std::string describe(int rc, sasl_conn_t* c) {
  return std::to_string(rc) + " (" + (c ? sasl_errdetail(c) : sasl_errstring(rc, nullptr, nullptr)) +
         ")";
}

result<void> init_once(bool server_side) {
  static std::once_flag server_flag, client_flag;
  static int server_rc = SASL_OK, client_rc = SASL_OK;
  if (server_side)
    std::call_once(server_flag, [] { server_rc = sasl_server_init(nullptr, "libvirt"); });
  else
    std::call_once(client_flag, [] { client_rc = sasl_client_init(nullptr); });
  int rc = server_side ? server_rc : client_rc;
  if (rc != SASL_OK)
    return auth_error("failed to initialize SASL library: " + describe(rc, nullptr));
  return {};
}

const char* or_null(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

} // namespace

/// One `sasl_conn_t` and what must live as long as it.
struct conn {
  sasl_conn_t* c = nullptr;
  std::vector<sasl_callback_t> callbacks;
  std::string local_addr, remote_addr, hostname;
  /// Answers given to SASL's prompts, kept until the step that reads them is done.
  std::deque<std::string> answers;

  ~conn() {
    forget_answers();
    if (c)
      sasl_dispose(&c);
  }

  void forget_answers() {
    for (auto& a : answers)
      std::fill(a.begin(), a.end(), '\0');
    answers.clear();
  }

  result<void> set_security(const security& sec) {
    if (sec.external_ssf > 0) {
      sasl_ssf_t ext = static_cast<sasl_ssf_t>(sec.external_ssf);
      if (int rc = sasl_setprop(c, SASL_SSF_EXTERNAL, &ext); rc != SASL_OK)
        return make_virt_error(error_code::internal_error, error_domain::rpc,
                               "internal error: cannot set external SSF " + describe(rc, c));
    }
    sasl_security_properties_t props{};
    props.min_ssf = static_cast<sasl_ssf_t>(sec.min_ssf);
    props.max_ssf = static_cast<sasl_ssf_t>(sec.max_ssf);
    props.maxbufsize = max_buffer;
    props.security_flags = sec.allow_anonymous ? 0 : SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT;
    if (int rc = sasl_setprop(c, SASL_SEC_PROPS, &props); rc != SASL_OK)
      return make_virt_error(error_code::internal_error, error_domain::rpc,
                             "internal error: cannot set security props " + describe(rc, c));
    return {};
  }

  int ssf() const {
    const void* val = nullptr;
    if (sasl_getprop(c, SASL_SSF, &val) != SASL_OK || !val)
      return -1;
    return static_cast<int>(*static_cast<const sasl_ssf_t*>(val));
  }

  unsigned max_output() const {
    const void* val = nullptr;
    if (sasl_getprop(c, SASL_MAXOUTBUF, &val) != SASL_OK || !val)
      return 4096;
    return std::max(1u, *static_cast<const unsigned*>(val));
  }
};

namespace {

/// The SSF layer of a finished exchange, as a stream codec.
class layer_codec : public stream_codec {
public:
  explicit layer_codec(std::shared_ptr<conn> c) : conn_(std::move(c)), max_(conn_->max_output()) {}

  size_t max_encode() const override { return max_; }

  result<void> encode(const char* data, size_t size, xdr::buffer& out) override {
    while (size > 0) {
      auto n = static_cast<unsigned>(std::min<size_t>(size, max_));
      const char* enc = nullptr;
      unsigned enc_len = 0;
      if (int rc = sasl_encode(conn_->c, data, n, &enc, &enc_len); rc != SASL_OK)
        return make_virt_error(error_code::internal_error, error_domain::rpc,
                               "internal error: failed to encode SASL data: " +
                                 describe(rc, conn_->c));
      out.insert(out.end(), enc, enc + enc_len);
      data += n;
      size -= n;
    }
    return {};
  }

  result<void> decode(const char* data, size_t size, xdr::buffer& out) override {
    while (size > 0) {
      auto n = static_cast<unsigned>(std::min<size_t>(size, max_buffer));
      const char* dec = nullptr;
      unsigned dec_len = 0;
      if (int rc = sasl_decode(conn_->c, data, n, &dec, &dec_len); rc != SASL_OK)
        return make_virt_error(error_code::internal_error, error_domain::rpc,
                               "internal error: failed to decode SASL data: " +
                                 describe(rc, conn_->c));
      if (dec_len > 0)
        out.insert(out.end(), dec, dec + dec_len);
      data += n;
      size -= n;
    }
    return {};
  }

private:
  std::shared_ptr<conn> conn_;
  size_t max_;
};

std::shared_ptr<stream_codec> make_layer(const std::shared_ptr<conn>& c) {
  if (c->ssf() <= 0)
    return nullptr;
  return std::make_shared<layer_codec>(c);
}

result<step_result> outcome(int rc, const char* out, unsigned out_len, sasl_conn_t* c,
                            const char* what) {
  if (rc != SASL_OK && rc != SASL_CONTINUE)
    return auth_error(std::string{what} + ": " + describe(rc, c));
  step_result r;
  r.complete = rc == SASL_OK;
  if (out)
    r.data = std::string(out, out_len);
  return r;
}

/// libvirt's remoteAuthCredVir2SASL / remoteAuthCredSASL2Vir.
constexpr std::pair<credential_type, unsigned long> credential_ids[] = {
  {credential_type::username, SASL_CB_USER},
  {credential_type::authname, SASL_CB_AUTHNAME},
  {credential_type::language, SASL_CB_LANGUAGE},
  {credential_type::cnonce, SASL_CB_CNONCE},
  {credential_type::passphrase, SASL_CB_PASS},
  {credential_type::echoprompt, SASL_CB_ECHOPROMPT},
  {credential_type::noechoprompt, SASL_CB_NOECHOPROMPT},
  {credential_type::realm, SASL_CB_GETREALM},
};

std::optional<credential_type> to_credential(unsigned long id) {
  for (auto& [type, sasl_id] : credential_ids)
    if (sasl_id == id)
      return type;
  return std::nullopt;
}

unsigned long to_sasl(credential_type t) {
  for (auto& [type, sasl_id] : credential_ids)
    if (type == t)
      return sasl_id;
  return 0;
}

} // namespace

security security::for_channel(bool secure, int tls_ssf) {
  security s;
  s.external_ssf = tls_ssf;
  if (!secure) {
    s.min_ssf = 56;      // DES strength: what Kerberos gives
    s.max_ssf = 100000;  // as strong as the mechanism can
    s.allow_anonymous = false;
  }
  return s;
}

bool identity_allowed(const std::string& identity, const std::vector<std::string>& allowed) {
  for (auto& glob : allowed)
    if (::fnmatch(glob.c_str(), identity.c_str(), 0) == 0)
      return true;
  return false;
}

// --- server -----------------------------------------------------------------

result<std::unique_ptr<server>> server::make(const stream_peer& peer, security sec) {
  if (auto ok = init_once(true); !ok)
    return ok.error();
  auto c = std::make_shared<conn>();
  c->local_addr = peer.local_addr;
  c->remote_addr = peer.remote_addr;
  int rc = sasl_server_new("libvirt", nullptr, nullptr, or_null(c->local_addr),
                           or_null(c->remote_addr), nullptr, SASL_SUCCESS_DATA, &c->c);
  if (rc != SASL_OK)
    return auth_error("Failed to create SASL server context: " + describe(rc, nullptr));
  if (auto ok = c->set_security(sec); !ok)
    return ok.error();
  return std::unique_ptr<server>{new server{std::move(c)}};
}

server::~server() = default;

result<std::string> server::mechanisms() const {
  const char* list = nullptr;
  int rc = sasl_listmech(conn_->c, nullptr, "", ",", "", &list, nullptr, nullptr);
  if (rc != SASL_OK || !list)
    return make_virt_error(error_code::internal_error, error_domain::rpc,
                           "internal error: cannot list SASL mechanisms " + describe(rc, conn_->c));
  return std::string{list};
}

result<step_result> server::start(const std::string& mech, const std::optional<std::string>& in) {
  const char* out = nullptr;
  unsigned out_len = 0;
  int rc = sasl_server_start(conn_->c, mech.c_str(), in ? in->data() : nullptr,
                             in ? static_cast<unsigned>(in->size()) : 0, &out, &out_len);
  return outcome(rc, out, out_len, conn_->c, "Failed to start SASL negotiation");
}

result<step_result> server::step(const std::optional<std::string>& in) {
  const char* out = nullptr;
  unsigned out_len = 0;
  int rc = sasl_server_step(conn_->c, in ? in->data() : nullptr,
                            in ? static_cast<unsigned>(in->size()) : 0, &out, &out_len);
  return outcome(rc, out, out_len, conn_->c, "Failed to step SASL negotiation");
}

int server::ssf() const {
  return conn_->ssf();
}

result<std::string> server::username() const {
  const void* val = nullptr;
  if (int rc = sasl_getprop(conn_->c, SASL_USERNAME, &val); rc != SASL_OK)
    return auth_error("cannot query SASL username on connection " + describe(rc, conn_->c));
  if (!val)
    return auth_error("no client username was found");
  return std::string{static_cast<const char*>(val)};
}

std::shared_ptr<stream_codec> server::layer() const {
  return make_layer(conn_);
}

// --- client -----------------------------------------------------------------

result<std::unique_ptr<client>> client::make(const std::string& hostname, const stream_peer& peer,
                                             security sec,
                                             std::shared_ptr<const connect_auth> auth) {
  if (auto ok = init_once(false); !ok)
    return ok.error();
  auto c = std::make_shared<conn>();
  c->local_addr = peer.local_addr;
  c->remote_addr = peer.remote_addr;
  c->hostname = hostname;
  // One callback per credential the caller can give, without a function:
  // SASL then returns SASL_INTERACT and every question goes to the caller at
  // once (libvirt's remoteAuthMakeCallbacks).
  if (auth && auth->callback)
    for (auto t : auth->types)
      if (auto id = to_sasl(t))
        c->callbacks.push_back(sasl_callback_t{id, nullptr, nullptr});
  c->callbacks.push_back(sasl_callback_t{SASL_CB_LIST_END, nullptr, nullptr});
  int rc = sasl_client_new("libvirt", or_null(c->hostname), or_null(c->local_addr),
                           or_null(c->remote_addr), c->callbacks.data(), SASL_SUCCESS_DATA, &c->c);
  if (rc != SASL_OK)
    return auth_error("Failed to create SASL client context: " + describe(rc, nullptr));
  if (auto ok = c->set_security(sec); !ok)
    return ok.error();
  return std::unique_ptr<client>{new client{std::move(c), std::move(auth)}};
}

client::~client() = default;

result<void> client::interact(void* prompts) {
  auto list = static_cast<sasl_interact_t*>(prompts);
  conn_->forget_answers();
  std::vector<credential> creds;
  std::vector<sasl_interact_t*> asked;
  for (auto p = list; p && p->id != SASL_CB_LIST_END; ++p) {
    if (p->result)
      continue;
    auto type = to_credential(p->id);
    if (!type)
      return auth_error("Failed to make auth credentials");
    credential cr;
    cr.type = *type;
    cr.prompt = p->prompt ? p->prompt : "";
    if (p->challenge)
      cr.challenge = std::string{p->challenge};
    if (p->defresult)
      cr.default_result = std::string{p->defresult};
    creds.push_back(std::move(cr));
    asked.push_back(p);
  }
  if (!auth_ || !auth_->callback)
    return auth_error("No authentication callback available");
  if (!auth_->callback(creds))
    return auth_error("Failed to collect auth credentials");
  for (size_t i = 0; i < asked.size(); ++i) {
    conn_->answers.push_back(creds[i].result.value_or(""));
    if (creds[i].result)
      std::fill(creds[i].result->begin(), creds[i].result->end(), '\0');
    asked[i]->result = conn_->answers.back().c_str();
    asked[i]->len = static_cast<unsigned>(conn_->answers.back().size());
  }
  return {};
}

result<step_result> client::start(const std::string& mechlist, std::string& mech) {
  sasl_interact_t* prompts = nullptr;
  // SASL names the mechanism on its first call; a call repeated after an
  // interaction may leave it unset.
  const char* chosen = nullptr;
  for (;;) {
    const char* out = nullptr;
    unsigned out_len = 0;
    int rc = sasl_client_start(conn_->c, mechlist.c_str(), &prompts, &out, &out_len, &chosen);
    if (rc == SASL_INTERACT) {
      if (auto ok = interact(prompts); !ok)
        return ok.error();
      continue;
    }
    if (chosen)
      mech = chosen;
    return outcome(rc, out, out_len, conn_->c, "Failed to start SASL negotiation");
  }
}

result<step_result> client::step(const std::optional<std::string>& in) {
  sasl_interact_t* prompts = nullptr;
  for (;;) {
    const char* out = nullptr;
    unsigned out_len = 0;
    int rc = sasl_client_step(conn_->c, in ? in->data() : nullptr,
                              in ? static_cast<unsigned>(in->size()) : 0, &prompts, &out,
                              &out_len);
    if (rc == SASL_INTERACT) {
      if (auto ok = interact(prompts); !ok)
        return ok.error();
      continue;
    }
    return outcome(rc, out, out_len, conn_->c, "Failed to step SASL negotiation");
  }
}

int client::ssf() const {
  return conn_->ssf();
}

std::shared_ptr<stream_codec> client::layer() const {
  return make_layer(conn_);
}

} // namespace virtactor::sasl
